/**
 * StreamReceiver (client/stream-receiver.ts): the integrity checker `ivgw load`, `ivgw view`
 * and the browser page count gaps with. A watermark pause may skip frames (one announced
 * jump) or, when it began just before the keyframe the stream resumes at, skip nothing;
 * either way the pause ends on that keyframe, and a jump after it is missing frames again.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { SAMPLE } from '../../actors/capture/index.js';
import { AccessUnitSplitter } from '../../media/es-splitter.js';
import { FlvMuxer } from '../../media/flv-muxer.js';
import { splitAnnexB, toLengthPrefixed } from '../../media/nal.js';
import { paramSetsOf } from '../../media/param-sets.js';
import { StreamReceiver } from '../../client/stream-receiver.js';

/** The demo camera's first 249 frames (25 fps, a keyframe every 50) as FLV: the header, then each frame's tags. */
const FLV = ((): { header: Uint8Array; frames: Uint8Array[][] } => {
  const aus = new AccessUnitSplitter('h264').push(readFileSync(SAMPLE.h264)).frames;
  const mux = new FlvMuxer({ video: { codec: 'h264', fps: 25 } });
  const frames = aus.map((au, i) => {
    const data = toLengthPrefixed(splitAnnexB(au));
    const keyframe = splitAnnexB(au).some((n) => ((n[0] as number) & 0x1f) === 5);
    return mux.video({ data, pts: i * 40_000, dts: i * 40_000, keyframe, paramSets: keyframe ? paramSetsOf(data, 'h264') : undefined }).map((b) => b.slice());
  });
  return { header: mux.header(), frames };
})();

function receiver(): { r: StreamReceiver; send(from: number, to: number): void } {
  const r = new StreamReceiver(1);
  r.push(FLV.header);
  return {
    r,
    send(from: number, to: number) {
      for (let i = from; i < to; i++) {
        for (const tag of FLV.frames[i] ?? []) {
          r.push(tag);
        }
      }
    },
  };
}

test('a pause that skips frames is one announced jump, resumed on a keyframe', (t) => {
  const { r, send } = receiver();
  send(0, 40);
  r.expectPause();
  r.expectResume();
  send(100, 130); // frames 40..99 skipped, back at the keyframe 100
  t.like(r.stats, { pauseGaps: 1, resumes: 1, gaps: 0, violations: [] });
});

test('a pause that began just before the keyframe it resumes at skips nothing: it still ends there, and a later jump is missing frames', (t) => {
  const { r, send } = receiver();
  send(0, 49);
  r.expectPause();
  r.expectResume();
  send(49, 120); // frame 49 was in flight; back at the keyframe 50 with nothing skipped
  t.like(r.stats, { pauseGaps: 0, resumes: 1, gaps: 0 });
  send(150, 170); // 120..149 missing, nobody announced it
  t.like(r.stats, { pauseGaps: 0, resumes: 1, gaps: 1, violations: [] });
});

test('resumed frames that come before the resume event: the pause ends at the next keyframe after the event', (t) => {
  const { r, send } = receiver();
  send(0, 50);
  r.expectPause();
  send(50, 60); // resumed at keyframe 50 with nothing skipped; the low event is late
  r.expectResume();
  t.is(r.stats.resumes, 0);
  send(60, 110);
  t.like(r.stats, { pauseGaps: 0, resumes: 1, gaps: 0 });
  send(130, 160);
  t.like(r.stats, { gaps: 1 }, 'the pause is over: this jump is unannounced');
});

test('a jump before any announced pause is a gap, never a pause', (t) => {
  const { r, send } = receiver();
  send(0, 20);
  r.expectResume(); // a resume without a pause announces nothing
  send(50, 60);
  t.like(r.stats, { pauseGaps: 0, resumes: 0, gaps: 1 });
});
