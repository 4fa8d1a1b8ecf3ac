/**
 * actor-child — one actor incarnation on a live worker, as a supervised Child.
 *
 * Owns: SYS_ACTOR_START / SYS_ACTOR_STOP for one generation, binding and unbinding the
 * ActorRef, and turning the worker's SYS_ACTOR_EXIT for this generation into a Child
 * exit.
 *
 * Must never: report an exit when its worker dies (the worker's own supervisor group
 * restarts the worker and then its actors), or act on another generation's exit.
 */
import type { ActorRef } from './actor-ref.js';
import { fromWireError } from './errors.js';
import type { Child, ExitInfo } from './supervisor.js';
import type { WorkerChild } from './worker-child.js';
import type { ActorModule } from './actor.js';
import type { ActorExitBody, MethodTable } from './schema.js';

export interface ActorStartSpec<M extends MethodTable = MethodTable> {
  id: string;
  /** The module whose default export is the ActorDefinition (see `actorModule`). */
  module: ActorModule<M>;
  args?: unknown;
  mailboxCapacity?: number;
  handlerTimeoutMs?: number;
}

export class ActorChild implements Child {
  private exitListeners: ((info: ExitInfo) => void)[] = [];
  private exited = false;
  private readonly detach: () => void;

  private constructor(
    private readonly worker: WorkerChild,
    private readonly spec: ActorStartSpec,
    readonly generation: number,
    private readonly ref: ActorRef,
  ) {
    this.detach = worker.on('actorExit', (body) => this.onActorExit(body));
    worker.onExit(() => {
      this.exited = true;
      this.detach();
      ref.unbind(generation);
    });
  }

  static async start(worker: WorkerChild, spec: ActorStartSpec, generation: number, ref: ActorRef): Promise<ActorChild> {
    const child = new ActorChild(worker, spec, generation, ref);
    try {
      await worker.request('sys', 'SYS_ACTOR_START', {
        actorId: spec.id,
        generation,
        module: spec.module.url,
        args: spec.args ?? null,
        mailboxCapacity: spec.mailboxCapacity ?? 1_024,
        handlerTimeoutMs: spec.handlerTimeoutMs ?? 5_000,
      });
    } catch (err) {
      child.detach();
      throw err;
    }
    ref.bind(worker, generation);
    return child;
  }

  async stop(timeoutMs: number): Promise<void> {
    this.ref.unbind(this.generation);
    this.detach();
    if (this.exited || !this.worker.alive) {
      return;
    }
    this.exited = true;
    await this.worker.request('sys', 'SYS_ACTOR_STOP', { actorId: this.spec.id, generation: this.generation, timeoutMs }, timeoutMs + 500)
      .catch(() => undefined);
  }

  kill(): void {
    void this.stop(0);
  }

  onExit(listener: (info: ExitInfo) => void): void {
    this.exitListeners.push(listener);
  }

  private onActorExit(body: ActorExitBody): void {
    if (body.actorId !== this.spec.id || body.generation !== this.generation || this.exited) {
      return;
    }
    this.exited = true;
    this.detach();
    this.ref.unbind(this.generation);
    const info: ExitInfo = { normal: body.reason === 'normal', reason: body.reason };
    if (body.error) {
      info.error = fromWireError(body.error);
    }
    const listeners = this.exitListeners;
    this.exitListeners = [];
    for (const l of listeners) {
      l(info);
    }
  }
}
