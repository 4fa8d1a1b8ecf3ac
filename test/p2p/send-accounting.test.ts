import test from 'ava';
import { SendAccounting } from '../../actors/p2p/send-accounting.js';

function channel() {
  const messages: number[] = [];
  return { messages, ch: { sendMessageBinary: (d: Uint8Array) => messages.push(d.byteLength) > 0, bufferedAmount: () => 0, isOpen: () => true } };
}

test('send statistics follow the SDK: rates over the last second, acked bytes in total, backlog = sent - acked', (t) => {
  let now = 0;
  const { ch, messages } = channel();
  const acc = new SendAccounting(ch, () => now);
  acc.send(new Uint8Array(150_000));
  t.deepEqual(messages, [65_536, 65_536, 18_928], 'split into messages of at most 64 KiB');
  now = 400;
  acc.send(new Uint8Array(50_000));
  acc.ack(120_000, 100);
  t.like(acc.stats({ frames: 0, laps: 0, paused: false }), { instNetRate: 200_000, aveSentRate: 120_000, sumSentAcked: 120_000, sent: 200_000, backlog: 80_000, rttMs: 300 });
  now = 1_200;
  t.like(acc.stats({ frames: 0, laps: 0, paused: false }), { instNetRate: 50_000, aveSentRate: 120_000 }, 'the first send left the window');
  acc.ack(500_000, 0);
  t.like(acc.stats({ frames: 0, laps: 0, paused: false }), { sumSentAcked: 200_000, backlog: 0 }, 'acks never exceed what was sent');
  now = 5_000;
  t.like(acc.stats({ frames: 0, laps: 0, paused: false, queued: 7 }), { instNetRate: 0, aveSentRate: 0, sumSentAcked: 200_000, backlog: 7 });
});
