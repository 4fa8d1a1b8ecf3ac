import test from 'ava';
import { isIvError } from '../../runtime/errors.js';
import { FrameRing, type FrameWriter } from '../../runtime/frame-ring.js';

function frame(n: number, size = 100, keyframe = false) {
  return { data: new Uint8Array(size).fill(n & 0xff), pts: n * 40_000, dts: n * 40_000 - 1, keyframe, codec: 7, stream: n % 2 };
}

function writeGops(w: FrameWriter, count: number, gop: number, size = 100): void {
  for (let i = 0; i < count; i++) {
    const seq = w.nextSeq;
    w.write(frame(seq, size, seq % gop === 0));
  }
}

test('frames come out in order with their payload and metadata intact', (t) => {
  const ring = FrameRing.create({ dataBytes: 64 * 1024, slots: 64 });
  const w = ring.writer();
  const r = ring.reader('oldest');
  for (let i = 0; i < 20; i++) {
    w.write(frame(i, 10 + i, i === 0));
  }
  for (let i = 0; i < 20; i++) {
    const f = r.read();
    t.truthy(f);
    t.like(f, { seq: i, pts: i * 40_000, dts: i * 40_000 - 1, keyframe: i === 0, codec: 7, stream: i % 2, discontinuity: false });
    t.deepEqual(f?.data, new Uint8Array(10 + i).fill(i));
  }
  t.is(r.read(), null);
  t.deepEqual(r.stats, { frames: 20, bytes: 20 * 10 + 190, laps: 0, lostFrames: 0 });
});

test('readReused gives every frame intact through one buffer it keeps, grown for a larger frame, and still detects a lap', (t) => {
  const ring = FrameRing.create({ dataBytes: 64 * 1024, slots: 64, keys: 4 });
  const w = ring.writer();
  const r = ring.reader('oldest');
  for (let i = 0; i < 8; i++) {
    w.write(frame(i, i === 5 ? 20_000 : 100 + i, i % 4 === 0));
  }
  const seen: { seq: number; buffer: ArrayBufferLike }[] = [];
  for (let f = r.readReused(); f !== null; f = r.readReused()) {
    t.deepEqual(f.data, new Uint8Array(f.seq === 5 ? 20_000 : 100 + f.seq).fill(f.seq), `frame ${f.seq} intact`);
    seen.push({ seq: f.seq, buffer: f.data.buffer });
  }
  t.deepEqual(seen.map((s) => s.seq), [0, 1, 2, 3, 4, 5, 6, 7]);
  t.is(new Set(seen.slice(0, 5).map((s) => s.buffer)).size, 1, 'one buffer for the small frames');
  t.not(seen[5]?.buffer, seen[4]?.buffer, 'a larger frame grows it');
  t.is(seen[6]?.buffer, seen[5]?.buffer, 'and the grown one is kept');
  t.deepEqual(r.stats, { frames: 8, bytes: 100 + 101 + 102 + 103 + 104 + 20_000 + 106 + 107, laps: 0, lostFrames: 0 });
  for (let i = 0; i < 200; i++) {
    const seq = w.nextSeq;
    w.write(frame(seq, 1000, seq % 4 === 0));
  }
  const f = r.readReused();
  t.true(f?.keyframe && f.discontinuity, 'after a lap: a keyframe, marked');
  t.is(r.stats.laps, 1);
});

test('a new viewer starts at the latest keyframe, so its first frame is decodable', (t) => {
  const ring = FrameRing.create({ dataBytes: 64 * 1024, slots: 64 });
  const w = ring.writer();
  writeGops(w, 23, 10);
  const r = ring.reader('latest-keyframe');
  t.like(r.read(), { seq: 20, keyframe: true });
  const late = ring.reader('next');
  writeGops(w, 10, 10); // 23..32, keyframe at 30
  t.like(late.read(), { seq: 30, keyframe: true }, '"next" waits for the next keyframe');
});

test('a reader that is lapped notices, counts what it lost, and resumes at a keyframe', (t) => {
  const ring = FrameRing.create({ dataBytes: 4096, slots: 16, keys: 4 });
  const w = ring.writer();
  const r = ring.reader('oldest');
  writeGops(w, 5, 4);
  t.is(r.read()?.seq, 0);
  writeGops(w, 60, 4);
  const f = r.read();
  t.truthy(f);
  t.true(f!.keyframe);
  t.true(f!.discontinuity);
  t.true(f!.seq >= ring.oldest);
  t.is(r.stats.laps, 1);
  t.is(ring.laps, 1, 'the lap is visible on the ring for the producer\'s stats');
  t.is(r.stats.lostFrames, f!.seq - 1);
  const next = r.read();
  t.is(next?.seq, f!.seq + 1);
  t.false(next?.discontinuity);
});

