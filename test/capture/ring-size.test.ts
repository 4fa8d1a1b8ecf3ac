/**
 * A camera's frame ring should hold two of its GOPs: the capture warns once when one GOP
 * takes more than half of it, naming the size to configure (cameras[].ring), and a
 * config's ring size is checked at its path.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { FrameRing } from '../../runtime/frame-ring.js';
import { Ingest } from '../../actors/capture/ingest.js';
import { AccessUnitSplitter } from '../../media/es-splitter.js';
import { validateConfig } from '../../gateway/config/validate.js';
import { SAMPLE } from '../helpers/media.js';

test('a GOP over half of the ring is told once, with the ring size that would hold it', (t) => {
  const video = new AccessUnitSplitter('h264').push(readFileSync(SAMPLE.h264)).frames;
  const tight: { bytes: number; frames: number; ringBytes: number }[] = [];
  const roomy: unknown[] = [];
  // the same frames through a ring smaller than two GOPs and through one far larger
  const small = new Ingest(FrameRing.create({ dataBytes: 64 * 1024, slots: 1024, keys: 32 }), { video: { codec: 'h264' }, onRingTight: (g) => tight.push(g) });
  const large = new Ingest(FrameRing.create({ dataBytes: 64 * 1024 * 1024, slots: 1024, keys: 32 }), { video: { codec: 'h264' }, onRingTight: (g) => roomy.push(g) });
  let keyframes = 0;
  for (const au of video.slice(0, 400)) {
    const a = small.pushVideo(au);
    large.pushVideo(au);
    if (a.ok && a.keyframe) {
      keyframes++;
    }
  }
  t.true(keyframes >= 3, `the sample has several GOPs (${keyframes} keyframes)`);
  const gop = small.snapshot().gopBytes;
  t.log(`GOP ${gop} bytes (${small.snapshot().gopFrames} frames), ring 64 KiB`);
  if (gop > 32 * 1024) {
    t.is(tight.length, 1, 'told once, not at every keyframe');
    t.like(tight[0], { ringBytes: 64 * 1024 });
    t.true((tight[0]?.bytes ?? 0) > 32 * 1024);
  } else {
    t.fail(`the sample's GOP (${gop} bytes) does not exceed half of 64 KiB: pick a smaller ring`);
  }
  t.is(roomy.length, 0, 'a ring that holds many GOPs is not told');
});

test('cameras[].ring takes a size and refuses one outside 1MiB..1GiB at its path', (t) => {
  const ok = validateConfig({ cameras: [{ source: 'test:testsrc2', ring: '32MiB' }, { source: 'test:testsrc2', channel: 1 }] }, '/tmp');
  t.true('config' in ok, JSON.stringify(ok));
  if ('config' in ok) {
    t.is(ok.config.cameras[0]?.ringBytes, 32 * 1024 * 1024);
    t.is(ok.config.cameras[1]?.ringBytes, 8 * 1024 * 1024, 'the default');
  }
  const bad = validateConfig({ cameras: [{ source: 'test:testsrc2', ring: '512KiB' }] }, '/tmp');
  t.true('problems' in bad && bad.problems.some((p) => p.path === 'cameras[0].ring' && /1MiB\.\.1GiB/.test(p.message)), JSON.stringify(bad));
});
