/**
 * supervisor — OTP-style supervision of anything that can start, stop and exit.
 *
 * Owns: child specs (permanent / transient / temporary, optionally pinned), the
 * strategies one_for_one, rest_for_one and one_for_all, restart intensity (at most
 * `maxRestarts` in `withinMs`, then escalate), stepped backoff, ordered start, reverse
 * stop with a shutdown timeout, and an event for every start, exit, restart,
 * escalation and stop.
 *
 * A Supervisor is itself a Child, so trees nest: when it escalates it stops its
 * children and exits abnormally, and its parent decides.
 *
 * Must never: restart a pinned child, loop on a child that fails while starting
 * (start failures count against the intensity like exits), act on an exit from a
 * child incarnation it already replaced, or run two restarts at once.
 */
import { systemClock, type Clock } from './clock.js';
import { IvError, isIvError } from './errors.js';
import { TypedEmitter } from './typed-emitter.js';

export type RestartPolicy = 'permanent' | 'transient' | 'temporary';
export type Strategy = 'one_for_one' | 'rest_for_one' | 'one_for_all';

export interface ExitInfo {
  /** True for a requested, clean exit. */
  normal: boolean;
  /** Short machine word: normal, shutdown, crash, hang, oom, fault, protocol, exit, escalated ... */
  reason: string;
  error?: IvError;
}

export type SupervisorEventType = 'start' | 'start-failed' | 'exit' | 'restart' | 'escalate' | 'stop' | 'shutdown-timeout';

export interface SupervisorEvent {
  type: SupervisorEventType;
  /** Path of the supervisor that saw it, e.g. `root/capture`. */
  supervisor: string;
  child: string;
  reason?: string;
  error?: IvError;
  /** For restarts: how many restarts inside the current window, this one included. */
  attempt?: number;
  delayMs?: number;
  at: number;
}

export interface Child {
  /** Graceful stop; must settle within about timeoutMs (killing if needed). No exit is reported for it. */
  stop(timeoutMs: number): Promise<void>;
  /** Immediate, brutal stop. */
  kill(): void;
  /** Called at most once, when the child exits without being asked to. */
  onExit(listener: (info: ExitInfo) => void): void;
}

export interface ChildSpec {
  id: string;
  start(): Promise<Child>;
  restart: RestartPolicy;
  /** Never restarted: its abnormal exit escalates at once. */
  pinned?: boolean;
  shutdownMs?: number;
}

export interface Intensity {
  maxRestarts: number;
  withinMs: number;
}

export interface SupervisorOptions {
  id: string;
  strategy: Strategy;
  intensity?: Intensity;
  /** Delay before restart number k (1-based) inside the window: backoffMs[min(k-1, last)]. */
  backoffMs?: readonly number[];
  clock?: Clock;
  /** Prefix for event paths (set by a parent). */
  parentPath?: string;
  /** Also send every event here (how a nested supervisor reports to the tree's owner from its first event on). */
  report?: (event: SupervisorEvent) => void;
}

type Status = 'idle' | 'running' | 'stopping' | 'restarting' | 'stopped';

interface Entry {
  spec: ChildSpec;
  child: Child | undefined;
  status: Status;
  /** Bumped on every (re)start; exits from older incarnations are ignored. */
  incarnation: number;
}

const DEFAULT_INTENSITY: Intensity = { maxRestarts: 3, withinMs: 5_000 };
const DEFAULT_BACKOFF: readonly number[] = [0, 50, 250, 1_000];
const DEFAULT_SHUTDOWN_MS = 5_000;

export class Supervisor extends TypedEmitter<{ event: [SupervisorEvent] }> implements Child {
  readonly id: string;
  readonly path: string;
  private readonly entries: Entry[];
  private readonly intensity: Intensity;
  private readonly backoff: readonly number[];
  private readonly clock: Clock;
  private readonly strategy: Strategy;
  private restarts: number[] = [];
  private state: 'idle' | 'running' | 'stopping' | 'stopped' | 'failed' = 'idle';
  private exitListeners: ((info: ExitInfo) => void)[] = [];
  private queue: Promise<void> = Promise.resolve();
  private pendingDelays = new Set<{ cancel(): void }>();
  private readonly report: ((event: SupervisorEvent) => void) | undefined;

