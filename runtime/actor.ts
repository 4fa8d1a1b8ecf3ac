/**
 * actor — what an actor module is and what it may use.
 *
 * Owns: the `ActorDefinition` an actor module exports as `default` (its method table,
 * init, a handler per method, terminate), the `ActorContext` each incarnation gets, and
 * `actorModule`, the main thread's typed handle on an actor module (its URL and table).
 * Handlers and `ctx.emit` are typed by the table: a handler's body and result are those
 * of its method, an emit names one of the table's worker → parent notifications.
 *
 * Rules every actor lives by (enforced by actor-cell):
 * - Messages are handled one at a time, in arrival order; an async handler holds the
 *   mailbox until it settles or its deadline passes.
 * - Throwing an IvError answers the request with that error; the actor lives on.
 *   Throwing anything else crashes the incarnation; its supervisor restarts it.
 * - Timers and callbacks go through the context, so a dead incarnation never acts
 *   again (its timers are cleared, its emits dropped).
 *
 * Must never: know about video, P2P or cloud (those live in actors/<feature>/).
 */
import {
  registerMethods,
  type BodyOf,
  type MethodTable,
  type NoticeName,
  type ResultOf,
  type TellName,
  type RequestName,
} from './schema.js';

export type ExitReason = 'crash' | 'hang' | 'normal' | 'shutdown';

export interface ActorContext<M extends MethodTable = MethodTable> {
  readonly actorId: string;
  /** Incarnation number: 0 at first start, +1 at every restart. */
  readonly generation: number;
  /** False once this incarnation crashed or was stopped. */
  readonly alive: boolean;
  /** Send a notification to the parent; during a handler it goes out after the response. */
  emit<K extends NoticeName<M>>(method: K, body: BodyOf<M[K]>): void;
  /** A timer owned by this incarnation; a throw inside crashes the actor, not the worker. */
  setTimeout(fn: () => unknown, ms: number): number;
  setInterval(fn: () => unknown, ms: number): number;
  clearTimer(id: number): void;
  /** Call a user callback registered on the main thread (comlink), with a deadline. */
  callback(name: string, args: unknown[], timeoutMs?: number): Promise<unknown>;
  /** End this incarnation with a crash (the supervisor decides what happens next). */
  crash(err: Error): void;
}

type Awaitable<T> = T | Promise<T>;

/** One handler per request or worker-bound notification of the table, typed by it. */
export type Handlers<S, M extends MethodTable> = {
  [K in RequestName<M> | TellName<M>]?: (state: S, body: BodyOf<M[K]>, ctx: ActorContext<M>) => Awaitable<ResultOf<M[K]>>;
};

export interface ActorDefinition<S, M extends MethodTable = MethodTable> {
  /** A short type name used in logs and errors, e.g. `probe`. */
  name: string;
  /** The methods this actor speaks (requests and notifications both ways). */
  methods: M;
  init(ctx: ActorContext<M>, args: unknown): S | Promise<S>;
  handlers: Handlers<S, M>;
  terminate?(state: S, ctx: ActorContext<M>, reason: ExitReason): void | Promise<void>;
}

/** Declare an actor module's default export; registers its table in the worker. */
export function defineActor<S, M extends MethodTable>(def: ActorDefinition<S, M>): ActorDefinition<S, M> {
  registerMethods(def.methods);
  return def;
}

/** The main thread's handle on an actor module: where it is and the methods it speaks. */
export interface ActorModule<M extends MethodTable = MethodTable> {
  readonly url: string;
  readonly methods: M;
}

/** Name an actor module for configs (loads no actor code); registers its table here. */
export function actorModule<M extends MethodTable>(url: string, methods: M): ActorModule<M> {
  registerMethods(methods);
  return { url, methods };
}
