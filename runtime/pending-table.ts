/**
 * pending-table — requests sent and not yet answered.
 *
 * Owns: request ids (positive int32 that wrap, never reusing one still pending), one
 * deadline timer per request, and settling each request exactly once (response,
 * deadline or close).
 * Must never: grow without bound (a full table refuses with IV_ERR_BUSY), or leave a
 * promise unsettled after `closeAll`.
 */
import type { Clock, TimerHandle } from './clock.js';
import { IvError } from './errors.js';

interface Pending {
  method: string;
  target: string;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
  timer: TimerHandle | undefined;
}

const MAX_ID = 0x7fffffff;

export class PendingTable {
  private readonly entries = new Map<number, Pending>();
  private lastId = 0;

  constructor(
    private readonly clock: Clock,
    private readonly capacity = 65_536,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** Register a request; the promise settles on `settle`, the deadline, or `closeAll`. */
  add(method: string, target: string, timeoutMs: number): { id: number; promise: Promise<unknown> } {
    if (this.entries.size >= this.capacity) {
      throw new IvError('IV_ERR_BUSY', `${this.capacity} requests already pending; ${method} to ${target} refused`);
    }
    let id = this.lastId;
    do {
      id = id >= MAX_ID ? 1 : id + 1;
    } while (this.entries.has(id));
    this.lastId = id;
    let resolve!: (value: unknown) => void;
    let reject!: (err: unknown) => void;
    const promise = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const entry: Pending = { method, target, resolve, reject, timer: undefined };
    if (timeoutMs > 0 && Number.isFinite(timeoutMs)) {
      entry.timer = this.clock.setTimeout(() => {
        if (this.entries.get(id) === entry) {
          this.entries.delete(id);
          reject(new IvError('IV_ERR_REQUEST_TIMEOUT', `${method} #${id} to ${target}: no response within ${timeoutMs} ms`));
        }
      }, timeoutMs);
    }
    this.entries.set(id, entry);
    return { id, promise };
  }

  /** Settle request `id`; returns false when it is not pending (late or unknown response). */
  settle(id: number, error: Error | undefined, value?: unknown): boolean {
    const entry = this.entries.get(id);
    if (entry === undefined) {
      return false;
    }
    this.entries.delete(id);
    if (entry.timer !== undefined) {
      this.clock.clearTimeout(entry.timer);
    }
    if (error) {
      entry.reject(error);
    } else {
      entry.resolve(value);
    }
    return true;
  }

  /** Reject every pending request with an error naming its method and id. */
  closeAll(code: 'IV_ERR_CLOSED' | 'IV_ERR_WORKER_DIED' | 'IV_ERR_WORKER_HUNG' | 'IV_ERR_WORKER_OOM', why: string): void {
    const all = [...this.entries];
    this.entries.clear();
    for (const [id, entry] of all) {
      if (entry.timer !== undefined) {
        this.clock.clearTimeout(entry.timer);
      }
      entry.reject(new IvError(code, `${entry.method} #${id} to ${entry.target}: ${why}`));
    }
  }
}