  constructor(opts: SupervisorOptions, specs: readonly ChildSpec[]) {
    super();
    const ids = new Set<string>();
    for (const spec of specs) {
      if (ids.has(spec.id)) {
        throw new IvError('IV_ERR_INVALID_PARAM', `duplicate child id ${spec.id} in supervisor ${opts.id}`, { field: 'specs.id' });
      }
      ids.add(spec.id);
    }
    this.id = opts.id;
    this.path = opts.parentPath ? `${opts.parentPath}/${opts.id}` : opts.id;
    this.strategy = opts.strategy;
    this.intensity = opts.intensity ?? DEFAULT_INTENSITY;
    this.backoff = opts.backoffMs && opts.backoffMs.length > 0 ? opts.backoffMs : DEFAULT_BACKOFF;
    this.clock = opts.clock ?? systemClock;
    this.report = opts.report;
    this.entries = specs.map((spec) => ({ spec, child: undefined, status: 'idle', incarnation: 0 }));
  }

  get running(): boolean {
    return this.state === 'running';
  }

  /** Status of every child, in start order. */
  children(): { id: string; status: Status; restart: RestartPolicy }[] {
    return this.entries.map((e) => ({ id: e.spec.id, status: e.status, restart: e.spec.restart }));
  }

  child(id: string): Child | undefined {
    return this.entries.find((e) => e.spec.id === id)?.child;
  }

  /** Start one more child at the end of the start order (dynamic children, e.g. one per app peer). */
  async startChild(spec: ChildSpec): Promise<Child> {
    if (this.state !== 'running') {
      throw new IvError('IV_ERR_CLOSED', `supervisor ${this.path} is not running`);
    }
    if (this.entries.some((e) => e.spec.id === spec.id && e.status !== 'stopped')) {
      throw new IvError('IV_ERR_INVALID_PARAM', `child ${spec.id} already exists in supervisor ${this.path}`, { field: 'spec.id' });
    }
    const old = this.entries.findIndex((e) => e.spec.id === spec.id);
    if (old >= 0) {
      this.entries.splice(old, 1);
    }
    const entry: Entry = { spec, child: undefined, status: 'idle', incarnation: 0 };
    this.entries.push(entry);
    try {
      await this.startEntry(entry);
    } catch (err) {
      this.entries.splice(this.entries.indexOf(entry), 1);
      throw err;
    }
    return entry.child as Child;
  }

  /** Stop a child and forget it. Returns false when there is no such child. */
  async stopChild(id: string, timeoutMs?: number): Promise<boolean> {
    const entry = this.entries.find((e) => e.spec.id === id);
    if (entry === undefined) {
      return false;
    }
    await this.queue.catch(() => undefined);
    entry.status = 'stopping';
    await this.stopEntry(entry, timeoutMs);
    this.entries.splice(this.entries.indexOf(entry), 1);
    return true;
  }

  /** Start every child in order; if one fails, stop the started ones in reverse and reject. */
  async start(): Promise<this> {
    if (this.state !== 'idle') {
      throw new IvError('IV_ERR_ALREADY_INITIALIZED', `supervisor ${this.path} was already started`);
    }
    this.state = 'running';
    for (let i = 0; i < this.entries.length; i++) {
      const entry = this.entries[i] as Entry;
      try {
        await this.startEntry(entry);
      } catch (err) {
        entry.status = 'stopped';
        this.state = 'stopping';
        await this.stopRange(0, i);
        this.state = 'stopped';
        throw err;
      }
    }
    return this;
  }

  /** Stop every child in reverse start order; children that overrun their timeout are killed. */
  async stop(timeoutMs?: number): Promise<void> {
    if (this.state === 'stopped' || this.state === 'failed') {
      return;
    }
    this.state = 'stopping';
    this.cancelDelays();
    await this.queue.catch(() => undefined);
    await this.stopRange(0, this.entries.length, timeoutMs);
    this.state = 'stopped';
  }

