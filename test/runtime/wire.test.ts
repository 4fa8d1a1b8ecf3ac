import test from 'ava';
import { MessageChannel } from 'node:worker_threads';
import { Packr } from 'msgpackr';
import { decode, encode } from '../../runtime/wire.js';
import { PROTOCOL_VERSION, registerMethods, type Envelope } from '../../runtime/schema.js';
import { PROBE_METHODS, RING_PROBE_METHODS } from '../../actors/probe/probe-methods.js';

// decode checks against the methods registered in this thread
registerMethods(PROBE_METHODS);
registerMethods(RING_PROBE_METHODS);

const env = (over: Partial<Envelope>): Envelope => ({ v: PROTOCOL_VERSION, id: 7, kind: 'req', method: 'PROBE_SLEEP', target: 'p', body: { ms: 5 }, ...over });

test('an envelope survives encode and decode', (t) => {
  const d = decode(encode(env({})).value);
  t.true(d.ok);
  t.like(d.ok ? d.env : {}, { v: PROTOCOL_VERSION, id: 7, kind: 'req', method: 'PROBE_SLEEP', target: 'p', body: { ms: 5 } });
});

test('encoded bytes own their buffer, so transferring them never detaches a shared pool', (t) => {
  const a = encode(env({}));
  const b = encode(env({ id: 8 }));
  const bytes = a.value as Uint8Array;
  t.is(bytes.byteOffset, 0);
  t.is(bytes.buffer.byteLength, bytes.byteLength);
  t.not(bytes.buffer, (b.value as Uint8Array).buffer);
});

test('an unknown method is a typed fault, never silently accepted', (t) => {
  const d = decode(encode(env({ method: 'CAMERA_EXPLODE' })).value);
  t.false(d.ok);
  t.like(d.ok ? {} : d, { id: 7, kind: 'req', method: 'CAMERA_EXPLODE', error: { code: 'IV_ERR_UNKNOWN_METHOD', field: 'method' } });
});

test('a wrong version, a bad kind, non-msgpack and a bad body are each refused with their own reason', (t) => {
  const codeOf = (value: unknown): string | undefined => {
    const d = decode(value);
    return d.ok ? undefined : `${d.error.code}${d.error.field ? `@${d.error.field}` : ''}`;
  };
  t.is(codeOf(encode(env({ v: 2 })).value), 'IV_ERR_VERSION_MISMATCH@v');
  t.is(codeOf(encode(env({ kind: 'yell' as 'req' })).value), 'IV_ERR_INVALID_PARAM@kind');
  t.is(codeOf(new Uint8Array([0xc1])), 'IV_ERR_PROTOCOL');
  t.is(codeOf({ not: 'bytes' }), 'IV_ERR_PROTOCOL');
  t.is(codeOf(new Packr().pack(42)), 'IV_ERR_PROTOCOL');
  t.is(codeOf(encode(env({ body: { ms: -1 } })).value), 'IV_ERR_INVALID_PARAM@body.ms');
  t.is(codeOf(encode(env({ target: 5 as unknown as string })).value), 'IV_ERR_INVALID_PARAM@target');
});

test('a SharedArrayBuffer in a body arrives as the same shared memory on the other side', async (t) => {
  const sab = new SharedArrayBuffer(16);
  const { value, transfer } = encode({ v: PROTOCOL_VERSION, id: 1, kind: 'req', method: 'RINGPROBE_PRODUCE', target: 'x', body: { ring: sab, frames: [], repeat: 1, fill: 'none', intervalMs: 0 } });
  const { port1, port2 } = new MessageChannel();
  const got = new Promise<unknown>((resolve) => port2.once('message', resolve));
  port1.postMessage(value, transfer as never);
  const d = decode(await got);
  port1.close();
  t.true(d.ok);
  const ring = (d.ok ? d.env.body : {}) as { ring: SharedArrayBuffer };
  t.true(ring.ring instanceof SharedArrayBuffer);
  new Int32Array(ring.ring)[0] = 42;
  t.is(new Int32Array(sab)[0], 42);
});
