/**
 * worker-child — the main thread's side of one worker thread, as a supervised Child.
 *
 * Owns: spawning the worker (worker-host.js) with its start data, waiting for the
 * SYS_HELLO handshake, the pending-request table, heartbeat watching (missed
 * heartbeats → the worker is terminated as hung), and classifying how the worker
 * ended: normal, fault (uncaught exception), exit (process.exit), oom
 * (resourceLimits), hang, protocol (it sent something outside the schema),
 * version-mismatch.
 *
 * Must never: keep a request pending after the worker is gone, trust a message that
 * fails the schema (the worker is terminated), or report one exit twice.
 */
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { systemClock, type Clock, type TimerHandle } from './clock.js';
import type { CallbackRegistry } from './comlink-bridge.js';
import { IvError, fromWireError } from './errors.js';
import { PendingTable } from './pending-table.js';
import type { Child, ExitInfo } from './supervisor.js';
import { TypedEmitter } from './typed-emitter.js';
import { decode, encode } from './wire.js';
import type { WorkerStartData } from './worker-host.js';
import {
  PROTOCOL_VERSION,
  WORKER_EXIT,
  type ActorExitBody,
  type FaultBody,
  type HeartbeatBody,
  methodSpec,
} from './schema.js';

export interface WorkerOptions {
  name: string;
  /** Heartbeat period in ms (default 250). */
  heartbeatMs?: number;
  /** Heartbeats that may be missed before the worker counts as hung (default 8). */
  missedHeartbeats?: number;
  /** How long the worker has to say SYS_HELLO (default 10 s). */
  startTimeoutMs?: number;
  /** Default request deadline (default 5 s). */
  requestTimeoutMs?: number;
  resourceLimits?: ResourceLimits;
  /** Override the protocol version sent to the worker (tests of the handshake only). */
  protocolVersion?: number;
  clock?: Clock;
}

export interface WorkerEvents extends Record<string, unknown[]> {
  ntf: [target: string, method: string, body: unknown];
  actorExit: [ActorExitBody];
  fault: [FaultBody];
  heartbeat: [HeartbeatBody];
}

const HOST_URL = new URL('./worker-host.js', import.meta.url);

export class WorkerChild extends TypedEmitter<WorkerEvents> implements Child {
  readonly name: string;
  private readonly worker: Worker;
  private readonly clock: Clock;
  private readonly pending: PendingTable;
  private readonly requestTimeoutMs: number;
  private readonly heartbeatMs: number;
  private readonly missedHeartbeats: number;
  private lastBeat: number;
  private watchdog: TimerHandle | undefined;
  private exitInfo: ExitInfo | undefined;
  private lastFault: FaultBody | undefined;
  private killReason: { reason: string; error: IvError } | undefined;
  private stopRequested = false;
  private exitListeners: ((info: ExitInfo) => void)[] = [];
  private readonly exited: Promise<ExitInfo>;
  private closeCallbacks: () => void;
  private hello: { resolve: () => void; reject: (err: Error) => void } | undefined;

  private constructor(opts: WorkerOptions, callbacks: CallbackRegistry) {
    super();
    this.name = opts.name;
    this.clock = opts.clock ?? systemClock;
    this.pending = new PendingTable(this.clock);
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 5_000;
    this.heartbeatMs = opts.heartbeatMs ?? 250;
    this.missedHeartbeats = opts.missedHeartbeats ?? 8;
    this.lastBeat = this.clock.now();
    const cb = callbacks.connect();
    this.closeCallbacks = cb.close;
    const workerData: WorkerStartData = {
      protocolVersion: opts.protocolVersion ?? PROTOCOL_VERSION,
      name: opts.name,
      heartbeatMs: this.heartbeatMs,
      callbackPort: cb.port,
    };
    const workerOpts: ConstructorParameters<typeof Worker>[1] = { workerData, transferList: [cb.port], name: opts.name, stdout: false, stderr: false };
    if (opts.resourceLimits) {
      workerOpts.resourceLimits = opts.resourceLimits;
    }
    this.worker = new Worker(HOST_URL, workerOpts);
    this.exited = new Promise((resolve) => {
      this.worker.on('error', (err: Error & { code?: string }) => {
        if (err.code === 'ERR_WORKER_OUT_OF_MEMORY') {
          this.killReason ??= { reason: 'oom', error: new IvError('IV_ERR_WORKER_OOM', `worker ${this.name}: ${err.message}`) };
        } else {
          this.killReason ??= { reason: 'fault', error: new IvError('IV_ERR_WORKER_FAULT', `worker ${this.name}: ${err.name}: ${err.message}`) };
        }
      });
      this.worker.on('exit', (code) => resolve(this.onWorkerExit(code)));
    });
    this.worker.on('message', (value: unknown) => this.onMessage(value));
  }

