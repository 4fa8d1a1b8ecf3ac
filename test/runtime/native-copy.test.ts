/**
 * Large frames go into a FrameRing with libc memcpy (iv_mem's copyInto) instead of V8's
 * word-by-word copy into shared memory: the bytes a reader gets are the bytes written,
 * at every size and across the ring's end; the copy refuses a range outside its
 * destination and anything but Uint8Arrays, writing nothing.
 */
import test from 'ava';
import { loadMemAddon } from '../../runtime/allocator.js';
import { FrameRing } from '../../runtime/frame-ring.js';

const addon = loadMemAddon();

test('copyInto writes the source into shared memory at the offset and nothing around it', (t) => {
  if (!addon) {
    t.fail('the iv_mem addon is not built (npm run build:native)');
    return;
  }
  const dst = new Uint8Array(new SharedArrayBuffer(64), 8, 48); // a view with its own byte offset
  const src = Uint8Array.from({ length: 20 }, (_, i) => i + 1);
  addon.copyInto(dst, 10, src);
  t.deepEqual([...dst.subarray(10, 30)], [...src]);
  t.true(dst.subarray(0, 10).every((b) => b === 0) && dst.subarray(30).every((b) => b === 0), 'bytes around the range untouched');
  t.is(new Uint8Array(dst.buffer)[18], 1, 'the view\'s own offset counts');
});

test('copyInto refuses a range past the end, a negative offset and other array types, writing nothing', (t) => {
  if (!addon) {
    t.fail('the iv_mem addon is not built');
    return;
  }
  const dst = new Uint8Array(new SharedArrayBuffer(32));
  const src = new Uint8Array(8).fill(7);
  t.throws(() => addon.copyInto(dst, 25, src), { instanceOf: RangeError, message: /outside the destination/ });
  t.throws(() => addon.copyInto(dst, -1, src), { instanceOf: RangeError });
  t.throws(() => addon.copyInto(dst, Number.NaN, src), { instanceOf: RangeError });
  t.throws(() => addon.copyInto(new Uint16Array(16) as unknown as Uint8Array, 0, src), { instanceOf: TypeError, message: /Uint8Arrays/ });
  t.throws(() => addon.copyInto(dst, 0, 'bytes' as unknown as Uint8Array), { instanceOf: TypeError });
  t.true(dst.every((b) => b === 0), 'nothing written');
  addon.copyInto(dst, 32, new Uint8Array(0)); // an empty copy at the very end is fine
});

test('frames of 16 KiB to 300 KiB come out of a ring byte for byte, also where they skip its end', (t) => {
  const ring = FrameRing.create({ dataBytes: 1024 * 1024, slots: 64, keys: 8 });
  const w = ring.writer();
  const r = ring.reader('oldest');
  let read = 0;
  for (let i = 0; i < 60; i++) {
    const size = 16 * 1024 + ((i * 48_271) % (284 * 1024));
    const data = Uint8Array.from({ length: size }, (_, k) => (k * 31 + i) & 0xff);
    w.write({ data, pts: i * 40_000, keyframe: true });
    const f = r.read();
    if (!f) {
      t.fail(`frame ${i} not readable`);
      return;
    }
    t.is(f.data.byteLength, size);
    if (!f.data.every((b, k) => b === ((k * 31 + i) & 0xff))) {
      t.fail(`frame ${i} (${size} bytes) differs from what was written`);
      return;
    }
    read++;
  }
  t.is(read, 60);
  t.true(ring.bytesWritten > 5 * ring.dataBytes, `the frames went round the ring many times: ${ring.bytesWritten} bytes through ${ring.dataBytes}`);
});
