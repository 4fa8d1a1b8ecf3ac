/**
 * redact (runtime/redact.ts): a URL's password never reaches a log line or a status answer,
 * whatever text quotes the URL; text without credentials is left as it was.
 */
import test from 'ava';
import { redactDeep, redactUrlCredentials } from '../../runtime/redact.js';

test('passwords in URLs are masked, the user and the rest of the text kept; a bare user-info (a token) is masked whole', (t) => {
  t.is(redactUrlCredentials('rtsp://viewer:s3cret@10.0.0.7:554/stream1: Connection refused'), 'rtsp://viewer:***@10.0.0.7:554/stream1: Connection refused');
  t.is(redactUrlCredentials('probe failed (mqtts://dev:p%40ss@broker:8883) and rtsp://tok3n@cam/x'), 'probe failed (mqtts://dev:***@broker:8883) and rtsp://***@cam/x');
  t.is(redactUrlCredentials('rtsp://a:@h/'), 'rtsp://a:***@h/');
  for (const plain of ['rtsp://10.0.0.7:554/stream1', 'mail me at ops@example.com', 'http://h/p?x=a:b@c', 'no url at all']) {
    t.is(redactUrlCredentials(plain), plain);
  }
});

test('redactDeep masks every string of a log call, copies only what changed, and leaves bytes and errors alone', (t) => {
  const clean = { a: 1, b: ['x', { c: 'rtsp://h/s' }] };
  t.is(redactDeep(clean), clean, 'nothing to mask: the same object');
  const args = [{ component: 'door', detail: { lastError: 'rtsp://u:pw@h/s: 401' } }, 'source-exit rtsp://u:pw@h/s'];
  const out = redactDeep(args);
  t.deepEqual(out, [{ component: 'door', detail: { lastError: 'rtsp://u:***@h/s: 401' } }, 'source-exit rtsp://u:***@h/s']);
  t.is((args[0] as { detail: { lastError: string } }).detail.lastError, 'rtsp://u:pw@h/s: 401', 'the caller\'s object is not changed');
  const bytes = new Uint8Array([1, 2]);
  t.is(redactDeep(bytes), bytes);
});