  kill(): void {
    this.state = 'stopped';
    this.cancelDelays();
    for (const entry of [...this.entries].reverse()) {
      entry.status = 'stopped';
      entry.child?.kill();
    }
  }

  onExit(listener: (info: ExitInfo) => void): void {
    this.exitListeners.push(listener);
  }

  private event(type: SupervisorEventType, child: string, extra: Partial<SupervisorEvent> = {}): void {
    const ev: SupervisorEvent = { type, supervisor: this.path, child, at: this.clock.now(), ...extra };
    this.emit('event', ev);
    if (this.report) {
      try {
        this.report(ev);
      } catch (err) {
        this.reportListenerError('report', err);
      }
    }
  }

  private async startEntry(entry: Entry): Promise<void> {
    const incarnation = ++entry.incarnation;
    let child: Child;
    try {
      child = await entry.spec.start();
    } catch (err) {
      const error = isIvError(err) ? err : new IvError('IV_ERR_ACTOR_START_FAILED', `${entry.spec.id}: ${(err as Error)?.message ?? String(err)}`);
      this.event('start-failed', entry.spec.id, { error, reason: 'start-failed' });
      throw error;
    }
    if (entry.incarnation !== incarnation || this.state !== 'running') {
      // stopped while starting: do not keep a child nobody owns
      await child.stop(entry.spec.shutdownMs ?? DEFAULT_SHUTDOWN_MS).catch(() => undefined);
      throw new IvError('IV_ERR_CLOSED', `supervisor ${this.path} stopped while ${entry.spec.id} was starting`);
    }
    entry.child = child;
    entry.status = 'running';
    child.onExit((info) => {
      if (entry.incarnation !== incarnation || entry.status !== 'running') {
        return;
      }
      entry.status = 'restarting';
      const extra: Partial<SupervisorEvent> = { reason: info.reason };
      if (info.error) {
        extra.error = info.error;
      }
      this.event('exit', entry.spec.id, extra);
      this.enqueue(() => this.handleExit(entry, info, incarnation));
    });
    this.event('start', entry.spec.id);
  }

  private enqueue(op: () => Promise<void>): void {
    this.queue = this.queue.then(op).catch((err: unknown) => {
      this.escalate(isIvError(err) ? err : new IvError('IV_ERR_INTERNAL', `supervisor ${this.path}: ${String(err)}`));
    });
  }

  private async handleExit(entry: Entry, info: ExitInfo, incarnation: number): Promise<void> {
    const id = entry.spec.id;
    if (entry.incarnation !== incarnation) {
      return; // a group restart already replaced this incarnation
    }
    if (this.state !== 'running') {
      entry.status = 'stopped';
      return;
    }
    if (entry.spec.pinned && !info.normal) {
      entry.status = 'stopped';
      this.escalate(new IvError('IV_ERR_PINNED_EXITED', `pinned child ${id} of ${this.path} exited (${info.reason}); it is never restarted`));
      return;
    }
    const restart = entry.spec.restart === 'permanent' || (entry.spec.restart === 'transient' && !info.normal);
    if (!restart) {
      entry.status = 'stopped';
      return;
    }
    const index = this.entries.indexOf(entry);
    const group = this.strategy === 'one_for_one' ? [index]
      : this.strategy === 'rest_for_one' ? range(index, this.entries.length)
        : range(0, this.entries.length);
    // stop the others of the group (reverse order), then start the group in order
    for (const i of [...group].reverse()) {
      const other = this.entries[i] as Entry;
      if (other !== entry && other.status === 'running') {
        other.status = 'stopping';
        if (other.spec.pinned) {
          this.escalate(new IvError('IV_ERR_PINNED_EXITED', `restarting ${id} would restart pinned child ${other.spec.id} of ${this.path}`));
          return;
        }
        await this.stopEntry(other);
        other.status = 'restarting';
      }
    }
    await this.restartGroup(group.map((i) => this.entries[i] as Entry), entry);
  }

