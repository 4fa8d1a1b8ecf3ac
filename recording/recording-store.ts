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
 * accept() (a whole object) and create() (an object written in parts as they come: the
 * recorder streams a segment's fragments into it) end the same way: marker first (file +
 * directory fsync), then the object (temp file, fsync, rename, directory fsync). A crash
 * between the two leaves a marker without an object: open() drops it, since that accept
 * never returned; a crash while an object is written leaves its temp file: open()
 * removes it. A key accepted again while its
 * upload is in flight gets a new generation; confirm() of the old generation keeps the
 * marker, so the newest version is uploaded too.
 *
 * Owns: both directories and the in-memory pending queue (oldest first).
 * Must never: remove a pending object, whatever the retention says, or drop a marker
 * whose object exists before the store confirmed that exact version.
 */
import { mkdir, open, readdir, readFile, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir, openDurable, writeWhole } from './fs-durable.js';
import { filesUnder, removeUnfinished } from './fs-tree.js';
import { checkKey } from './keys.js';

export interface Retention {
  /** Uploaded objects older than this are removed (0 = keep forever). */
  maxAgeS: number;
  /** Uploaded objects are removed, oldest first, while the recording is larger (0 = no bound). */
  maxBytes: number;
}

/** An object being written in parts; it is accepted (durable, queued for upload) at commit. */
export interface ObjectWriter {
  write(data: Uint8Array): Promise<void>;
  commit(): Promise<void>;
  /** Give up: nothing is accepted, the earlier version (if any) stays. */
  abort(): Promise<void>;
}

/** A stored object opened for reading: the caller reads it in parts and closes it. */
export interface OpenObject {
  file: FileHandle;
  size: number;
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
    await removeUnfinished(s.objectsDir);
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
    await writeWhole(await this.create(key), bytes);
  }

  /** Start writing `key` in parts; commit() accepts it as accept() does. */
  async create(key: string): Promise<ObjectWriter> {
    checkKey(key);
    const file = await openDurable(join(this.objectsDir, key));
    return {
      write: (data) => file.write(data),
      abort: () => file.abort(),
      commit: async () => {
        if (!this.pending.has(key)) {
          const fh = await open(join(this.pendingDir, markerName(key)), 'w');
          await fh.close();
          await fsyncDir(this.pendingDir);
        }
        await file.commit();
        this.pending.delete(key); // re-insert: a new version goes to the back of the queue
        this.pending.set(key, { key, generation: this.nextGeneration++, bytes: file.bytes });
      },
    };
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

  /** The object's current version, open for reading in parts (the uploader streams it); a later accept of the key does not change what this handle reads. */
  async openObject(key: string): Promise<OpenObject> {
    checkKey(key);
    const file = await open(join(this.objectsDir, key), 'r');
    try {
      return { file, size: (await file.stat()).size };
    } catch (err) {
      await file.close();
      throw err;
    }
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
