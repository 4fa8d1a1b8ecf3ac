/**
 * actor-cell — one incarnation of one actor inside a worker.
 *
 * Owns: the actor's state, its bounded mailbox, the one-at-a-time processing loop,
 * handler deadlines, the incarnation's timers and deferred notifications, and the
 * decision "error reply" (IvError thrown) versus "crash" (anything else thrown, a
 * handler past its deadline, a throwing timer).
 *
 * Must never: process two messages at once, act after it died (timers cleared, emits
 * dropped, late handler results discarded), or let an actor exception escape into
 * the worker host.
 */
import type { ActorContext, ActorDefinition, ExitReason } from './actor.js';

type Handler = (state: unknown, body: unknown, ctx: ActorContext) => unknown;
import { IvError, isIvError, type WireError } from './errors.js';
import { Mailbox } from './mailbox.js';
import { PROTOCOL_VERSION, type Envelope } from './schema.js';

export interface CellOptions {
  actorId: string;
  generation: number;
  definition: ActorDefinition<unknown>;
  mailboxCapacity: number;
  handlerTimeoutMs: number;
  post(env: Envelope): void;
  invokeCallback(name: string, args: unknown[], timeoutMs: number): Promise<unknown>;
  /** Called once when the incarnation ends by itself (not on a requested stop). */
  onExit(reason: 'crash' | 'hang', error: WireError): void;
}

type Incoming = Envelope;

const DEFAULT_CALLBACK_TIMEOUT_MS = 5_000;

export class ActorCell {
  private state: unknown;
  private readonly mailbox: Mailbox<Incoming>;
  private readonly timers = new Map<number, { handle: NodeJS.Timeout; repeat: boolean }>();
  private nextTimerId = 1;
  private busy = false;
  private stopping = false;
  private dead = false;
  private deferred: [string, unknown][] | undefined;
  private idleWaiters: (() => void)[] = [];
  readonly ctx: ActorContext;

  constructor(private readonly opts: CellOptions) {
    this.mailbox = new Mailbox(opts.mailboxCapacity);
    const dead = (): boolean => this.dead;
    this.ctx = {
      actorId: opts.actorId,
      generation: opts.generation,
      get alive() {
        return !dead();
      },
      emit: (method, body) => this.emit(method, body),
      setTimeout: (fn, ms) => this.addTimer(fn, ms, false),
      setInterval: (fn, ms) => this.addTimer(fn, ms, true),
      clearTimer: (id) => this.clearTimer(id),
      callback: (name, args, timeoutMs = DEFAULT_CALLBACK_TIMEOUT_MS) => opts.invokeCallback(name, args, timeoutMs),
      crash: (err) => this.crash('crash', err),
    };
  }

  get name(): string {
    return `${this.opts.definition.name}:${this.opts.actorId}#${this.opts.generation}`;
  }

  get alive(): boolean {
    return !this.dead;
  }

  get queued(): number {
    return this.mailbox.size;
  }

