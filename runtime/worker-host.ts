/**
 * worker-host — the entry point of every runtime worker thread.
 *
 * Owns: the start-up version handshake (exit WORKER_EXIT.VERSION_MISMATCH on a
 * mismatch), the thread's name (`ivgw-<worker>`, thread-name.ts), heartbeats, routing of
 * schema messages to the system handlers (`sys`) or to actor cells, loading actor
 * modules, and turning an uncaught exception or unhandled rejection into SYS_FAULT
 * followed by exit WORKER_EXIT.FAULT.
 *
 * Must never: ignore a message it cannot decode (it answers and reports SYS_FAULT),
 * start two incarnations of one actor id, or keep running after a fault.
 */
import { parentPort, threadId, workerData, type MessagePort } from 'node:worker_threads';
import type { ActorDefinition } from './actor.js';
import { ActorCell } from './actor-cell.js';
import { connectCallbacks } from './comlink-bridge.js';
import { IvError, toWireError } from './errors.js';
import { decode, encode } from './wire.js';
import { runWorkerShutdownHooks } from './worker-hooks.js';
import { collectHeap, releaseHeap } from './heap.js';
import { nameThread } from './thread-name.js';
import {
  PROTOCOL_VERSION,
  WORKER_EXIT,
  registerMethods,
  type ActorStartBody,
  type Envelope,
  type FaultBody,
} from './schema.js';

export interface WorkerStartData {
  protocolVersion: number;
  name: string;
  heartbeatMs: number;
  callbackPort: MessagePort;
}

function isStartData(d: unknown): d is WorkerStartData {
  const w = d as Partial<WorkerStartData> | null;
  return typeof w === 'object' && w !== null && typeof w.protocolVersion === 'number' && typeof w.name === 'string' &&
    typeof w.heartbeatMs === 'number' && typeof w.callbackPort === 'object';
}

if (parentPort === null) {
  throw new Error('worker-host must run in a worker thread');
}
const port = parentPort;

if (!isStartData(workerData)) {
  process.exit(WORKER_EXIT.BAD_START);
}
const start = workerData;
if (start.protocolVersion !== PROTOCOL_VERSION) {
  process.exit(WORKER_EXIT.VERSION_MISMATCH);
}
nameThread(start.name); // `ivgw-p2p` in top -H and /proc/PID/task/*/comm

const invokeCallback = connectCallbacks(start.callbackPort);
const cells = new Map<string, ActorCell>();
const definitions = new Map<string, Promise<ActorDefinition<unknown>>>();
let heartbeatSeq = 0;
let shuttingDown = false;

function post(env: Envelope): void {
  const { value, transfer } = encode(env);
  port.postMessage(value, transfer);
}

function ntf(method: string, body: unknown): void {
  post({ v: PROTOCOL_VERSION, id: 0, kind: 'ntf', method, target: 'sys', body });
}

function fault(origin: FaultBody['origin'], err: unknown): void {
  try {
    ntf('SYS_FAULT', { origin, error: toWireError(err) });
  } catch {
    // the port itself is broken; the exit code still tells the parent
  }
}

process.on('uncaughtException', (err) => {
  fault('uncaughtException', err);
  process.exit(WORKER_EXIT.FAULT);
});
process.on('unhandledRejection', (reason) => {
  fault('unhandledRejection', reason);
  process.exit(WORKER_EXIT.FAULT);
});

function loadDefinition(moduleUrl: string): Promise<ActorDefinition<unknown>> {
  let def = definitions.get(moduleUrl);
  if (def === undefined) {
    def = import(moduleUrl).then((mod: { default?: ActorDefinition<unknown> }) => {
      const d = mod.default;
      if (typeof d !== 'object' || d === null || typeof d.init !== 'function' || typeof d.handlers !== 'object' || typeof d.methods !== 'object') {
        throw new IvError('IV_ERR_ACTOR_START_FAILED', `${moduleUrl} does not export an actor definition as default`, { field: 'module' });
      }
      registerMethods(d.methods);
      return d;
    });
    def.catch(() => definitions.delete(moduleUrl));
    definitions.set(moduleUrl, def);
  }
  return def;
}

