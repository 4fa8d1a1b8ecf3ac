/**
 * schema — how a message that crosses a thread is described: the envelope, the method
 * tables, and the runtime's own `SYS_*` methods.
 *
 * Owns: the envelope `{v, id, kind, method, target, body, error?}`, PROTOCOL_VERSION,
 * the documented worker exit codes, the `MethodSpec` type (kind, direction, a typed body
 * check and the result type) with its builders `request` / `tell` / `notice`, the
 * `SYS_*` table, and the per-thread registry of every table in use: a feature declares
 * its table in its own folder (e.g. actors/p2p/peer-methods.ts); `defineActor` (worker
 * side) and `actorModule` (main side) register it, and `wire.decode` checks every
 * arriving message against the registry.
 *
 * Must never: accept a method no registered table has (that is a fault, reported and
 * answered, never ignored), let two tables define one method name differently, or
 * change a method's meaning without bumping PROTOCOL_VERSION.
 *
 * Envelope rules:
 * - `id` is per sender, a positive int32 that wraps; a `res` carries its `req`'s id,
 *   a `ntf` carries id 0.
 * - `target` is `sys` for the worker host itself, otherwise an actor id.
 * - `body` is msgpack; SharedArrayBuffers and MessagePorts may appear within six
 *   levels of plain objects (they travel beside the msgpack bytes, see runtime/wire).
 */
import { IvError, type WireError } from './errors.js';
import { any, empty, int, num, obj, oneOf, opt, str, type Check } from './checks.js';

export const PROTOCOL_VERSION = 1;

/** The process exit codes a worker thread uses; anything else is a crash. */
export const WORKER_EXIT = {
  /** Asked to shut down and did so cleanly. */
  OK: 0,
  /** An uncaught exception or unhandled rejection (reported as SYS_FAULT first). */
  FAULT: 70,
  /** workerData named a protocol version this build does not speak. */
  VERSION_MISMATCH: 76,
  /** workerData was malformed. */
  BAD_START: 78,
} as const;

export type EnvelopeKind = 'req' | 'res' | 'ntf';

export interface Envelope {
  v: number;
  id: number;
  kind: EnvelopeKind;
  method: string;
  target: string;
  body: unknown;
  error?: WireError;
}

/** Who may send a method: the parent (main thread) to a worker, or a worker to its parent. */
export type Direction = 'toWorker' | 'toParent';

export interface MethodSpec<K extends 'req' | 'ntf' = 'req' | 'ntf', D extends Direction = Direction, B = unknown, R = unknown> {
  kind: K;
  direction: D;
  body: Check<B>;
  /** The result's type, for the compiler only (results are produced by our own handlers). */
  readonly result?: R;
}

/** Parent → worker request answered with `R`. */
export type RequestSpec<B, R> = MethodSpec<'req', 'toWorker', B, R>;
/** Parent → worker notification. */
export type TellSpec<B> = MethodSpec<'ntf', 'toWorker', B, void>;
/** Worker → parent notification. */
export type NoticeSpec<B> = MethodSpec<'ntf', 'toParent', B, void>;

export type MethodTable = Record<string, MethodSpec>;

/** Marks a request's result type: `request(obj({...}), returns<{ ok: true }>())`. */
export interface Returns<R> {
  readonly returns?: R;
}
export function returns<R>(): Returns<R> {
  return {};
}

export function request<B, R = null>(body: Check<B>, _result?: Returns<R>): RequestSpec<B, R> {
  return { kind: 'req', direction: 'toWorker', body };
}
export function tell<B>(body: Check<B>): TellSpec<B> {
  return { kind: 'ntf', direction: 'toWorker', body };
}
export function notice<B>(body: Check<B>): NoticeSpec<B> {
  return { kind: 'ntf', direction: 'toParent', body };
}

// ---- what a table says about one method, for the compiler ----
export type BodyOf<S> = S extends MethodSpec<'req' | 'ntf', Direction, infer B, unknown> ? B : never;
export type ResultOf<S> = S extends MethodSpec<'req' | 'ntf', Direction, unknown, infer R> ? R : never;
type NamesOf<M, S> = string extends keyof M ? string : { [K in keyof M & string]: M[K] extends S ? K : never }[keyof M & string];
/** Methods of M the parent may `call` (requests); any name for an untyped table. */
export type RequestName<M> = NamesOf<M, MethodSpec<'req', 'toWorker'>>;
/** Methods of M the parent may `notify` (notifications to the worker). */
export type TellName<M> = NamesOf<M, MethodSpec<'ntf', 'toWorker'>>;
/** Methods of M an actor may `emit` (notifications to the parent). */
export type NoticeName<M> = NamesOf<M, MethodSpec<'ntf', 'toParent'>>;