  /** Run the actor's init; rejects (and leaves the cell dead) when init throws or times out. */
  async start(args: unknown): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const init = Promise.resolve(this.opts.definition.init(this.ctx, args));
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new IvError('IV_ERR_ACTOR_START_FAILED',
          `${this.name}: init did not finish within ${this.opts.handlerTimeoutMs} ms`)), this.opts.handlerTimeoutMs);
      });
      this.state = await Promise.race([init, deadline]);
    } catch (err) {
      this.kill();
      throw isIvError(err, 'IV_ERR_ACTOR_START_FAILED') ? err
        : new IvError('IV_ERR_ACTOR_START_FAILED', `${this.name}: init threw: ${describe(err)}`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  /** Queue a message from the parent; a full mailbox answers IV_ERR_MAILBOX_FULL at once. */
  deliver(env: Incoming): void {
    if (this.dead) {
      this.reply(env, new IvError('IV_ERR_ACTOR_UNAVAILABLE', `${this.name} is not running`));
      return;
    }
    if (!this.mailbox.push(env)) {
      this.reply(env, new IvError('IV_ERR_MAILBOX_FULL', `${this.name}: mailbox full (${this.mailbox.capacity}); ${env.method} #${env.id} refused`));
      return;
    }
    if (!this.busy) {
      this.pump();
    }
  }

  private pump(): void {
    while (!this.busy && !this.dead) {
      if (this.stopping) {
        this.notifyIdle();
        return;
      }
      const env = this.mailbox.shift();
      if (env === undefined) {
        this.notifyIdle();
        return;
      }
      this.handle(env);
    }
  }

  private handle(env: Incoming): void {
    const handler = (this.opts.definition.handlers as Record<string, Handler | undefined>)[env.method];
    if (handler === undefined) {
      this.reply(env, new IvError('IV_ERR_ACTOR_NO_HANDLER', `${this.name} does not handle ${env.method}`, { field: 'method' }));
      return;
    }
    this.deferred = [];
    let result: unknown;
    try {
      result = handler(this.state, env.body, this.ctx);
    } catch (err) {
      this.finish(env, err, undefined);
      return;
    }
    if (!isThenable(result)) {
      this.finish(env, undefined, result);
      return;
    }
    this.busy = true;
    let settled = false;
    const timer = setTimeout(() => {
      if (settled || this.dead) {
        return;
      }
      settled = true;
      this.crash('hang', new IvError('IV_ERR_ACTOR_CRASHED',
        `${this.name}: ${env.method} #${env.id} did not finish within ${this.opts.handlerTimeoutMs} ms`), env);
    }, this.opts.handlerTimeoutMs);
    result.then(
      (value) => {
        if (settled || this.dead) {
          return;
        }
        settled = true;
        clearTimeout(timer);
        this.busy = false;
        this.finish(env, undefined, value);
        this.pump();
      },
      (err: unknown) => {
        if (settled || this.dead) {
          return;
        }
        settled = true;
        clearTimeout(timer);
        this.busy = false;
        this.finish(env, err, undefined);
        this.pump();
      },
    );
  }

  /** Answer, flush notifications emitted meanwhile, and crash on a non-IvError. */
  private finish(env: Incoming, err: unknown, value: unknown): void {
    const deferred = this.deferred;
    this.deferred = undefined;
    if (err !== undefined && !isIvError(err)) {
      this.crash('crash', new IvError('IV_ERR_ACTOR_CRASHED', `${this.name}: ${env.method} #${env.id} crashed the actor: ${describe(err)}`), env);
      return;
    }
    this.reply(env, isIvError(err) ? err : undefined, value);
    if (deferred) {
      for (const [method, body] of deferred) {
        this.emit(method, body);
      }
    }
  }

  private reply(env: Incoming, err: IvError | undefined, body?: unknown): void {
    if (env.kind !== 'req') {
      return;
    }
    const res: Envelope = { v: PROTOCOL_VERSION, id: env.id, kind: 'res', method: env.method, target: this.opts.actorId, body: err ? null : body ?? null };
    if (err) {
      res.error = err.toWire();
    }
    this.opts.post(res);
  }

  private emit(method: string, body: unknown): void {
    if (this.dead) {
      return;
    }
    if (this.deferred) {
      this.deferred.push([method, body]);
      return;
    }
    this.opts.post({ v: PROTOCOL_VERSION, id: 0, kind: 'ntf', method, target: this.opts.actorId, body });
  }

  private addTimer(fn: () => unknown, ms: number, repeat: boolean): number {
    if (this.dead) {
      return 0;
    }
    const id = this.nextTimerId++;
    const run = (): void => {
      if (this.dead) {
        return;
      }
      if (!repeat) {
        this.timers.delete(id);
      }
      try {
        const r = fn();
        if (isThenable(r)) {
          r.then(undefined, (err: unknown) => this.crash('crash', err));
        }
      } catch (err) {
        this.crash('crash', err);
      }
    };
    const handle = repeat ? setInterval(run, ms) : setTimeout(run, ms);
    this.timers.set(id, { handle, repeat });
    return id;
  }

  private clearTimer(id: number): void {
    const t = this.timers.get(id);
    if (t) {
      (t.repeat ? clearInterval : clearTimeout)(t.handle);
      this.timers.delete(id);
    }
  }

  /**
   * End this incarnation because of a fault. The exit notice goes out first, so the
   * parent unbinds the actor before any caller sees the failed request's answer;
   * then the request that caused it and everything queued are answered.
   */
  crash(reason: 'crash' | 'hang', err: unknown, env?: Incoming): void {
    if (this.dead) {
      return;
    }
    const error = isIvError(err) ? err : new IvError('IV_ERR_ACTOR_CRASHED', `${this.name}: ${describe(err)}`);
    this.dead = true;
    this.opts.onExit(reason, error.toWire());
    if (env) {
      this.reply(env, error);
    }
    this.kill();
    void this.runTerminate(reason);
  }

  /** Graceful stop: let the running handler finish (up to timeoutMs), then terminate. */
  async stop(timeoutMs: number): Promise<void> {
    if (this.dead) {
      return;
    }
    this.stopping = true;
    if (this.busy) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.idleWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    if (this.dead) {
      return;
    }
    this.kill();
    await this.runTerminate('shutdown', timeoutMs);
  }

  private kill(): void {
    this.dead = true;
    this.busy = false;
    for (const t of this.timers.values()) {
      (t.repeat ? clearInterval : clearTimeout)(t.handle);
    }
    this.timers.clear();
    for (const env of this.mailbox.drain()) {
      this.reply(env, new IvError('IV_ERR_ACTOR_UNAVAILABLE', `${this.name} stopped before ${env.method} #${env.id} ran`));
    }
    this.notifyIdle();
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) {
      w();
    }
  }

  private async runTerminate(reason: ExitReason, timeoutMs = 1_000): Promise<void> {
    const terminate = this.opts.definition.terminate;
    if (!terminate || this.state === undefined) {
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        Promise.resolve(terminate(this.state, this.ctx, reason)),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
        }),
      ]);
    } catch {
      // terminate is best effort: the incarnation is already gone
    } finally {
      clearTimeout(timer);
    }
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
