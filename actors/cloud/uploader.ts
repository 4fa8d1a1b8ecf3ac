/**
 * uploader — moves the local recording's pending objects (the spool) to the cloud store, oldest
 * first, a few at a time, each PUT bounded by the upload timeout; a failure backs off
 * (250 ms doubling to 10 s) and retries forever: accepted data is never dropped.
 * A pending object is forgotten only after the store confirmed that exact version. An
 * object is read from the local recording in parts as it goes out (object-store.ts), so
 * an upload holds two 64 KiB buffers at most, whatever the segment's size.
 *
 * Owns: the in-flight set, the backoff state, upload statistics.
 * Must never: confirm an object the store did not acknowledge, or upload two versions
 * of one key at once.
 */
import type { ObjectStore } from './object-store.js';
import type { PendingEntry, RecordingStore } from '../../recording/recording-store.js';

export interface UploaderOptions {
  concurrency: number;
  uploadTimeoutMs: number;
  backoffMs?: readonly number[];
  onConfirmed?: (key: string) => void;
  onFailed?: (key: string, err: Error, attempt: number) => void;
}

export interface UploadStats {
  uploadedObjects: number;
  uploadedBytes: number;
  failures: number;
  inFlight: number;
  pending: number;
  pendingBytes: number;
  lastError: string | undefined;
}

const DEFAULT_BACKOFF = [250, 500, 1_000, 2_000, 5_000, 10_000] as const;

export function contentTypeOf(key: string): string {
  if (key.endsWith('.m4s')) {return 'video/iso.segment';}
  if (key.endsWith('.mp4')) {return 'video/mp4';}
  if (key.endsWith('.m3u8')) {return 'application/vnd.apple.mpegurl';}
  if (key.endsWith('.json')) {return 'application/json';}
  if (key.endsWith('.jpg')) {return 'image/jpeg';}
  return 'application/octet-stream';
}

export class Uploader {
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly attempts = new Map<string, number>();
  private failuresInARow = 0;
  private retryAt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly idleWaiters: (() => void)[] = [];
  readonly stats: Omit<UploadStats, 'inFlight' | 'pending' | 'pendingBytes'> = { uploadedObjects: 0, uploadedBytes: 0, failures: 0, lastError: undefined };

  constructor(private readonly recording: RecordingStore, private readonly store: ObjectStore, private opts: UploaderOptions) {}

  start(): void {
    this.running = true;
    this.kick();
  }

  setUploadTimeout(ms: number): void {
    this.opts = { ...this.opts, uploadTimeoutMs: ms };
  }

  /** Something was accepted (or a retry is due): start uploads if slots are free. */
  kick(): void {
    if (!this.running) {
      return;
    }
    const wait = this.retryAt - Date.now();
    if (wait > 0) {
      this.retryTimer ??= setTimeout(() => {
        this.retryTimer = undefined;
        this.kick();
      }, wait);
      return;
    }
    for (const entry of this.recording.pendingEntries()) {
      if (this.inFlight.size >= this.opts.concurrency) {
        break;
      }
      if (!this.inFlight.has(entry.key)) {
        const p = this.upload({ ...entry }).finally(() => {
          this.inFlight.delete(entry.key);
          this.kick();
          this.notifyIdle();
        });
        this.inFlight.set(entry.key, p);
      }
    }
    this.notifyIdle();
  }

  private async upload(entry: PendingEntry): Promise<void> {
    try {
      const obj = await this.recording.openObject(entry.key);
      try {
        await this.store.put(entry.key, obj, contentTypeOf(entry.key), this.opts.uploadTimeoutMs);
      } finally {
        await obj.file.close();
      }
      this.failuresInARow = 0;
      this.attempts.delete(entry.key);
      this.stats.uploadedObjects++;
      this.stats.uploadedBytes += obj.size;
      if (await this.recording.confirm(entry.key, entry.generation)) {
        this.opts.onConfirmed?.(entry.key);
      }
    } catch (err) {
      const attempt = (this.attempts.get(entry.key) ?? 0) + 1;
      this.attempts.set(entry.key, attempt);
      this.stats.failures++;
      this.stats.lastError = `${entry.key}: ${(err as Error).message}`;
      const backoff = this.opts.backoffMs ?? DEFAULT_BACKOFF;
      this.retryAt = Date.now() + (backoff[Math.min(this.failuresInARow, backoff.length - 1)] ?? 1_000);
      this.failuresInARow++;
      this.opts.onFailed?.(entry.key, err as Error, attempt);
    }
  }

  snapshot(): UploadStats {
    return { ...this.stats, inFlight: this.inFlight.size, pending: this.recording.pendingCount, pendingBytes: this.recording.pendingBytes };
  }

  /** Resolves when nothing is pending (true) or after `timeoutMs` (false). */
  drain(timeoutMs: number): Promise<boolean> {
    if (this.recording.pendingCount === 0 && this.inFlight.size === 0) {
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  private notifyIdle(): void {
    if (this.recording.pendingCount === 0 && this.inFlight.size === 0) {
      for (const w of this.idleWaiters.splice(0)) {
        w();
      }
    }
  }

  /** Stop starting uploads; waits for the ones in flight. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
    await Promise.allSettled([...this.inFlight.values()]);
  }
}