  /** Spawn a worker and wait for its handshake. */
  static async start(opts: WorkerOptions, callbacks: CallbackRegistry): Promise<WorkerChild> {
    const child = new WorkerChild(opts, callbacks);
    const startTimeoutMs = opts.startTimeoutMs ?? 10_000;
    let timer: TimerHandle | undefined;
    try {
      await Promise.race([
        new Promise<void>((resolve, reject) => {
          child.hello = { resolve, reject };
        }),
        child.exited.then((info) => {
          throw info.error ?? new IvError('IV_ERR_WORKER_DIED', `worker ${child.name} exited during start-up (${info.reason})`);
        }),
        new Promise<never>((_, reject) => {
          timer = child.clock.setTimeout(() => reject(new IvError('IV_ERR_TIMEOUT', `worker ${child.name} did not say hello within ${startTimeoutMs} ms`)), startTimeoutMs);
        }),
      ]);
    } catch (err) {
      child.kill();
      throw err;
    } finally {
      if (timer !== undefined) {
        child.clock.clearTimeout(timer);
      }
      child.hello = undefined;
    }
    child.armWatchdog();
    return child;
  }

  /** V8 heap used by the worker at its last heartbeat (bytes; undefined before the first). */
  heapUsed: number | undefined;

  get alive(): boolean {
    return this.exitInfo === undefined;
  }

  get threadId(): number {
    return this.worker.threadId;
  }

  /** Send a request to `target` (`sys` or an actor id) and wait for its response. */
  request(target: string, method: string, body: unknown, timeoutMs = this.requestTimeoutMs): Promise<unknown> {
    if (!this.alive) {
      return Promise.reject(new IvError('IV_ERR_WORKER_DIED', `worker ${this.name} is gone; ${method} to ${target} not sent`));
    }
    const spec = methodSpec(method);
    if (spec?.kind !== 'req' || spec.direction !== 'toWorker') {
      return Promise.reject(new IvError('IV_ERR_INVALID_PARAM', `${method} is not a registered request to a worker`, { field: 'method' }));
    }
    const { id, promise } = this.pending.add(method, target, timeoutMs);
    try {
      const { value, transfer } = encode({ v: PROTOCOL_VERSION, id, kind: 'req', method, target, body });
      this.worker.postMessage(value, transfer);
    } catch (err) {
      this.pending.settle(id, new IvError('IV_ERR_INVALID_PARAM', `${method}: body cannot be encoded: ${(err as Error).message}`, { field: 'body' }));
    }
    return promise;
  }

  /** Send a notification to `target`; false when the worker is gone or the method is not a parent→worker ntf. */
  notify(target: string, method: string, body: unknown): boolean {
    const spec = methodSpec(method);
    if (!this.alive || spec?.kind !== 'ntf' || spec.direction !== 'toWorker') {
      return false;
    }
    const { value, transfer } = encode({ v: PROTOCOL_VERSION, id: 0, kind: 'ntf', method, target, body });
    this.worker.postMessage(value, transfer);
    return true;
  }

  /** Post raw bytes that are not a valid envelope (fault-injection tests only). */
  postRaw(value: unknown): void {
    this.worker.postMessage(value);
  }

