/**
 * actor-system — builds and runs the supervision tree from a plain config.
 *
 * Tree:
 *   root (one_for_one over workers)
 *    └─ worker group "<name>"  one_for_all, or rest_for_one when the worker is pinned
 *        ├─ worker "<name>"     WorkerChild (the thread)
 *        └─ actors "<name>"     Supervisor (actorStrategy) over ActorChild per actor
 * An actor crash is handled by its worker's `actors` supervisor, inside the live
 * worker. When that supervisor runs out of restarts it escalates: the group restarts
 * the worker and all its actors (never for a pinned worker: that escalates to root).
 * A worker that dies, hangs or runs out of memory takes its group through a restart.
 * Root escalation ends the system with a `fatal` event.
 *
 * Owns: the tree, ActorRefs by id (stable across restarts), generation numbers, the
 * callback registry, routing of notifications to refs, and forwarding every
 * supervisor event.
 * Must never: let two incarnations of one actor id run, or hide an escalation.
 */
import type { ResourceLimits } from 'node:worker_threads';
import { ActorChild, type ActorStartSpec } from './actor-child.js';
import type { ActorModule } from './actor.js';
import { ActorRef } from './actor-ref.js';
import { systemClock, type Clock } from './clock.js';
import { CallbackRegistry } from './comlink-bridge.js';
import { IvError } from './errors.js';
import { Supervisor, type ChildSpec, type Intensity, type RestartPolicy, type Strategy, type SupervisorEvent } from './supervisor.js';
import { TypedEmitter } from './typed-emitter.js';
import type { MethodTable } from './schema.js';
import { WorkerChild, type WorkerOptions } from './worker-child.js';

export interface ActorConfig<M extends MethodTable = MethodTable> extends ActorStartSpec<M> {
  restart?: RestartPolicy;
  shutdownMs?: number;
}

export interface WorkerConfig {
  name: string;
  /** Never restarted (the p2p worker): its death ends the system. */
  pinned?: boolean;
  restart?: RestartPolicy;
  heartbeatMs?: number;
  missedHeartbeats?: number;
  startTimeoutMs?: number;
  requestTimeoutMs?: number;
  resourceLimits?: ResourceLimits;
  shutdownMs?: number;
  actors: ActorConfig[];
  actorStrategy?: Strategy;
  actorIntensity?: Intensity;
  actorBackoffMs?: readonly number[];
  /** Worker restarts allowed (group intensity). */
  workerIntensity?: Intensity;
  workerBackoffMs?: readonly number[];
  /** Protocol version announced to the worker (handshake tests only). */
  protocolVersion?: number;
}

export interface SystemConfig {
  workers: WorkerConfig[];
  intensity?: Intensity;
  backoffMs?: readonly number[];
  clock?: Clock;
}

export interface SystemEvents extends Record<string, unknown[]> {
  /** Every start, exit, restart, escalation and stop anywhere in the tree. */
  event: [SupervisorEvent];
  /** The root escalated: the system has stopped and will not recover by itself. */
  fatal: [IvError];
}

export class ActorSystem extends TypedEmitter<SystemEvents> {
  readonly callbacks = new CallbackRegistry();
  private readonly refs = new Map<string, ActorRef>();
  private readonly generations = new Map<string, number>();
  private readonly workers = new Map<string, WorkerChild>();
  private readonly actorSupervisors = new Map<string, Supervisor>();
  private readonly currentWorker = new Map<string, () => WorkerChild | undefined>();
  private readonly dynamicActors = new Map<string, string>();
  private readonly modules = new Map<string, string>();
  /** Each actor's restart policy: one that will not be restarted ends its ref when it exits. */
  private readonly policies = new Map<string, RestartPolicy>();
  private readonly root: Supervisor;
  private readonly clock: Clock;
  private state: 'idle' | 'running' | 'stopped' | 'failed' = 'idle';

  constructor(config: SystemConfig) {
    super();
    this.clock = config.clock ?? systemClock;
    const names = new Set<string>();
    for (const w of config.workers) {
      if (names.has(w.name)) {
        throw new IvError('IV_ERR_INVALID_PARAM', `duplicate worker name ${w.name}`, { field: 'workers.name' });
      }
      names.add(w.name);
      for (const a of w.actors) {
        if (this.refs.has(a.id)) {
          throw new IvError('IV_ERR_INVALID_PARAM', `duplicate actor id ${a.id}`, { field: 'workers.actors.id' });
        }
        this.refs.set(a.id, new ActorRef(a.id, this.clock, a.module.methods));
        this.modules.set(a.id, a.module.url);
        this.policies.set(a.id, a.restart ?? 'permanent');
      }
    }
    const rootOpts = { id: 'root', strategy: 'one_for_one' as const, clock: this.clock, ...(config.intensity ? { intensity: config.intensity } : {}), ...(config.backoffMs ? { backoffMs: config.backoffMs } : {}) };
    this.root = new Supervisor({ ...rootOpts, report: this.reportEvent }, config.workers.map((w) => this.groupSpec(w)));
    this.root.onExit((info) => {
      this.state = 'failed';
      for (const ref of this.refs.values()) {
        ref.close();
      }
      this.callbacks.closeAll();
      this.emit('fatal', info.error ?? new IvError('IV_ERR_RESTART_INTENSITY', 'root supervisor escalated'));
    });
  }

