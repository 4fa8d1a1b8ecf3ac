/**
 * Frames that come without a timestamp (an ffmpeg/RTSP source's elementary stream) are
 * stamped with their arrival time; a burst of them inside one millisecond (the source
 * catching up after a stall, seen on a loaded machine as a recording that did not decode:
 * "non monotonically increasing dts") still gets strictly increasing timestamps.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { FrameRing } from '../../runtime/frame-ring.js';
import { Ingest } from '../../actors/capture/ingest.js';
import { AccessUnitSplitter, AdtsSplitter } from '../../media/es-splitter.js';
import { SAMPLE } from '../helpers/media.js';

test('a burst of frames without timestamps gets strictly increasing ones, at least 1 ms apart per stream', (t) => {
  const ring = FrameRing.create({ dataBytes: 8 * 1024 * 1024, slots: 1024, keys: 32 });
  const ingest = new Ingest(ring, { video: { codec: 'h264' }, audio: { codec: 'aac', sampleRate: 16_000, channels: 1 } });
  const video = new AccessUnitSplitter('h264').push(readFileSync(SAMPLE.h264)).frames.slice(0, 60);
  const audio = new AdtsSplitter().push(readFileSync(SAMPLE.aac)).frames.slice(0, 60);
  for (let i = 0; i < 60; i++) { // all in one synchronous burst: far less than 60 ms
    t.true(ingest.pushVideo(video[i] as Uint8Array).ok);
    t.true(ingest.pushAudio(audio[i] as Uint8Array).ok);
  }
  const reader = ring.reader('oldest');
  const last = { 0: -Infinity, 1: -Infinity } as Record<number, number>;
  let n = 0;
  for (let f = reader.peek(); f !== null; f = reader.peek()) {
    t.true(f.pts >= (last[f.stream] as number) + 1_000, `stream ${f.stream}: ${f.pts} after ${last[f.stream]}`);
    last[f.stream] = f.pts;
    reader.release();
    n++;
  }
  t.is(n, 120);
});
