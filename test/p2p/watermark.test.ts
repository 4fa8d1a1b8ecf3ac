/**
 * watermark — the SDK's rule for one stream's backlog: WARN once per upward crossing, HIGH
 * pauses, below LOW resumes; a LOW of 0 resumes once the backlog is empty.
 */
import test from 'ava';
import { checkWatermarks, WatermarkState } from '../../actors/p2p/watermark.js';

test('warn once per crossing, high pauses, below low resumes with LOW once', (t) => {
  const w = new WatermarkState({ low: 200, warn: 400, high: 500 });
  t.deepEqual(w.update(450), ['warn']);
  t.deepEqual(w.update(480), []);
  t.deepEqual(w.update(600), ['high']);
  t.true(w.isPaused);
  t.deepEqual(w.update(300), [], 'between low and warn: still paused');
  t.deepEqual(w.update(100), ['low']);
  t.false(w.isPaused);
  t.deepEqual(w.update(450), ['warn'], 'a new upward crossing warns again');
});

test('a LOW of 0 is accepted and a paused stream resumes once its backlog is empty (it would never be below 0)', (t) => {
  t.is(checkWatermarks({ low: 0, warn: 400, high: 500 }), undefined);
  const w = new WatermarkState({ low: 0, warn: 400, high: 500 });
  t.deepEqual(w.update(600), ['warn', 'high']);
  t.deepEqual(w.update(10), []);
  t.true(w.isPaused);
  t.deepEqual(w.update(0), ['low']);
  t.false(w.isPaused);
});

test('all zero disables; anything else must be ordered with high > 0, naming the field', (t) => {
  t.is(checkWatermarks({ low: 0, warn: 0, high: 0 }), undefined);
  const off = new WatermarkState({ low: 0, warn: 0, high: 0 });
  t.deepEqual(off.update(10_000_000), []);
  t.like(checkWatermarks({ low: 500, warn: 400, high: 300 }), { field: 'warn_mark' });
  t.like(checkWatermarks({ low: -1, warn: 400, high: 500 }), { field: 'low_mark' });
});
