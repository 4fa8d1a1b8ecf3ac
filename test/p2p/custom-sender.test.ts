/**
 * custom-sender — the firmware's bytes (onSendGet) reach the channel whole and in order, or
 * the stream is marked overflowed: never sent with a hole.
 */
import test from 'ava';
import { CustomSender } from '../../actors/p2p/custom-sender.js';
import { WatermarkState } from '../../actors/p2p/watermark.js';

function channel(open: { now: boolean }) {
  const sent: Uint8Array[] = [];
  return { sent, ch: { sendMessageBinary: (d: Uint8Array) => sent.push(new Uint8Array(d)) > 0, bufferedAmount: () => 0, isOpen: () => open.now } };
}

test('bytes pushed while the channel is closed go out in order once it opens', (t) => {
  const open = { now: false };
  const { sent, ch } = channel(open);
  const s = new CustomSender(1, ch, new WatermarkState({ low: 0, warn: 0, high: 0 }), () => undefined);
  s.push(new Uint8Array([1, 2]));
  s.push(new Uint8Array([3]));
  s.tick();
  t.deepEqual(sent, []);
  open.now = true;
  s.tick();
  t.deepEqual(Buffer.concat(sent), Buffer.from([1, 2, 3]));
  t.false(s.overflowed);
});

test('past 4 MiB queued the stream is overflowed and nothing after the hole is sent; one chunk alone may be larger', (t) => {
  const open = { now: false };
  const { sent, ch } = channel(open);
  const s = new CustomSender(1, ch, new WatermarkState({ low: 0, warn: 0, high: 0 }), () => undefined);
  s.push(new Uint8Array(6 << 20)); // a 6 MiB chunk on an empty queue is taken (the C side caps a chunk at 16 MiB)
  t.false(s.overflowed);
  s.push(new Uint8Array(64 * 1024));
  t.true(s.overflowed, 'the next chunk would pass 4 MiB');
  s.push(new Uint8Array(10));
  t.is(s.dropped, 64 * 1024 + 10, 'everything after the hole is refused too');
  open.now = true;
  s.tick();
  t.is(sent.reduce((n, c) => n + c.length, 0), 6 << 20, 'only the bytes before the hole went out');
});
