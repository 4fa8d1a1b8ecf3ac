/**
 * clock — injectable time for timers: today the supervisor's backoff and restart
 * windows, request deadlines (actor-ref, pending-table), worker start timeouts and
 * heartbeats, and the cloud plan's refresh and expiry timers (actors/cloud/plan-lifecycle.ts).
 * Not (yet) on it: actor ticks (`ctx.setInterval`, e.g. the 10 ms cloud tick), the P2P
 * keep-alive and the uploader's backoff use raw timers; the recorder's 120 s pause takes
 * an injected `now()` instead.
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