test('a lapped reader with no keyframe left in the ring skips to the next keyframe', (t) => {
  const ring = FrameRing.create({ dataBytes: 4096, slots: 16, keys: 4 });
  const w = ring.writer();
  const r = ring.reader('oldest');
  w.write(frame(0, 100, true));
  for (let i = 1; i < 40; i++) {
    w.write(frame(i, 100, false));
  }
  t.is(r.read(), null, 'nothing decodable until a keyframe');
  w.write(frame(40, 100, true));
  t.like(r.read(), { seq: 40, keyframe: true, discontinuity: true });
  t.is(r.stats.lostFrames, 40);
});

test('a zero-copy reader is told when the frame it holds was overwritten meanwhile', (t) => {
  const ring = FrameRing.create({ dataBytes: 4096, slots: 16, keys: 4 });
  const w = ring.writer();
  const r = ring.reader('oldest');
  writeGops(w, 4, 4);
  const view = r.peek();
  t.is(view?.seq, 0);
  t.true(r.release(), 'intact frame');
  const held = r.peek();
  t.is(held?.seq, 1);
  writeGops(w, 40, 4);
  t.false(r.release(), 'overwritten while held');
  t.is(r.stats.laps, 1);
  t.true(r.read()?.discontinuity);
});

test('the last GOP can be fetched for pre-recording without disturbing readers', (t) => {
  const ring = FrameRing.create({ dataBytes: 64 * 1024, slots: 64 });
  const w = ring.writer();
  t.deepEqual(ring.lastGop(), []);
  writeGops(w, 27, 10);
  const gop = ring.lastGop();
  t.deepEqual(gop.map((f) => f.seq), [20, 21, 22, 23, 24, 25, 26]);
  t.true(gop[0]?.keyframe);
  t.deepEqual(gop[6]?.data, new Uint8Array(100).fill(26));
});

test('a frame larger than the ring is refused with a typed error and changes nothing', (t) => {
  const ring = FrameRing.create({ dataBytes: 4096, slots: 16 });
  const w = ring.writer();
  w.write(frame(0, 100, true));
  const err = t.throws(() => w.write({ data: new Uint8Array(5000), pts: 0, keyframe: true }));
  t.true(isIvError(err, 'IV_ERR_RING_FRAME_TOO_LARGE'));
  t.is((err as { field?: string }).field, 'data');
  t.is(ring.head, 0);
  t.is(ring.reader('oldest').read()?.seq, 0);
});

test('bad metadata is refused with an error naming the field', (t) => {
  const w = FrameRing.create({ dataBytes: 4096 }).writer();
  t.is((t.throws(() => w.write({ data: new Uint8Array(1), pts: 0, keyframe: true, codec: 300 })) as { field?: string }).field, 'codec');
  t.is((t.throws(() => w.write({ data: new Uint8Array(1), pts: 0, keyframe: true, stream: -1 })) as { field?: string }).field, 'stream');
});

test('a ring has one producer; a restarted producer takes over after the last published frame', (t) => {
  const ring = FrameRing.create({ dataBytes: 4096, slots: 16 });
  const w1 = ring.writer();
  writeGops(w1, 5, 4);
  t.true(isIvError(t.throws(() => ring.writer()), 'IV_ERR_BUSY'));
  const r = ring.reader('oldest');
  const w2 = ring.writer({ takeover: true });
  t.is(w2.nextSeq, 5);
  writeGops(w2, 40, 4);
  const seqs: number[] = [];
  for (let f = r.read(); f; f = r.read()) {
    seqs.push(f.seq);
  }
  t.true(seqs.every((s, i) => i === 0 || s > (seqs[i - 1] as number)));
  t.is(seqs.at(-1), 44);
});

test('the producer never blocks: a stalled reader does not slow or stop writes', (t) => {
  const ring = FrameRing.create({ dataBytes: 16 * 1024, slots: 32 });
  const w = ring.writer();
  const stalled = ring.reader('oldest');
  writeGops(w, 10_000, 25, 1000);
  t.is(ring.head, 9_999);
  t.is(stalled.backlog, 10_000);
  t.true(ring.oldest > 9_900);
});

