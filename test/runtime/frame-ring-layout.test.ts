import test from 'ava';
import * as L from '../../runtime/frame-ring-layout.js';
import { FrameRing } from '../../runtime/frame-ring.js';

test('the frame ring layout constants are pinned (changing one needs a new LAYOUT_VERSION)', (t) => {
  t.deepEqual(
    { MAGIC: L.MAGIC, LAYOUT_VERSION: L.LAYOUT_VERSION, HEADER_BYTES: L.HEADER_BYTES, SLOT_BYTES: L.SLOT_BYTES },
    { MAGIC: 0x49564652, LAYOUT_VERSION: 4, HEADER_BYTES: 128, SLOT_BYTES: 48 },
  );
  t.deepEqual([L.I_MAGIC, L.I_VERSION, L.I_DATA_BYTES, L.I_SLOTS, L.I_KEYS, L.I_NOTIFY, L.I_WAITERS, L.I_PRODUCER, L.I_CLOSED, L.I_LAPS, L.I_RING_ID], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  t.deepEqual([L.B_HEAD, L.B_OLDEST, L.B_KEY_HEAD, L.B_WRITE_POS, L.B_BYTES, L.B_TOUCHED], [8, 9, 10, 11, 12, 13]);
  t.deepEqual([L.S_SEQ, L.S_PTS, L.S_DTS, L.S_OFFSET, L.S_LENGTH, L.S_FLAGS, L.S_CODEC_STREAM, L.S_ABS_START], [0, 8, 16, 24, 28, 32, 36, 40]);
  t.is(L.FLAG_KEYFRAME, 1);
  t.deepEqual(L.offsetsOf({ dataBytes: 65_536, slots: 16, keys: 4 }), { slotTable: 128, keyIndex: 896, data: 960, total: 66_496 });
});

test('the counters never overlap the Int32 control words and the data region is 64-byte aligned', (t) => {
  t.true(L.B_HEAD * 8 >= 16 * 4, 'BigInt64 counters start after the 16 Int32 control words');
  t.true((L.B_TOUCHED + 1) * 8 <= L.HEADER_BYTES);
  for (const slots of [4, 64, 1024]) {
    for (const keys of [1, 8, 64]) {
      t.is(L.offsetsOf({ dataBytes: 4096, slots, keys }).data % 64, 0);
    }
  }
});

test('a created ring carries its magic, version and geometry where the layout says', (t) => {
  const ring = FrameRing.create({ dataBytes: 8192, slots: 32, keys: 8 });
  const i32 = new Int32Array(ring.buffer, 0, 16);
  t.deepEqual([i32[L.I_MAGIC], i32[L.I_VERSION], i32[L.I_DATA_BYTES], i32[L.I_SLOTS], i32[L.I_KEYS]], [L.MAGIC, 4, 8192, 32, 8]);
  t.is(ring.buffer.byteLength, L.offsetsOf({ dataBytes: 8192, slots: 32, keys: 8 }).total);
  t.is(new BigInt64Array(ring.buffer, 0, 16)[L.B_HEAD], -1n);
});

test('a ring keeps one id however it is attached, and two rings never share one', (t) => {
  const a = FrameRing.create({ dataBytes: 4096, slots: 8, keys: 2 });
  const b = FrameRing.create({ dataBytes: 4096, slots: 8, keys: 2 });
  t.is(FrameRing.attach(a.buffer).id, a.id);
  t.not(a.id, b.id);
  t.true(a.id > 0 && Number.isSafeInteger(a.id));
});