async function startActor(body: ActorStartBody): Promise<{ startedAt: number }> {
  if (shuttingDown) {
    throw new IvError('IV_ERR_CLOSED', `worker ${start.name} is shutting down`);
  }
  const existing = cells.get(body.actorId);
  if (existing?.alive) {
    throw new IvError('IV_ERR_INVALID_PARAM', `actor ${body.actorId} is already running on worker ${start.name}`, { field: 'body.actorId' });
  }
  const definition = await loadDefinition(body.module);
  const cell: ActorCell = new ActorCell({
    actorId: body.actorId,
    generation: body.generation,
    definition,
    mailboxCapacity: body.mailboxCapacity,
    handlerTimeoutMs: body.handlerTimeoutMs,
    post,
    invokeCallback,
    onExit: (reason, error) => {
      if (cells.get(body.actorId) === cell) {
        cells.delete(body.actorId);
      }
      ntf('SYS_ACTOR_EXIT', { actorId: body.actorId, generation: body.generation, reason, error });
    },
  });
  cells.set(body.actorId, cell);
  try {
    await cell.start(body.args);
  } catch (err) {
    cells.delete(body.actorId);
    throw err;
  }
  return { startedAt: performance.now() };
}

async function stopActor(actorId: string, generation: number, timeoutMs: number): Promise<{ stopped: boolean }> {
  const cell = cells.get(actorId);
  if (cell === undefined || cell.ctx.generation !== generation) {
    return { stopped: false };
  }
  cells.delete(actorId);
  await cell.stop(timeoutMs);
  return { stopped: true };
}

async function shutdown(timeoutMs: number): Promise<Record<string, never>> {
  shuttingDown = true;
  const all = [...cells.values()].reverse();
  cells.clear();
  for (const cell of all) {
    await cell.stop(timeoutMs);
  }
  await runWorkerShutdownHooks();
  setImmediate(() => process.exit(WORKER_EXIT.OK));
  return {};
}

async function handleSys(env: Envelope): Promise<unknown> {
  const body = env.body as Record<string, unknown>;
  switch (env.method) {
    case 'SYS_ACTOR_START':
      return startActor(env.body as ActorStartBody);
    case 'SYS_ACTOR_STOP':
      return stopActor(body.actorId as string, body.generation as number, body.timeoutMs as number);
    case 'SYS_SHUTDOWN':
      return shutdown(body.timeoutMs as number);
    case 'SYS_PING':
      return { t: body.t, at: performance.now() };
    case 'SYS_GC':
      return collectHeap();
    case 'SYS_RELEASE_MEMORY':
      return releaseHeap();
    default:
      throw new IvError('IV_ERR_UNKNOWN_METHOD', `worker host does not handle ${env.method}`, { field: 'method' });
  }
}

function replyTo(env: { id: number; method: string; target: string }, err: IvError | undefined, body: unknown): void {
  const res: Envelope = { v: PROTOCOL_VERSION, id: env.id, kind: 'res', method: env.method, target: env.target, body: err ? null : body ?? null };
  if (err) {
    res.error = err.toWire();
  }
  post(res);
}

port.on('message', (value: unknown) => {
  const decoded = decode(value);
  if (!decoded.ok) {
    fault('protocol', decoded.error);
    if (decoded.kind === 'req' && decoded.id > 0) {
      replyTo({ id: decoded.id, method: decoded.method ?? '?', target: 'sys' }, decoded.error, null);
    }
    return;
  }
  const env = decoded.env;
  if (env.kind === 'res') {
    fault('protocol', new IvError('IV_ERR_PROTOCOL', `worker ${start.name} sends no requests, got a response #${env.id}`));
    return;
  }
  if (env.target === 'sys') {
    handleSys(env).then(
      (body) => replyTo(env, undefined, body),
      (err: unknown) => replyTo(env, err instanceof IvError ? err : new IvError('IV_ERR_INTERNAL', String((err as Error)?.message ?? err)), null),
    );
    return;
  }
  const cell = cells.get(env.target);
  if (cell === undefined) {
    if (env.kind === 'req') {
      replyTo(env, new IvError('IV_ERR_ACTOR_NOT_FOUND', `no actor ${env.target} on worker ${start.name}`, { field: 'target' }), null);
    }
    return;
  }
  cell.deliver(env);
});

const heartbeat = setInterval(() => {
  ntf('SYS_HEARTBEAT', { seq: ++heartbeatSeq, heapUsed: process.memoryUsage().heapUsed, actors: cells.size });
}, start.heartbeatMs);
heartbeat.unref();

ntf('SYS_HELLO', { version: PROTOCOL_VERSION, threadId, name: start.name });