test('attach checks that a buffer really is a frame ring of this layout', (t) => {
  const ring = FrameRing.create({ dataBytes: 4096 });
  t.is(FrameRing.attach(ring.buffer).dataBytes, 4096);
  t.true(isIvError(t.throws(() => FrameRing.attach(new SharedArrayBuffer(4096))), 'IV_ERR_RING_LAYOUT'));
  t.true(isIvError(t.throws(() => FrameRing.attach(new SharedArrayBuffer(16))), 'IV_ERR_RING_LAYOUT'));
  const truncated = new SharedArrayBuffer(ring.buffer.byteLength - 8);
  new Uint8Array(truncated).set(new Uint8Array(ring.buffer, 0, truncated.byteLength));
  t.true(isIvError(t.throws(() => FrameRing.attach(truncated)), 'IV_ERR_RING_LAYOUT'));
});

test('ring geometry is validated with errors naming the field', (t) => {
  t.is((t.throws(() => FrameRing.create({ dataBytes: 10 })) as { field?: string }).field, 'dataBytes');
  t.is((t.throws(() => FrameRing.create({ dataBytes: 4096, slots: 100 })) as { field?: string }).field, 'slots');
  t.is((t.throws(() => FrameRing.create({ dataBytes: 4096, keys: 3 })) as { field?: string }).field, 'keys');
});

test('a waiting reader wakes up when a frame is published and when the stream closes', async (t) => {
  const ring = FrameRing.create({ dataBytes: 4096 });
  const w = ring.writer();
  const r = ring.reader('oldest');
  setTimeout(() => w.write(frame(0, 10, true)), 20);
  t.true(await r.wait(2_000));
  t.is(r.read()?.seq, 0);
  setTimeout(() => w.close(), 20);
  const t0 = Date.now();
  t.false(await r.wait(2_000));
  t.true(Date.now() - t0 < 1_000);
  t.true(ring.closed);
});

test('a low-bitrate stream touches about twice its slot window of data, and readers keep every frame the slots hold', (t) => {
  // 1 MiB of data but 256 slots of 1000-byte frames: the slot window is ~256 KB
  const ring = FrameRing.create({ dataBytes: 1024 * 1024, slots: 256, keys: 16 });
  const w = ring.writer();
  const slow = ring.reader('oldest');
  for (let i = 0; i < 5000; i++) {
    w.write(frame(i, 1000, i % 25 === 0));
    // the ring still holds exactly the last `slots` frames: none retired early
    t.is(ring.oldest, Math.max(0, i - 255));
    if (i % 100 === 0) {
      slow.seek(ring.oldest);
      let n = 0;
      for (let f = slow.read(); f; f = slow.read()) {
        if (!f.data.every((b) => b === (f.seq & 0xff)) || f.discontinuity) {
          t.fail(`frame ${f.seq} torn or after a gap`);
        }
        n++;
      }
      t.is(n, Math.min(i + 1, 256), 'a reader at the oldest frame reads the whole slot window');
    }
  }
  t.true(ring.touchedBytes <= 2 * 256 * 1000 + 64 * 1024 + 2000, `touched ${ring.touchedBytes} bytes`);
  t.true(ring.touchedBytes >= 2 * 255 * 1000, `touched ${ring.touchedBytes} bytes`);
  t.is(slow.stats.laps, 0);
});

test('when the bitrate rises the ring grows its laps back to the whole data region', (t) => {
  const ring = FrameRing.create({ dataBytes: 1024 * 1024, slots: 256, keys: 16 });
  const w = ring.writer();
  for (let i = 0; i < 3000; i++) {
    w.write(frame(i, 500, i % 25 === 0));
  }
  const low = ring.touchedBytes;
  t.true(low < 400 * 1024, `touched ${low} bytes at 500-byte frames`);
  const r = ring.reader('latest-keyframe');
  for (let i = 0; i < 3000; i++) {
    w.write(frame(w.nextSeq, 8000, i % 25 === 0));
    for (let f = r.read(); f; f = r.read()) {
      if (!f.data.every((b) => b === (f.seq & 0xff))) {
        t.fail(`frame ${f.seq} torn`);
      }
    }
  }
  t.true(ring.touchedBytes > 1000 * 1024, `touched ${ring.touchedBytes} bytes at 8000-byte frames`);
  // bytes bind again: 256 frames of 8000 bytes do not fit 1 MiB
  t.true(ring.head - ring.oldest + 1 < 256);
  t.is(r.stats.laps, 0, 'a reader keeping up is never lapped across the change');
});
