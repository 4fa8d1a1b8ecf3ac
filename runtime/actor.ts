/**
 * actor — what an actor module is and what it may use.
 *
 * Owns: the `ActorDefinition` an actor module exports as `default` (init, handlers per
 * schema method, terminate), and the `ActorContext` each incarnation gets.
 *
 * Rules every actor lives by (enforced by actor-cell):
 * - Messages are handled one at a time, in arrival order; an async handler holds the
 *   mailbox until it settles or its deadline passes.
 * - Throwing an IvError answers the request with that error; the actor lives on.
 *   Throwing anything else crashes the incarnation; its supervisor restarts it.
 * - Timers and callbacks go through the context, so a crashed or stopped incarnation
 *   never acts again (its timers are cleared, its emits dropped).
 *
 * Must never: know about video, P2P or cloud (those live in actors/<feature>/).
 */
import type { MethodName } from '../shared/schema.js';

export type ExitReason = 'crash' | 'hang' | 'normal' | 'shutdown';

export interface ActorContext {
  readonly actorId: string;
  /** Incarnation number: 0 at first start, +1 at every restart. */
  readonly generation: number;
  /** False once this incarnation crashed or was stopped. */
  readonly alive: boolean;
  /** Send a notification to the parent; during a handler it goes out after the response. */
  emit(method: MethodName, body: unknown): void;
  /** A timer owned by this incarnation; a throw inside crashes the actor, not the worker. */
  setTimeout(fn: () => unknown, ms: number): number;
  setInterval(fn: () => unknown, ms: number): number;
  clearTimer(id: number): void;
  /** Call a user callback registered on the main thread (comlink), with a deadline. */
  callback(name: string, args: unknown[], timeoutMs?: number): Promise<unknown>;
  /** End this incarnation with a crash (the supervisor decides what happens next). */
  crash(err: Error): void;
}

export type Handler<S> = (state: S, body: never, ctx: ActorContext) => unknown;

export interface ActorDefinition<S> {
  /** A short type name used in logs and errors, e.g. `probe`. */
  name: string;
  init(ctx: ActorContext, args: unknown): S | Promise<S>;
  handlers: Partial<Record<MethodName, Handler<S>>>;
  terminate?(state: S, ctx: ActorContext, reason: ExitReason): void | Promise<void>;
}

/** Identity helper that gives an actor module full type checking. */
export function defineActor<S>(def: ActorDefinition<S>): ActorDefinition<S> {
  return def;
}
