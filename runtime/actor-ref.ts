/**
 * actor-ref — the handle user code holds for one actor id, across all its incarnations.
 *
 * Owns: binding to the current incarnation (worker + generation), calls that wait
 * (bounded, within their deadline) while the actor is being restarted, and
 * notification listeners that stay attached across restarts. Typed by the actor's
 * method table: `call`, `notify` and `onNotification` take only that table's methods
 * and infer body and result from the name.
 *
 * An actor that exits for good (a `temporary` one, or a `transient` one exiting
 * normally) ends its ref: calls fail at once with the exit's reason, and `onExit`
 * listeners hear of it, so an owner never waits for an incarnation that cannot come.
 *
 * Must never: deliver a notification from an incarnation other than the bound one,
 * queue callers without bound, or retry a call on its own (calls may not be idempotent).
 */
import { systemClock, type Clock } from './clock.js';
import { IvError } from './errors.js';
import { TypedEmitter } from './typed-emitter.js';
import type { WorkerChild } from './worker-child.js';
import type { BodyOf, MethodTable, NoticeName, RequestName, ResultOf, TellName } from './schema.js';

export interface CallOptions {
  /** Deadline for the whole call, including waiting for a restart (default 5 s). */
  timeoutMs?: number;
}

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

const MAX_WAITERS = 1_024;

export class ActorRef<M extends MethodTable = MethodTable> extends TypedEmitter<{ ntf: [method: string, body: unknown]; exit: [err: IvError] }> {
  private worker: WorkerChild | undefined;
  private gen = -1;
  private waiters = new Set<Waiter>();
  private closed = false;
  private ended: IvError | undefined;

  constructor(
    readonly id: string,
    private readonly clock: Clock = systemClock,
    /** The actor's method table: a method outside it is refused before it is sent. */
    private readonly methods?: M,
  ) {
    super();
  }

  /** Generation of the bound incarnation, -1 before the first start. */
  get generation(): number {
    return this.gen;
  }

  get running(): boolean {
    return this.worker !== undefined && this.worker.alive;
  }

  /** Listen to one notification method; returns an unsubscribe function. */
  onNotification<K extends NoticeName<M>>(method: K, listener: (body: BodyOf<M[K]>) => void): () => void {
    return this.on('ntf', (m, body) => {
      if (m === method) {
        listener(body as BodyOf<M[K]>);
      }
    });
  }

  /** Hear once that the actor exited for good (it will not be restarted); returns an unsubscribe function. */
  onExit(listener: (err: IvError) => void): () => void {
    return this.once('exit', listener);
  }

  /** Why the actor exited for good, or undefined while it runs or may be restarted. */
  get exitError(): IvError | undefined {
    return this.ended;
  }

  /** Call a request method on the actor; waits for a restart in progress within the deadline. */
  async call<K extends RequestName<M>>(method: K, body: BodyOf<M[K]>, opts: CallOptions = {}): Promise<ResultOf<M[K]>> {
    const unknown = this.notInTable(method);
    if (unknown) {
      throw unknown;
    }
    if (this.ended) {
      throw this.ended;
    }
    const timeoutMs = opts.timeoutMs ?? 5_000;
    const started = this.clock.now();
    if (!this.running) {
      await this.waitForBinding(timeoutMs);
    }
    const worker = this.worker as WorkerChild;
    const left = Math.max(1, timeoutMs - (this.clock.now() - started));
    return worker.request(this.id, method, body, left) as Promise<ResultOf<M[K]>>;
  }

  /** Send a notification to the current incarnation; false (dropped) while it restarts. */
  notify<K extends TellName<M>>(method: K, body: BodyOf<M[K]>): boolean {
    return this.running && this.notInTable(method) === undefined ? (this.worker as WorkerChild).notify(this.id, method, body) : false;
  }

  private notInTable(method: string): IvError | undefined {
    return this.methods !== undefined && !Object.hasOwn(this.methods, method)
      ? new IvError('IV_ERR_ACTOR_NO_HANDLER', `actor ${this.id} does not handle ${method}`, { field: 'method' })
      : undefined;
  }

  /** @internal the actor child binds a fresh incarnation. */
  bind(worker: WorkerChild, generation: number): void {
    this.ended = undefined; // a static actor started again with its worker
    this.worker = worker;
    this.gen = generation;
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const w of waiters) {
      w.resolve();
    }
  }

  /** @internal the incarnation ended; calls wait for the next one. */
  unbind(generation: number): void {
    if (this.gen === generation) {
      this.worker = undefined;
    }
  }

  /** @internal a notification from a worker, delivered only if it comes from the bound incarnation. */
  deliver(worker: WorkerChild, method: string, body: unknown): void {
    if (worker === this.worker) {
      this.emit('ntf', method, body);
    }
  }

  /** @internal the actor exited and will not be restarted: fail everyone waiting, now and later. */
  end(err: IvError): void {
    if (this.ended || this.closed) {
      return;
    }
    this.ended = err;
    this.worker = undefined;
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const w of waiters) {
      w.reject(err);
    }
    this.emit('exit', err);
  }

  /** @internal the system is shutting down: fail everyone waiting. */
  close(): void {
    this.closed = true;
    this.worker = undefined;
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const w of waiters) {
      w.reject(new IvError('IV_ERR_CLOSED', `actor ${this.id}: the runtime is closed`));
    }
  }

  private waitForBinding(timeoutMs: number): Promise<void> {
    if (this.closed) {
      return Promise.reject(new IvError('IV_ERR_CLOSED', `actor ${this.id}: the runtime is closed`));
    }
    if (this.ended) {
      return Promise.reject(this.ended);
    }
    if (this.waiters.size >= MAX_WAITERS) {
      return Promise.reject(new IvError('IV_ERR_BUSY', `actor ${this.id} is restarting and ${MAX_WAITERS} calls already wait for it`));
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: () => {
          this.clock.clearTimeout(timer);
          resolve();
        },
        reject: (err) => {
          this.clock.clearTimeout(timer);
          reject(err);
        },
      };
      const timer = this.clock.setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new IvError('IV_ERR_ACTOR_UNAVAILABLE', `actor ${this.id} was not running within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }
}
