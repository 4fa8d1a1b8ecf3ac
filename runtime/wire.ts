/**
 * wire — turns an Envelope into what `postMessage` carries and back.
 *
 * Owns: msgpack encoding (msgpackr) of the envelope, moving SharedArrayBuffers and
 * MessagePorts found in a body beside the bytes, and the
 * structural checks on what arrives (version, kind, method registered in this thread's
 * schema registry, body shape).
 *
 * Must never: hand an envelope with an unknown method or a wrong version to a caller
 * (decode returns a typed error instead), or post a view of msgpackr's pooled buffer.
 *
 * Posted value: either the msgpack bytes (a Uint8Array whose ArrayBuffer is
 * transferred), or `[bytes, ...shared]` when the body had shared objects (within
 * six levels of plain objects/arrays, e.g. `body.args.cameras[0].ring`), in which case those
 * values are encoded as `{ $shared: index }`.
 */
import { MessagePort } from 'node:worker_threads';
import { Packr } from 'msgpackr';
import { IvError, invalidParam } from './errors.js';
import { PROTOCOL_VERSION, checkBody, methodSpec, type Envelope, type MethodSpec } from './schema.js';

const packr = new Packr({ useRecords: false, moreTypes: false, bundleStrings: false });

export type Posted = Uint8Array | unknown[];

export interface Encoded {
  value: Posted;
  transfer: (ArrayBuffer | MessagePort)[];
}

function isShared(v: unknown): v is SharedArrayBuffer | MessagePort {
  return v instanceof SharedArrayBuffer || v instanceof MessagePort;
}

/** How deep into a body shared objects are looked for (body.args.cameras[0].ring is depth 4). */
const SHARED_DEPTH = 6;

function isPlain(v: unknown): v is Record<string, unknown> | unknown[] {
  if (typeof v !== 'object' || v === null) {
    return false;
  }
  const proto = Object.getPrototypeOf(v);
  return Array.isArray(v) || proto === Object.prototype || proto === null;
}

/** Copy-on-write replacement of shared objects by `{ $shared: i }` refs. */
function extractShared(v: unknown, shared: (SharedArrayBuffer | MessagePort)[], depth: number): unknown {
  if (isShared(v)) {
    shared.push(v);
    return { $shared: shared.length - 1 };
  }
  if (depth === 0 || !isPlain(v)) {
    return v;
  }
  let copy: Record<string, unknown> | unknown[] | undefined;
  const src = v as Record<string, unknown>;
  for (const key of Object.keys(src)) {
    const before = src[key];
    const after = extractShared(before, shared, depth - 1);
    if (after !== before) {
      copy ??= Array.isArray(v) ? [...v] : { ...src };
      (copy as Record<string, unknown>)[key] = after;
    }
  }
  return copy ?? v;
}

function restoreShared(v: unknown, shared: unknown[], depth: number): unknown {
  if (depth < 0 || typeof v !== 'object' || v === null) {
    return v;
  }
  const ref = (v as { $shared?: unknown }).$shared;
  if (typeof ref === 'number' && Object.keys(v).length === 1) {
    return shared[ref];
  }
  const rec = v as Record<string, unknown>;
  for (const key of Object.keys(rec)) {
    rec[key] = restoreShared(rec[key], shared, depth - 1);
  }
  return v;
}

export function encode(env: Envelope): Encoded {
  const shared: (SharedArrayBuffer | MessagePort)[] = [];
  const body = extractShared(env.body, shared, SHARED_DEPTH);
  const packed = packr.pack(body === env.body ? env : { ...env, body });
  const bytes = new Uint8Array(packed.length);
  bytes.set(packed);
  const transfer: (ArrayBuffer | MessagePort)[] = [bytes.buffer];
  if (shared.length === 0) {
    return { value: bytes, transfer };
  }
  for (const s of shared) {
    if (s instanceof MessagePort) {
      transfer.push(s);
    }
  }
  return { value: [bytes, ...shared], transfer };
}

export type Decoded =
  | { ok: true; env: Envelope; spec: MethodSpec }
  | { ok: false; error: IvError; id: number; kind: string | undefined; method: string | undefined };

const KINDS = new Set(['req', 'res', 'ntf']);

/** Decode and check a posted value against the schema. Never throws. */
export function decode(value: unknown): Decoded {
  let bytes: unknown = value;
  let shared: unknown[] = [];
  if (Array.isArray(value)) {
    bytes = value[0];
    shared = value.slice(1);
  }
  if (!(bytes instanceof Uint8Array)) {
    return fail(new IvError('IV_ERR_PROTOCOL', 'message is not msgpack bytes'), undefined);
  }
  let raw: unknown;
  try {
    raw = packr.unpack(bytes);
  } catch (err) {
    return fail(new IvError('IV_ERR_PROTOCOL', `message is not valid msgpack: ${(err as Error).message}`), undefined);
  }
  if (typeof raw !== 'object' || raw === null || Object.getPrototypeOf(raw) !== Object.prototype) {
    return fail(new IvError('IV_ERR_PROTOCOL', 'envelope is not a plain msgpack map'), undefined);
  }
  const env = raw as Partial<Envelope>;
  const id = typeof env.id === 'number' && Number.isInteger(env.id) ? env.id : 0;
  if (env.v !== PROTOCOL_VERSION) {
    return fail(new IvError('IV_ERR_VERSION_MISMATCH', `envelope version ${String(env.v)}, expected ${PROTOCOL_VERSION}`, { field: 'v' }), env, id);
  }
  if (typeof env.kind !== 'string' || !KINDS.has(env.kind)) {
    return fail(invalidParam('kind', `expected req, res or ntf, got ${JSON.stringify(env.kind)}`), env, id);
  }
  const spec = methodSpec(env.method);
  if (spec === undefined) {
    return fail(new IvError('IV_ERR_UNKNOWN_METHOD', `method ${JSON.stringify(env.method)} is not in schema v${PROTOCOL_VERSION}`, { field: 'method' }), env, id);
  }
  if (typeof env.target !== 'string') {
    return fail(invalidParam('target', 'expected a string'), env, id);
  }
  if (shared.length > 0) {
    env.body = restoreShared(env.body, shared, SHARED_DEPTH);
  }
  if (env.kind !== 'res') {
    const bodyError = checkBody(spec, env.body);
    if (bodyError) {
      return fail(bodyError, env, id);
    }
  }
  return { ok: true, env: env as Envelope, spec };
}

function fail(error: IvError, env: Partial<Envelope> | undefined, id = 0): Decoded {
  return {
    ok: false,
    error,
    id,
    kind: typeof env?.kind === 'string' ? env.kind : undefined,
    method: typeof env?.method === 'string' ? env.method : undefined,
  };
}
