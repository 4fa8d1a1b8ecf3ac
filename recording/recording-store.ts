/**
 * recording-store — the gateway's local recording: every object the recorder makes
 * (segments, playlists, event records, snapshots) is written here durably before
 * accept() returns, stays marked "pending" until the cloud store confirms it (the
 * pending objects are the spool: the recording's not-yet-uploaded part), and is kept
 * afterwards under a retention policy (playback reads it).
 *
 *   <root>/objects/<key>           the object itself (latest version of the key)
 *   <root>/pending/<key, / → ~>     empty marker: not yet confirmed by the cloud store
 *
 * accept(): marker first (file + directory fsync), then the object (temp file, fsync,
 * rename, directory fsync). A crash between the two leaves a marker without an object:
 * open() drops it, since that accept() never returned. A key accepted again while its
 * upload is in flight gets a new generation; confirm() of the old generation keeps the
 * marker, so the newest version is uploaded too.
 *
 * Owns: both directories and the in-memory pending queue (oldest first).
 * Must never: remove a pending object, whatever the retention says, or drop a marker
 * whose object exists before the store confirmed that exact version.
 */
import { mkdir, open, readdir, readFile, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir, writeFileDurable } from './fs-durable.js';
import { filesUnder } from './fs-tree.js';
import { checkKey } from './keys.js';

export interface Retention {
  /** Uploaded objects older than this are removed (0 = keep forever). */
  maxAgeS: number;
  /** Uploaded objects are removed, oldest first, while the recording is larger (0 = no bound). */
  maxBytes: number;
}

export interface PendingEntry {
  key: string;
  generation: number;
  bytes: number;
}

const markerName = (key: string): string => key.replaceAll('/', '~');
const keyOfMarker = (name: string): string => name.replaceAll('~', '/');

export class RecordingStore {
  private readonly pending = new Map<string, PendingEntry>();
  private nextGeneration = 1;
  private readonly objectsDir: string;
  private readonly pendingDir: string;

  private constructor(readonly root: string, readonly retention: Retention) {
    this.objectsDir = join(root, 'objects');
    this.pendingDir = join(root, 'pending');
  }

  /** Open (or create) a store; pending objects of an earlier run are queued again, oldest first. */
  static async open(root: string, retention: Retention = { maxAgeS: 0, maxBytes: 0 }): Promise<RecordingStore> {
    const s = new RecordingStore(root, retention);
    await mkdir(s.objectsDir, { recursive: true });
    await mkdir(s.pendingDir, { recursive: true });
    const found: { key: string; mtimeMs: number; bytes: number }[] = [];
    for (const name of await readdir(s.pendingDir)) {
      if (name.endsWith('.tmp')) {
        await rm(join(s.pendingDir, name), { force: true });
        continue;
      }
      const key = keyOfMarker(name);
      try {
        const st = await stat(join(s.objectsDir, key));
        const marker = await stat(join(s.pendingDir, name));
        found.push({ key, mtimeMs: Math.max(st.mtimeMs, marker.mtimeMs), bytes: st.size });
      } catch {
        await unlink(join(s.pendingDir, name)); // accept() never completed
      }
    }
    found.sort((a, b) => a.mtimeMs - b.mtimeMs || a.key.localeCompare(b.key));
    for (const f of found) {
      s.pending.set(f.key, { key: f.key, generation: s.nextGeneration++, bytes: f.bytes });
    }
    await fsyncDir(s.pendingDir);
    return s;
  }

  /** Store `bytes` under `key` durably and queue it for upload (again, if it was pending). */
  async accept(key: string, bytes: Uint8Array): Promise<void> {
    checkKey(key);
    const had = this.pending.get(key);
    if (!had) {
      const fh = await open(join(this.pendingDir, markerName(key)), 'w');
      await fh.close();
      await fsyncDir(this.pendingDir);
    }
    await writeFileDurable(join(this.objectsDir, key), bytes);
    this.pending.delete(key); // re-insert: a new version goes to the back of the queue
    this.pending.set(key, { key, generation: this.nextGeneration++, bytes: bytes.byteLength });
  }

  /** Pending objects, oldest first. */
  pendingEntries(): IterableIterator<PendingEntry> {
    return this.pending.values();
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  get pendingBytes(): number {
    let n = 0;
    for (const e of this.pending.values()) {
      n += e.bytes;
    }
    return n;
  }

  isPending(key: string): boolean {
    return this.pending.has(key);
  }

  async read(key: string): Promise<Uint8Array> {
    checkKey(key);
    return readFile(join(this.objectsDir, key));
  }

  /** The store confirmed `generation` of `key`: forget the marker unless a newer version came. */
  async confirm(key: string, generation: number): Promise<boolean> {
    const e = this.pending.get(key);
    if (!e || e.generation !== generation) {
      return false;
    }
    this.pending.delete(key);
    await unlink(join(this.pendingDir, markerName(key)));
    await fsyncDir(this.pendingDir);
    return true;
  }

  /** Every object key under `prefix`, sorted. */
  async list(prefix = ''): Promise<string[]> {
    return (await filesUnder(this.objectsDir)).map((f) => f.key).filter((k) => k.startsWith(prefix)).sort();
  }

  /** Apply the retention policy to confirmed objects; returns the keys removed. */
  async prune(nowMs = Date.now()): Promise<string[]> {
    const { maxAgeS, maxBytes } = this.retention;
    if (maxAgeS <= 0 && maxBytes <= 0) {
      return [];
    }
    const files = (await filesUnder(this.objectsDir)).sort((a, b) => a.mtimeMs - b.mtimeMs);
    let total = files.reduce((n, f) => n + f.bytes, 0);
    const removed: string[] = [];
    for (const f of files) {
      if (this.pending.has(f.key)) {
        continue;
      }
      const tooOld = maxAgeS > 0 && nowMs - f.mtimeMs > maxAgeS * 1000;
      const tooBig = maxBytes > 0 && total > maxBytes;
      if (!tooOld && !tooBig) {
        continue;
      }
      await rm(join(this.objectsDir, f.key), { force: true });
      total -= f.bytes;
      removed.push(f.key);
    }
    return removed;
  }
}