const wireError = obj({ name: str, code: str, message: str, field: opt(str) });

export const SYS_METHODS = {
  /** Worker → parent once at start-up: the version handshake. */
  SYS_HELLO: notice(obj({ version: int(0), threadId: int(0), name: str })),
  /** Worker → parent every heartbeat interval; missing ones mean the worker hangs. */
  SYS_HEARTBEAT: notice(obj({ seq: int(0), heapUsed: num(0), actors: int(0) })),
  /** Worker → parent: an actor incarnation ended by itself (crash, hang, or normal stop). */
  SYS_ACTOR_EXIT: notice(obj({ actorId: str, generation: int(0), reason: oneOf('crash', 'hang', 'normal'), error: opt(wireError) })),
  /** Worker → parent: the worker is about to die (uncaught exception) or saw a protocol fault. */
  SYS_FAULT: notice(obj({ origin: oneOf('uncaughtException', 'unhandledRejection', 'protocol'), error: wireError })),
  /** Parent → worker: start one actor incarnation from an actor module. */
  SYS_ACTOR_START: request(obj({
    actorId: str,
    generation: int(0),
    module: str,
    args: any,
    mailboxCapacity: int(1, 1 << 20),
    handlerTimeoutMs: int(1),
  }), returns<{ startedAt: number }>()),
  /** Parent → worker: stop one actor incarnation (its terminate hook runs, timers are cleared). */
  SYS_ACTOR_STOP: request(obj({ actorId: str, generation: int(0), timeoutMs: int(0) }), returns<{ stopped: boolean }>()),
  /** Parent → worker: stop every actor, then the worker exits with WORKER_EXIT.OK. */
  SYS_SHUTDOWN: request(obj({ timeoutMs: int(0) }), returns<Record<string, never>>()),
  /** Parent → worker: round trip to the worker host itself. */
  SYS_PING: request(obj({ t: num() }), returns<{ t: number; at: number }>()),
  /**
   * Parent → worker: a full garbage collection when the process runs with `--expose-gc`
   * (`collected` says whether it did), then the worker's V8 heap (bytes).
   */
  SYS_GC: request(empty, returns<WorkerHeap>()),
  /**
   * Parent → worker: V8's low-memory notification (full collections that shrink the heap;
   * runtime/heap.ts releaseHeap), one turn for the finalizers, then the worker's V8 heap.
   * What the trim after a burst of departures asks of the worker that hosted the apps.
   */
  SYS_RELEASE_MEMORY: request(empty, returns<WorkerHeap>()),
} as const;

export type SysMethods = typeof SYS_METHODS;

/** One isolate's V8 heap after SYS_GC or SYS_RELEASE_MEMORY (bytes). */
export interface WorkerHeap {
  collected: boolean;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}
export type ActorStartBody = BodyOf<SysMethods['SYS_ACTOR_START']>;
export type ActorExitBody = BodyOf<SysMethods['SYS_ACTOR_EXIT']>;
export type FaultBody = BodyOf<SysMethods['SYS_FAULT']>;
export type HeartbeatBody = BodyOf<SysMethods['SYS_HEARTBEAT']>;
export type HelloBody = BodyOf<SysMethods['SYS_HELLO']>;

// ---- the per-thread registry ----
const registry = new Map<string, MethodSpec>();

/** Make a table's methods known to this thread; idempotent for the same table. */
export function registerMethods(table: MethodTable): void {
  for (const [name, spec] of Object.entries(table)) {
    const known = registry.get(name);
    if (known !== undefined && known !== spec) {
      throw new IvError('IV_ERR_INVALID_PARAM', `method ${name} is defined by two tables`, { field: 'method' });
    }
    registry.set(name, spec);
  }
}
registerMethods(SYS_METHODS);

/** The spec of a registered method, or undefined when no table in this thread has it. */
export function methodSpec(method: unknown): MethodSpec | undefined {
  return typeof method === 'string' ? registry.get(method) : undefined;
}

/** Validate a registered method's body: undefined when fine, an IvError naming the field otherwise. */
export function checkBody(spec: MethodSpec, body: unknown): IvError | undefined {
  return spec.body(body, 'body');
}