  get running(): boolean {
    return this.state === 'running';
  }

  private readonly reportEvent = (ev: SupervisorEvent): void => {
    if (ev.type === 'exit') {
      this.endIfFinal(ev);
    }
    this.emit('event', ev);
  };

  /** An actor exit its supervisor will not restart ends its ref (calls fail at once, the owner hears of it). */
  private endIfFinal(ev: SupervisorEvent): void {
    const policy = this.policies.get(ev.child);
    const ref = this.refs.get(ev.child);
    if (policy === undefined || ref === undefined || policy === 'permanent' || (policy === 'transient' && ev.reason !== 'normal')) {
      return;
    }
    const why = ev.error ? `: ${ev.error.message}` : '';
    ref.end(new IvError('IV_ERR_ACTOR_UNAVAILABLE', `actor ${ev.child} exited (${ev.reason ?? 'unknown'})${why} and is not restarted`));
  }

  async start(): Promise<this> {
    if (this.state !== 'idle') {
      throw new IvError('IV_ERR_ALREADY_INITIALIZED', 'the actor system was already started');
    }
    this.state = 'running';
    try {
      await this.root.start();
    } catch (err) {
      this.state = 'stopped';
      this.callbacks.closeAll();
      throw err;
    }
    return this;
  }

  /** Stop everything in reverse start order. Idempotent. */
  async stop(timeoutMs?: number): Promise<void> {
    if (this.state === 'stopped') {
      return;
    }
    this.state = 'stopped';
    await this.root.stop(timeoutMs);
    for (const ref of this.refs.values()) {
      ref.close();
    }
    this.callbacks.closeAll();
  }

  /**
   * The stable handle for an actor id; given the actor's module, typed by its method
   * table (refused when the actor runs another module).
   */
  ref<M extends MethodTable = MethodTable>(actorId: string, module?: ActorModule<M>): ActorRef<M> {
    const ref = this.refs.get(actorId);
    if (ref === undefined) {
      throw new IvError('IV_ERR_ACTOR_NOT_FOUND', `no actor ${actorId} in this system`, { field: 'actorId' });
    }
    if (module !== undefined && this.modules.get(actorId) !== module.url) {
      throw new IvError('IV_ERR_INVALID_PARAM', `actor ${actorId} does not run ${module.url}`, { field: 'module' });
    }
    return ref as unknown as ActorRef<M>;
  }

  /** The live worker of that name (changes when the worker restarts). */
  worker(name: string): WorkerChild | undefined {
    return this.workers.get(name);
  }

  /**
   * Start an actor on a running worker after start-up (e.g. one per app peer). It is
   * supervised like the configured ones (restart policy, intensity) until `despawn`.
   * If its worker restarts, dynamic actors are not restarted: their refs close.
   */
  async spawn<M extends MethodTable>(workerName: string, actor: ActorConfig<M>): Promise<ActorRef<M>> {
    const sup = this.actorSupervisors.get(workerName);
    const worker = this.currentWorker.get(workerName);
    if (!this.running || sup === undefined || worker === undefined) {
      throw new IvError('IV_ERR_INVALID_PARAM', `no running worker ${workerName}`, { field: 'workerName' });
    }
    if (this.refs.has(actor.id)) {
      throw new IvError('IV_ERR_INVALID_PARAM', `actor ${actor.id} already exists`, { field: 'actor.id' });
    }
    const ref = new ActorRef<M>(actor.id, this.clock, actor.module.methods);
    this.refs.set(actor.id, ref);
    this.modules.set(actor.id, actor.module.url);
    this.policies.set(actor.id, actor.restart ?? 'permanent');
    this.dynamicActors.set(actor.id, workerName);
    try {
      await sup.startChild(this.actorSpec(actor, worker));
    } catch (err) {
      this.refs.delete(actor.id);
      this.modules.delete(actor.id);
      this.policies.delete(actor.id);
      this.dynamicActors.delete(actor.id);
      throw err;
    }
    return ref;
  }