  /**
   * Restart the entries still marked 'restarting', in order, after the backoff. One
   * failure (or one failed start) counts once against the intensity, however many
   * children it restarts; exceeding it escalates.
   */
  private async restartGroup(group: Entry[], cause: Entry): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      this.restarts = this.restarts.filter((t) => now - t < this.intensity.withinMs);
      this.restarts.push(now);
      const attempt = this.restarts.length;
      if (attempt > this.intensity.maxRestarts) {
        for (const e of group) {
          if (e.status === 'restarting') {
            e.status = 'stopped';
          }
        }
        this.escalate(new IvError('IV_ERR_RESTART_INTENSITY',
          `${this.path}: ${attempt} restarts within ${this.intensity.withinMs} ms (max ${this.intensity.maxRestarts}); last caused by ${cause.spec.id}`));
        return;
      }
      const delayMs = this.backoff[Math.min(attempt - 1, this.backoff.length - 1)] ?? 0;
      for (const e of group) {
        if (e.status === 'restarting') {
          this.event('restart', e.spec.id, { attempt, delayMs });
        }
      }
      if (delayMs > 0) {
        await this.delay(delayMs);
      }
      try {
        for (const e of group) {
          if (this.state !== 'running') {
            return;
          }
          if (e.status === 'restarting') {
            await this.startEntry(e);
          }
        }
        return;
      } catch {
        if (this.state !== 'running') {
          return;
        }
        // the failed entry is still 'restarting': count it and try again
      }
    }
  }

  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const handle = this.clock.setTimeout(() => {
        this.pendingDelays.delete(token);
        resolve();
      }, ms);
      const token = {
        cancel: () => {
          this.clock.clearTimeout(handle);
          resolve();
        },
      };
      this.pendingDelays.add(token);
    });
  }

  private cancelDelays(): void {
    for (const d of this.pendingDelays) {
      d.cancel();
    }
    this.pendingDelays.clear();
  }

  private async stopEntry(entry: Entry, timeoutMs?: number): Promise<void> {
    const child = entry.child;
    entry.child = undefined;
    entry.incarnation++;
    if (child === undefined) {
      entry.status = 'stopped';
      return;
    }
    const limit = timeoutMs ?? entry.spec.shutdownMs ?? DEFAULT_SHUTDOWN_MS;
    let timer: ReturnType<Clock['setTimeout']> | undefined;
    const overran = await Promise.race([
      child.stop(limit).then(() => false, () => false),
      new Promise<boolean>((resolve) => {
        timer = this.clock.setTimeout(() => resolve(true), limit + 100);
      }),
    ]);
    if (timer !== undefined) {
      this.clock.clearTimeout(timer);
    }
    if (overran) {
      this.event('shutdown-timeout', entry.spec.id, { error: new IvError('IV_ERR_SHUTDOWN_TIMEOUT', `${entry.spec.id} did not stop within ${limit} ms; killed`) });
      child.kill();
    }
    entry.status = 'stopped';
    this.event('stop', entry.spec.id);
  }

  private async stopRange(from: number, to: number, timeoutMs?: number): Promise<void> {
    for (let i = to - 1; i >= from; i--) {
      const entry = this.entries[i] as Entry;
      if (entry.child !== undefined) {
        entry.status = 'stopping';
        await this.stopEntry(entry, timeoutMs);
      }
    }
  }

  private escalate(error: IvError): void {
    if (this.state === 'failed' || this.state === 'stopped') {
      return;
    }
    this.state = 'failed';
    this.cancelDelays();
    this.event('escalate', this.id, { error, reason: 'escalated' });
    void this.stopRange(0, this.entries.length).finally(() => {
      const listeners = this.exitListeners;
      this.exitListeners = [];
      for (const l of listeners) {
        l({ normal: false, reason: 'escalated', error });
      }
    });
  }
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i < to; i++) {
    out.push(i);
  }
  return out;
}
