/**
 * clock — injectable time for everything that has a timer (supervisor backoff and
 * restart windows, request deadlines, heartbeats, later the spec's 10 ms tick,
 * keep-alive, 120 s pause and 1 h plan cache).
 *
 * Owns: the `Clock` interface, the real `systemClock`, and `ManualClock` for tests.
 * Must never: read wall-clock time behind a caller's back (take a Clock instead).
 */

export type TimerHandle = { readonly __timer: unique symbol };

export interface Clock {
  /** Monotonic milliseconds. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms) as unknown as TimerHandle,
  clearTimeout: (handle) => clearTimeout(handle as unknown as NodeJS.Timeout),
};

interface ManualTimer {
  at: number;
  order: number;
  fn: () => void;
}

/** A clock that moves only when the test calls `advance`. */
export class ManualClock implements Clock {
  private current: number;
  private order = 0;
  private readonly timers = new Map<number, ManualTimer>();

  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.order;
    this.timers.set(id, { at: this.current + Math.max(0, ms), order: id, fn });
    return id as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as unknown as number);
  }

  /** Number of timers not yet fired. */
  get pending(): number {
    return this.timers.size;
  }

  /** Move time forward, firing due timers in time order (then creation order). */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      let next: [number, ManualTimer] | undefined;
      for (const entry of this.timers) {
        if (entry[1].at <= target && (next === undefined || entry[1].at < next[1].at ||
          (entry[1].at === next[1].at && entry[1].order < next[1].order))) {
          next = entry;
        }
      }
      if (next === undefined) {
        break;
      }
      this.timers.delete(next[0]);
      this.current = next[1].at;
      next[1].fn();
    }
    this.current = target;
  }
}
