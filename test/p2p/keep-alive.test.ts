/**
 * STUN messages, the built-in STUN responder and the keep-alive prober against it and
 * against coturn (a real STUN server on 127.0.0.1): answers, mapped addresses, lost
 * rounds, backoff while the server is unreachable at start, recovery.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { KeepAlive, type NetworkEvent } from '../../actors/p2p/keep-alive.js';
import { decodeStun, encodeBindingRequest, encodeBindingSuccess, newTransactionId, parseStunUrl, BINDING_REQUEST, BINDING_SUCCESS } from '../../actors/p2p/stun.js';
import { startStunResponder } from '../../actors/p2p/stun-server.js';
import { isIvError } from '../../runtime/errors.js';
import { startCoturn } from '../helpers/coturn.js';
import { waitFor } from '../helpers/probe-system.js';

test('STUN messages: a request and a success response round-trip, with IPv4 and IPv6 mapped addresses', (t) => {
  const tid = newTransactionId();
  const req = decodeStun(encodeBindingRequest(tid));
  t.like(req, { ok: true, type: BINDING_REQUEST });
  t.true(req.ok && req.transactionId.equals(tid));
  for (const mapped of [{ family: 'IPv4', address: '10.213.7.2', port: 50123 }, { family: 'IPv6', address: 'fd00:0:0:0:0:0:0:2a', port: 3478 }] as const) {
    const res = decodeStun(encodeBindingSuccess(tid, mapped));
    t.like(res, { ok: true, type: BINDING_SUCCESS, mapped });
  }
});

test('STUN messages: malformed bytes decode to a reason, never an exception', (t) => {
  t.like(decodeStun(Buffer.alloc(5)), { ok: false });
  const notStun = encodeBindingRequest(newTransactionId());
  notStun.writeUInt32BE(0xdeadbeef, 4);
  t.like(decodeStun(notStun), { ok: false, reason: 'not a STUN message (first bits or magic cookie)' });
  const overrun = encodeBindingSuccess(newTransactionId(), { family: 'IPv4', address: '1.2.3.4', port: 1 });
  overrun.writeUInt16BE(200, 2);
  t.like(decodeStun(overrun), { ok: false });
  for (let i = 0; i < 2_000; i++) {
    const b = randomBytes(20 + (i % 60));
    if (i % 2 === 0) {
      b.writeUInt32BE(0x2112a442, 4); // past the cookie check, into the attributes
      b.writeUInt16BE(b.length - 20 - ((b.length - 20) % 4), 2);
      b[0] = (b[0] as number) & 0x3f;
    }
    t.notThrows(() => decodeStun(b));
  }
});

test('STUN server URLs: stun:host[:port]', (t) => {
  t.deepEqual(parseStunUrl('stun:127.0.0.1:3478'), { host: '127.0.0.1', port: 3478 });
  t.deepEqual(parseStunUrl('stun:stun.example.com'), { host: 'stun.example.com', port: 3478 });
  t.deepEqual(parseStunUrl('stun:[fd00::1]:19302'), { host: 'fd00::1', port: 19302 });
  t.is(parseStunUrl('turn:127.0.0.1:3478'), undefined);
  t.is(parseStunUrl('stun:127.0.0.1:99999'), undefined);
});

test('keep-alive settings are checked and name the field', (t) => {
  const make = (o: Partial<ConstructorParameters<typeof KeepAlive>[0]>) => () => new KeepAlive({ server: 'stun:127.0.0.1', timeInterS: 5, maxAttemptNum: 3, onEvent: () => undefined, ...o });
  for (const [o, field] of [[{ server: 'http://x' }, 'keepAlive.server'], [{ timeInterS: 0 }, 'keepAlive.timeInterS'], [{ timeInterS: 256 }, 'keepAlive.timeInterS'], [{ maxAttemptNum: 11 }, 'keepAlive.maxAttemptNum'], [{ maxAttemptNum: 1.5 }, 'keepAlive.maxAttemptNum']] as const) {
    const err = t.throws(make(o));
    t.true(isIvError(err) && err.code === 'IV_ERR_INVALID_PARAM' && err.field === field, `${JSON.stringify(o)} → ${field}`);
  }
});

test('the built-in responder answers Binding requests with the sender address; the prober is ready with it', async (t) => {
  const responder = await startStunResponder();
  t.teardown(() => responder.close());
  const events: NetworkEvent[] = [];
  const ka = new KeepAlive({ server: responder.url, timeInterS: 1, maxAttemptNum: 3, onEvent: (e) => events.push(e) });
  t.teardown(() => ka.stop());
  ka.start();
  await waitFor('ready', () => events.length > 0, 3_000);
  t.is(events[0]?.type, 'ready');
  t.regex(ka.address ?? '', /^127\.0\.0\.1:\d+$/);
  await new Promise((r) => setTimeout(r, 2_200));
  t.deepEqual(events.map((e) => e.type), ['ready'], 'the same address round after round is no event');
  t.true(ka.counts.answers >= 3, `${ka.counts.answers} rounds answered`);
  t.is(responder.counts.answered, ka.counts.answers);
});

test('against coturn: connect-fail with backoff while it is down at start, ready when it comes up, one error per outage, ready again', async (t) => {
  const turn = await startCoturn();
  t.teardown(() => turn.kill());
  await turn.kill();
  const events: (NetworkEvent & { at: number })[] = [];
  const t0 = Date.now();
  const ka = new KeepAlive({ server: turn.url, timeInterS: 1, maxAttemptNum: 2, onEvent: (e) => events.push({ ...e, at: Date.now() - t0 }) });
  t.teardown(() => ka.stop());
  ka.start();
  await waitFor('two connect failures', () => events.filter((e) => e.type === 'connect-fail').length >= 2, 6_000);
  const fails = events.filter((e): e is Extract<NetworkEvent, { type: 'connect-fail' }> & { at: number } => e.type === 'connect-fail');
  t.deepEqual(fails.slice(0, 2).map((e) => e.retryInMs), [1_000, 2_000], 'backoff doubles');
  t.regex(fails[0]?.reason ?? '', /no answer from stun:127\.0\.0\.1:\d+ to 2 probe\(s\)/);
  t.is(ka.status, 'starting');
  await turn.restart();
  await waitFor('ready', () => events.some((e) => e.type === 'ready'), 8_000);
  await turn.kill();
  await waitFor('error', () => events.some((e) => e.type === 'error'), 5_000);
  t.is(ka.status, 'down');
  await new Promise((r) => setTimeout(r, 2_500));
  t.is(events.filter((e) => e.type === 'error').length, 1, 'one error per outage');
  await turn.restart();
  await waitFor('ready again', () => events.filter((e) => e.type === 'ready').length === 2, 5_000);
  t.deepEqual(events.map((e) => e.type).filter((x) => x !== 'connect-fail'), ['ready', 'error', 'ready']);
  t.is(ka.status, 'up');
});