  async stop(timeoutMs: number): Promise<void> {
    if (!this.alive) {
      return;
    }
    this.stopRequested = true;
    this.disarmWatchdog();
    const exited = this.exited;
    this.request('sys', 'SYS_SHUTDOWN', { timeoutMs }, timeoutMs).catch(() => this.kill());
    let timer: TimerHandle | undefined;
    const done = await Promise.race([
      exited.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = this.clock.setTimeout(() => resolve(false), timeoutMs + 200);
      }),
    ]);
    if (timer !== undefined) {
      this.clock.clearTimeout(timer);
    }
    if (!done) {
      this.kill();
      await exited;
    }
  }

  kill(reason?: { reason: string; error: IvError }): void {
    if (reason) {
      this.killReason ??= reason;
    }
    this.disarmWatchdog();
    void this.worker.terminate();
  }

  onExit(listener: (info: ExitInfo) => void): void {
    if (this.exitInfo && !this.stopRequested) {
      listener(this.exitInfo);
      return;
    }
    this.exitListeners.push(listener);
  }

  /** Resolves when the thread has exited, with how it ended. */
  whenExited(): Promise<ExitInfo> {
    return this.exited;
  }

  private armWatchdog(): void {
    const check = (): void => {
      const silentMs = this.clock.now() - this.lastBeat;
      if (silentMs > this.heartbeatMs * this.missedHeartbeats) {
        this.watchdog = undefined;
        this.kill({ reason: 'hang', error: new IvError('IV_ERR_WORKER_HUNG', `worker ${this.name} sent no heartbeat for ${Math.round(silentMs)} ms`) });
        return;
      }
      this.watchdog = this.clock.setTimeout(check, this.heartbeatMs);
    };
    this.lastBeat = this.clock.now();
    this.watchdog = this.clock.setTimeout(check, this.heartbeatMs);
  }

  private disarmWatchdog(): void {
    if (this.watchdog !== undefined) {
      this.clock.clearTimeout(this.watchdog);
      this.watchdog = undefined;
    }
  }

  private onMessage(value: unknown): void {
    const decoded = decode(value);
    if (!decoded.ok) {
      this.kill({ reason: 'protocol', error: new IvError('IV_ERR_PROTOCOL', `worker ${this.name} broke the schema: ${decoded.error.message}`) });
      return;
    }
    const { env, spec } = decoded;
    if (env.kind === 'res') {
      this.pending.settle(env.id, env.error ? fromWireError(env.error) : undefined, env.body);
      return;
    }
    if (env.kind === 'req' || spec.direction !== 'toParent') {
      this.kill({ reason: 'protocol', error: new IvError('IV_ERR_PROTOCOL', `worker ${this.name} sent ${env.kind} ${env.method}, which only the parent may send`) });
      return;
    }
    switch (env.method) {
      case 'SYS_HELLO':
        this.lastBeat = this.clock.now();
        this.hello?.resolve();
        return;
      case 'SYS_HEARTBEAT':
        this.lastBeat = this.clock.now();
        this.heapUsed = (env.body as HeartbeatBody).heapUsed;
        this.emit('heartbeat', env.body as HeartbeatBody);
        return;
      case 'SYS_ACTOR_EXIT':
        this.emit('actorExit', env.body as ActorExitBody);
        return;
      case 'SYS_FAULT':
        this.lastFault = env.body as FaultBody;
        this.emit('fault', this.lastFault);
        return;
      default:
        this.emit('ntf', env.target, env.method, env.body);
    }
  }

  private onWorkerExit(code: number): ExitInfo {
    this.disarmWatchdog();
    this.closeCallbacks();
    let info: ExitInfo;
    if (this.killReason) {
      info = { normal: false, reason: this.killReason.reason, error: this.killReason.error };
    } else if (code === WORKER_EXIT.OK && this.stopRequested) {
      info = { normal: true, reason: 'shutdown' };
    } else if (code === WORKER_EXIT.VERSION_MISMATCH) {
      info = { normal: false, reason: 'version-mismatch', error: new IvError('IV_ERR_VERSION_MISMATCH', `worker ${this.name} does not speak schema v${PROTOCOL_VERSION}`) };
    } else if (code === WORKER_EXIT.FAULT && this.lastFault) {
      const cause = fromWireError(this.lastFault.error);
      info = { normal: false, reason: 'fault', error: new IvError('IV_ERR_WORKER_FAULT', `worker ${this.name}: ${this.lastFault.origin}: ${cause.message}`) };
    } else {
      info = { normal: false, reason: 'exit', error: new IvError('IV_ERR_WORKER_DIED', `worker ${this.name} exited with code ${code}`) };
    }
    this.exitInfo = info;
    this.pending.closeAll(info.reason === 'hang' ? 'IV_ERR_WORKER_HUNG' : info.reason === 'oom' ? 'IV_ERR_WORKER_OOM' : 'IV_ERR_WORKER_DIED',
      `worker ${this.name} exited (${info.reason})`);
    if (!this.stopRequested) {
      const listeners = this.exitListeners;
      this.exitListeners = [];
      for (const l of listeners) {
        l(info);
      }
    }
    return info;
  }
}
