/**
 * A send on a data channel that is closing under the sender (node-datachannel throws
 * EPIPE, a browser InvalidStateError) is a message not sent, never a crash; any other
 * error still throws.
 */
import test from 'ava';
import { sendBinary } from '../../shared/protocol/channel-send.js';

const throwing = (err: Error) => ({ sendMessageBinary: (): boolean => { throw err; } });

test('a closing channel\'s refusal is false, a taken message true (node-datachannel\'s own false only means buffered)', (t) => {
  const sent: number[] = [];
  t.true(sendBinary({ sendMessageBinary: (d: Uint8Array) => { sent.push(d.length); return false; } }, new Uint8Array(3)));
  t.deepEqual(sent, [3]);
  t.false(sendBinary(throwing(new Error('libdatachannel error while sending data channel message: Sending failed, errno=32')), new Uint8Array(1)));
  t.false(sendBinary(throwing(new Error('DataChannel is closed')), new Uint8Array(1)));
  const invalid = new Error('Failed to execute \'send\' on \'RTCDataChannel\': RTCDataChannel.readyState is not \'open\'');
  invalid.name = 'InvalidStateError';
  t.false(sendBinary(throwing(invalid), new Uint8Array(1)));
});

test('any other error is the caller\'s and still throws', (t) => {
  t.throws(() => sendBinary(throwing(new TypeError('Expected a Buffer')), new Uint8Array(1)), { instanceOf: TypeError });
});
