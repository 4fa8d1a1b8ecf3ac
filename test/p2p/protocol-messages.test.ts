/**
 * The shared protocol module (shared/protocol/) on its own: both signaling parsers, the
 * transport rules both ends follow, stream params; and the listener-error channel of
 * the feature APIs (shared/safe-emitter.ts).
 */
import test from 'ava';
import { parseAppSignal, parseDeviceSignal, MAX_SIGNAL_BYTES, upTopic, downTopic } from '../../shared/protocol/signaling-messages.js';
import { candidateOnBind, offerAsDtlsClient, pathFailed, streamLabel, streamOfLabel } from '../../shared/protocol/transport-rules.js';
import { isLiveStream } from '../../shared/protocol/stream-params.js';
import { grants } from '../../shared/protocol/rights.js';
import { TypedEmitter } from '../../runtime/typed-emitter.js';

const bytes = (v: unknown): Uint8Array => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));

test('the device parses an app\'s signaling once: typed messages, or the refusal with its reason', (t) => {
  const offer = parseAppSignal(bytes({ type: 'offer', peer: 'p1', token: 'x', requestId: 'r-12345678', ts: 1, sdp: 'v=0 offer' }), 'p1');
  t.like(offer, { ok: true, requestId: 'r-12345678', msg: { type: 'offer', sdp: 'v=0 offer', token: 'x' } });
  t.like(parseAppSignal(bytes({ type: 'candidate', peer: 'p1', candidate: 'c', mid: '0' }), 'p1'), { ok: true, msg: { type: 'candidate', candidate: 'c', mid: '0' } });
  const problems: [unknown, string, string | undefined][] = [
    ['{', 'message is not JSON', undefined],
    [[1], 'message is not a JSON object', undefined],
    [{ type: 'offer', peer: 'p2', requestId: 'r-1' }, 'peer: does not match the topic', 'r-1'],
    [{ type: 'offer', peer: 'p1', sdp: 'x' }, 'sdp: expected an SDP offer', undefined],
    [{ type: 'answer', peer: 'p1', sdp: 'v=0' }, 'requestId: missing', undefined],
    [{ type: 'answer', peer: 'p1', requestId: 'd-1', sdp: 1 }, 'sdp: expected an SDP answer', 'd-1'],
    [{ type: 'candidate', peer: 'p1', candidate: 'c' }, 'mid: expected a string', undefined],
    [{ type: 'hello', peer: 'p1' }, 'type: unknown message type "hello"', undefined],
  ];
  for (const [msg, reason, requestId] of problems) {
    t.deepEqual(parseAppSignal(bytes(msg), 'p1'), { ok: false, requestId, reason });
  }
  t.like(parseAppSignal(new Uint8Array(MAX_SIGNAL_BYTES + 1), 'p1'), { ok: false, reason: `message of ${MAX_SIGNAL_BYTES + 1} bytes exceeds ${MAX_SIGNAL_BYTES}` });
  t.is(upTopic('d', 'p'), 'iv/d/peer/p/up');
  t.is(downTopic('d', 'p'), 'iv/d/peer/p/down');
});

test('the app parses the device\'s signaling once; anything malformed is ignored', (t) => {
  t.deepEqual(parseDeviceSignal(bytes({ type: 'offer', requestId: 'd-1', sdp: 'v=0', iceRestart: true })), { type: 'offer', requestId: 'd-1', sdp: 'v=0', iceRestart: true });
  t.deepEqual(parseDeviceSignal(bytes({ type: 'refused', requestId: 'r-1', code: 'IV_ERR_BUSY', reason: 'full' })), { type: 'refused', requestId: 'r-1', code: 'IV_ERR_BUSY', reason: 'full' });
  t.deepEqual(parseDeviceSignal(bytes({ type: 'refused', code: 'NOT_A_CODE' })), { type: 'refused', code: 'IV_ERR_INTERNAL', reason: '' });
  for (const bad of ['x', { type: 'answer', sdp: 1, requestId: 'r' }, { type: 'candidate', candidate: 'c' }, { type: 'nope' }, null]) {
    t.is(parseDeviceSignal(bytes(bad)), undefined);
  }
});

test('transport rules: labels, DTLS role of an offer, candidates on the bound address, a failed path', (t) => {
  t.is(streamLabel(3), 's3');
  t.is(streamOfLabel('s12'), 12);
  t.is(streamOfLabel('control'), undefined);
  t.is(streamOfLabel('s1x'), undefined);
  t.is(offerAsDtlsClient('a=setup:actpass\r\na=setup:actpass'), 'a=setup:active\r\na=setup:active');
  t.true(candidateOnBind('a=candidate:1 1 UDP 1 127.0.0.1 5000 typ host', '127.0.0.1'));
  t.false(candidateOnBind('a=candidate:1 1 UDP 1 10.0.0.1 5000 typ host', '127.0.0.1'));
  t.true(candidateOnBind('anything', undefined));
  t.deepEqual(['disconnected', 'failed', 'checking', 'connected', 'completed', 'closed'].map(pathFailed), [true, true, true, false, false, false]);
  t.true(isLiveStream('action=live&channel=1'));
  t.false(isLiveStream('action=playback&channel=0&start=1'));
  t.false(isLiveStream('action=live&channel=999'));
  t.true(grants({ rights: ['live'], expires: Date.now() / 1000 + 60 }, 'live'));
  t.false(grants({ rights: ['live'], expires: Date.now() / 1000 - 1 }, 'live'));
  t.false(grants({ rights: ['live'], expires: Date.now() / 1000 + 60 }, 'voice'));
});

class Probe extends TypedEmitter<{ ping: [n: number] }> {
  fire(n: number): void {
    this.emit('ping', n);
  }

  run(fn: () => number): number | undefined {
    return this.guard('userCallback', fn);
  }
}

test('a throwing listener or user callback reaches listenererror, never the emitter\'s owner', (t) => {
  const p = new Probe();
  const seen: [string, string][] = [];
  const got: number[] = [];
  p.on('ping', () => {
    throw new Error('boom');
  });
  p.on('ping', (n) => got.push(n));
  p.on('listenererror', (where, err) => seen.push([where, (err as Error).message]));
  p.fire(1);
  t.deepEqual(got, [1], 'the other listeners still ran');
  t.is(p.run(() => {
    throw new Error('user');
  }), undefined);
  t.is(p.run(() => 7), 7);
  t.deepEqual(seen, [['ping', 'boom'], ['userCallback', 'user']]);
  // a listenererror listener that throws itself does not loop
  p.on('listenererror', () => {
    throw new Error('again');
  });
  t.notThrows(() => p.fire(2));
});