  /** Stop a spawned actor and forget its id. */
  async despawn(actorId: string, timeoutMs?: number): Promise<void> {
    const workerName = this.dynamicActors.get(actorId);
    if (workerName === undefined) {
      throw new IvError('IV_ERR_ACTOR_NOT_FOUND', `${actorId} is not a spawned actor`, { field: 'actorId' });
    }
    this.dynamicActors.delete(actorId);
    await this.actorSupervisors.get(workerName)?.stopChild(actorId, timeoutMs);
    this.refs.get(actorId)?.close();
    this.refs.delete(actorId);
    this.modules.delete(actorId);
    this.policies.delete(actorId);
  }

  /** Permanent children (workers, and the actors inside them) not running right now, as `worker` or `worker/actor: status`. */
  notRunning(): string[] {
    const out: string[] = [];
    for (const w of this.root.children()) {
      if (w.restart === 'permanent' && w.status !== 'running') {
        out.push(`${w.id}: ${w.status}`);
      }
      for (const a of this.actorSupervisors.get(w.id)?.children() ?? []) {
        if (a.restart === 'permanent' && a.status !== 'running') {
          out.push(`${w.id}/${a.id}: ${a.status}`);
        }
      }
    }
    return out;
  }

  /** Supervisor status, for diagnostics. */
  tree(): { id: string; status: string }[] {
    return this.root.children();
  }

  private groupSpec(w: WorkerConfig): ChildSpec {
    const shutdownMs = w.shutdownMs ?? 5_000;
    return {
      id: w.name,
      restart: w.restart ?? 'permanent',
      ...(w.pinned ? { pinned: true } : {}),
      shutdownMs: shutdownMs + 1_000,
      start: async () => {
        let current: WorkerChild | undefined;
        const workerSpec: ChildSpec = {
          id: `worker:${w.name}`,
          restart: 'permanent',
          ...(w.pinned ? { pinned: true } : {}),
          shutdownMs,
          start: async () => {
            current = await WorkerChild.start(this.workerOptions(w), this.callbacks);
            const worker = current;
            this.workers.set(w.name, worker);
            worker.on('ntf', (target, method, body) => this.refs.get(target)?.deliver(worker, method, body));
            return worker;
          },
        };
        const actorsSpec: ChildSpec = {
          id: `actors:${w.name}`,
          restart: 'permanent',
          shutdownMs,
          start: async () => {
            const sup = new Supervisor({
              id: `actors:${w.name}`,
              strategy: w.actorStrategy ?? 'one_for_one',
              clock: this.clock,
              parentPath: `root/${w.name}`,
              report: this.reportEvent,
              ...(w.actorIntensity ? { intensity: w.actorIntensity } : {}),
              ...(w.actorBackoffMs ? { backoffMs: w.actorBackoffMs } : {}),
            }, w.actors.map((a) => this.actorSpec(a, () => current)));
            this.actorSupervisors.set(w.name, sup);
            this.currentWorker.set(w.name, () => current);
            await sup.start();
            // dynamic actors of this worker die with it; their owners spawn them again if they want them
            for (const [id, worker] of this.dynamicActors) {
              if (worker === w.name && !sup.child(id)) {
                this.dynamicActors.delete(id);
                this.refs.get(id)?.close();
                this.refs.delete(id);
                this.modules.delete(id);
                this.policies.delete(id);
              }
            }
            return sup;
          },
        };
        const group = new Supervisor({
          id: w.name,
          strategy: w.pinned ? 'rest_for_one' : 'one_for_all',
          clock: this.clock,
          parentPath: 'root',
          report: this.reportEvent,
          intensity: w.workerIntensity ?? { maxRestarts: 3, withinMs: 10_000 },
          ...(w.workerBackoffMs ? { backoffMs: w.workerBackoffMs } : {}),
        }, [workerSpec, actorsSpec]);
        return group.start();
      },
    };
  }

  private actorSpec(a: ActorConfig, worker: () => WorkerChild | undefined): ChildSpec {
    return {
      id: a.id,
      restart: a.restart ?? 'permanent',
      shutdownMs: a.shutdownMs ?? 2_000,
      start: async () => {
        const w = worker();
        if (w === undefined || !w.alive) {
          throw new IvError('IV_ERR_WORKER_DIED', `no live worker for actor ${a.id}`);
        }
        const generation = this.generations.get(a.id) ?? 0;
        this.generations.set(a.id, generation + 1);
        return ActorChild.start(w, a, generation, this.ref(a.id));
      },
    };
  }

  private workerOptions(w: WorkerConfig): WorkerOptions {
    const opts: WorkerOptions = { name: w.name, clock: this.clock };
    const passed = ['heartbeatMs', 'missedHeartbeats', 'startTimeoutMs', 'requestTimeoutMs', 'resourceLimits', 'protocolVersion'] as const;
    for (const key of passed) {
      if (w[key] !== undefined) {
        (opts as unknown as Record<string, unknown>)[key] = w[key];
      }
    }
    return opts;
  }
}
