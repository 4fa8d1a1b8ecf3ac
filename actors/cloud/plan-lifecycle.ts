/**
 * plan-lifecycle — the cloud plan over time, on the main thread: the cached plan (in
 * memory and `<spoolDir>/plan-cache.json`, so a device booting during a cloud outage
 * records by the last plan it knew), the query that replaces it, the refresh timer
 * (every `refreshS`, every 30 s at most until a plan was ever fetched), the expiry timer
 * (re-evaluated just after the next `expiresAt`), and full-time switching: while
 * attached, `onFullTime(on)` is called once each time the full-time plan becomes valid
 * or lapses, and `onEvaluated` after every evaluation (an event plan's lapse too).
 *
 * Timers run on the injected `Clock` (default: the system clock, timers that do not keep
 * the process alive); plan times are wall-clock ms from `wallNow` (default Date.now).
 * Owns: the plan, its cache file, both timers, the full-time state.
 * Must never: invent a plan (no answer ever received = no service), call `onFullTime`
 * while detached or twice with the same value, or let a failed query drop the cache.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { systemClock, type Clock, type TimerHandle } from '../../runtime/clock.js';
import type { BalanceResult } from './cloud-params.js';
import { activeServices, fetchPlan, NO_PLAN, NO_TRIAL, planExpiries, type BalanceInfo, type PlanSource } from './plan.js';

export interface PlanLifecycleOptions {
  source: PlanSource;
  /** Where the last plan fetched is kept across restarts. */
  cachePath: string;
  /** Refresh period, s. */
  refreshS: number;
  /** Timeout of a refresh query, s (read at each refresh). */
  refreshTimeoutS: () => number;
  onFullTime: (on: boolean) => void;
  /** After every evaluation while attached (a plan fetched, an expiry passed): whether any service is active may have changed. */
  onEvaluated?: () => void;
  /** One line per failure (query, cache write). */
  problem: (text: string) => void;
  clock?: Clock;
  wallNow?: () => number;
}

/** The system clock, with timers unref'd: a plan timer alone never keeps the process alive. */
const backgroundClock: Clock = {
  now: systemClock.now,
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref() as unknown as TimerHandle,
  clearTimeout: systemClock.clearTimeout,
};

export class PlanLifecycle {
  private plan: BalanceInfo;
  private on = false;
  private attached = false;
  private refreshTimer: TimerHandle | undefined;
  private expiryTimer: TimerHandle | undefined;
  private readonly clock: Clock;
  private readonly wallNow: () => number;

  constructor(private readonly opts: PlanLifecycleOptions) {
    this.clock = opts.clock ?? backgroundClock;
    this.wallNow = opts.wallNow ?? Date.now;
    this.plan = loadPlanCache(opts.cachePath) ?? NO_PLAN;
  }

  /** The plan as last known (fetched or cached). */
  get info(): BalanceInfo {
    return this.plan;
  }

  /** Whether full-time recording is on (only ever true while attached). */
  get fullTime(): boolean {
    return this.on;
  }

  /** Some service (full-time or event, paid or a free trial) is active now. */
  anyService(now = this.wallNow()): boolean {
    const a = activeServices(this.plan, now);
    return a.fullTime || a.event;
  }

  /** Ask the plan source; on failure the cached plan is returned with the timeout code. */
  async query(timeoutS: number): Promise<BalanceResult> {
    try {
      const info = await fetchPlan(this.opts.source, timeoutS * 1000);
      this.apply(info);
      return { code: 'IV_ERR_NONE', info };
    } catch (err) {
      this.opts.problem(`plan query failed: ${(err as Error).message}`);
      return { code: 'IV_ERR_CS_QUERY_SERVICE_TIMEOUT', info: this.plan };
    }
  }

  /** From now on full-time switching reaches `onFullTime`. */
  attach(): void {
    this.attached = true;
  }

  /** Evaluate the plan now (also when the query failed: the cached plan decides) and refresh it periodically. */
  start(): void {
    this.evaluate();
    this.scheduleRefresh();
  }

  /** Stop both timers. */
  stop(): void {
    this.clearRefresh();
    this.clearExpiry();
  }

  /** No more `onFullTime`; full-time is off without a call (the owner has stopped recording). */
  detach(): void {
    this.attached = false;
    this.on = false;
  }

  private apply(info: BalanceInfo): void {
    this.plan = info;
    try {
      mkdirSync(dirname(this.opts.cachePath), { recursive: true });
      writeFileSync(this.opts.cachePath, JSON.stringify(info));
    } catch (err) {
      this.opts.problem(`plan cache not written: ${(err as Error).message}`);
    }
    this.evaluate();
  }

  /** Full-time recording follows the plan: on when it becomes valid, off when it lapses. */
  private evaluate(): void {
    this.clearExpiry();
    const now = this.wallNow();
    const on = activeServices(this.plan, now).fullTime;
    const expiries = planExpiries(this.plan, now);
    if (expiries.length > 0) {
      this.expiryTimer = this.clock.setTimeout(() => this.evaluate(), Math.min(...expiries) - now + 5);
    }
    if (!this.attached) {
      return;
    }
    if (on !== this.on) {
      this.on = on;
      this.opts.onFullTime(on);
    }
    this.opts.onEvaluated?.();
  }

  private scheduleRefresh(): void {
    this.clearRefresh();
    const everyMs = this.opts.refreshS * 1000;
    // until a plan was ever fetched, retry sooner
    const ms = this.plan.fetchedAt === 0 ? Math.min(everyMs, 30_000) : everyMs;
    this.refreshTimer = this.clock.setTimeout(() => {
      void this.query(this.opts.refreshTimeoutS()).finally(() => {
        if (this.attached) {
          this.scheduleRefresh();
        }
      });
    }, ms);
  }

  private clearRefresh(): void {
    if (this.refreshTimer !== undefined) {
      this.clock.clearTimeout(this.refreshTimer);
      this.refreshTimer = undefined;
    }
  }

  private clearExpiry(): void {
    if (this.expiryTimer !== undefined) {
      this.clock.clearTimeout(this.expiryTimer);
      this.expiryTimer = undefined;
    }
  }
}

function loadPlanCache(path: string): BalanceInfo | undefined {
  try {
    const raw = JSON.parse(readFileSync(path, 'utf8')) as Partial<BalanceInfo>;
    // a cache from before free trials has none
    return typeof raw.fetchedAt === 'number' && raw.fullTime && raw.event ? { ...(raw as BalanceInfo), freeTrial: raw.freeTrial ?? NO_TRIAL } : undefined;
  } catch {
    return undefined;
  }
}
