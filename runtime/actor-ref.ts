/**
 * actor-ref — the handle user code holds for one actor id, across all its incarnations.
 *
 * Owns: binding to the current incarnation (worker + generation), calls that wait
 * (bounded, within their deadline) while the actor is being restarted, and
 * notification listeners that stay attached across restarts.
 *
 * Must never: deliver a notification from an incarnation other than the bound one,
 * queue callers without bound, or retry a call on its own (calls may not be idempotent).
 */
import { systemClock, type Clock } from './clock.js';
import { IvError } from './errors.js';
import { TypedEmitter } from './typed-emitter.js';
import type { WorkerChild } from './worker-child.js';
import type { MethodName } from '../shared/schema.js';

export interface CallOptions {
  /** Deadline for the whole call, including waiting for a restart (default 5 s). */
  timeoutMs?: number;
}

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

const MAX_WAITERS = 1_024;

export class ActorRef extends TypedEmitter<{ ntf: [method: MethodName, body: unknown] }> {
  private worker: WorkerChild | undefined;
  private gen = -1;
  private waiters = new Set<Waiter>();
  private closed = false;

  constructor(
    readonly id: string,
    private readonly clock: Clock = systemClock,
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
  onNotification(method: MethodName, listener: (body: unknown) => void): () => void {
    return this.on('ntf', (m, body) => {
      if (m === method) {
        listener(body);
      }
    });
  }

  /** Call a request method on the actor; waits for a restart in progress within the deadline. */
  async call(method: MethodName, body: unknown, opts: CallOptions = {}): Promise<unknown> {
    const timeoutMs = opts.timeoutMs ?? 5_000;
    const started = this.clock.now();
    if (!this.running) {
      await this.waitForBinding(timeoutMs);
    }
    const worker = this.worker as WorkerChild;
    const left = Math.max(1, timeoutMs - (this.clock.now() - started));
    return worker.request(this.id, method, body, left);
  }

  /** Send a notification to the current incarnation; false (dropped) while it restarts. */
  notify(method: MethodName, body: unknown): boolean {
    return this.running ? (this.worker as WorkerChild).notify(this.id, method, body) : false;
  }

  /** @internal the actor child binds a fresh incarnation. */
  bind(worker: WorkerChild, generation: number): void {
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
  deliver(worker: WorkerChild, method: MethodName, body: unknown): void {
    if (worker === this.worker) {
      this.emit('ntf', method, body);
    }
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
