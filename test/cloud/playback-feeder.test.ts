/**
 * Playback from the local recording: a recorded session (H.264 + AAC, and H.265 +
 * G.711 through `ivgw run`'s path) replayed by the PlaybackFeeder into a FrameRing
 * comes out in the ring's frame form, in order, paced in real time, and its FLV decodes.
 */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ingest } from '../../actors/capture/ingest.js';
import { PlaybackFeeder } from '../../recording/playback-feeder.js';
import { recordedSegments, sessionStartMs } from '../../recording/recording-index.js';
import { Recorder } from '../../actors/cloud/recorder.js';
import { RecordingStore } from '../../recording/recording-store.js';
import { pcmToG711, g711ToPcm } from '../../media/g711.js';
import { FlvMuxer } from '../../media/flv-muxer.js';
import { paramSetsOf } from '../../media/param-sets.js';
import { STREAM } from '../../media/codecs.js';
import { FrameRing, type Frame } from '../../runtime/frame-ring.js';
import { sampleFrames, sleep } from '../helpers/cloud.js';
import { decodeErrors, ffprobe, tempDir } from '../helpers/media.js';

test('G.711 re-encoding is the exact inverse of decoding for every A-law and µ-law code', (t) => {
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  t.deepEqual(pcmToG711(g711ToPcm(all, 'g711a'), 'g711a'), all);
  const u = pcmToG711(g711ToPcm(all, 'g711u'), 'g711u');
  // µ-law has two zeros (0x7F and 0xFF): both decode to 0 and come back as one of them
  t.deepEqual([...u].filter((_, i) => i !== 0x7f && i !== 0xff), [...all].filter((_, i) => i !== 0x7f && i !== 0xff));
});

test('session names map back to their start', (t) => {
  t.is(sessionStartMs('20261121T074326123Z'), Date.UTC(2026, 10, 21, 7, 43, 26, 123));
  t.is(sessionStartMs('20261121T074326123Z-2'), Date.UTC(2026, 10, 21, 7, 43, 26, 123));
  t.is(sessionStartMs('garbage'), undefined);
});

async function record(spoolDir: string, seconds: number, startMs: number): Promise<void> {
  const spool = await RecordingStore.open(spoolDir);
  const ring = FrameRing.create({ dataBytes: 8 << 20, slots: 4096 });
  const ingest = new Ingest(ring, { video: { codec: 'h264' }, audio: { codec: 'aac', sampleRate: 16000, channels: 1 } });
  const s = sampleFrames();
  const frames: { pts: number; video: boolean; i: number }[] = [];
  for (let i = 0; i < seconds * 25; i++) {frames.push({ pts: i * 40, video: true, i });}
  for (let i = 0; i < (seconds * 16000) / 1024; i++) {frames.push({ pts: (i * 1024 * 1000) / 16000, video: false, i });}
  frames.sort((a, b) => a.pts - b.pts);
  for (const f of frames) {
    const r = f.video ? ingest.pushVideo(s.video[f.i % s.video.length] as Uint8Array, f.pts * 1000) : ingest.pushAudio(s.audio[f.i % s.audio.length] as Uint8Array, f.pts * 1000);
    if (!r.ok) {throw r.error;}
  }
  let now = startMs;
  const rec = new Recorder({ device: 'dev1', channel: 0, video: { codec: 'h264', fps: 25 }, audio: { codec: 'aac', sampleRate: 16000, channels: 1 }, segmentS: 2, sessionMaxS: 3600, noDataPauseMs: 120_000, now: () => now, accept: (k, b) => spool.accept(k, b), create: (k) => spool.create(k) });
  rec.setFullTime(true);
  const reader = ring.reader('oldest');
  for (let f = reader.read(); f; f = reader.read()) {
    now = startMs + f.pts / 1000;
    await rec.feed(f);
  }
  await rec.close();
}

test('recorded H.264 + AAC replays in real time into a ring as ring frames; its FLV decodes', async (t) => {
  const spoolDir = tempDir(t);
  const t0 = Date.parse('2026-11-21T10:00:00Z');
  await record(spoolDir, 6, t0);
  const t1 = Date.parse('2026-11-21T11:00:00Z');
  await record(spoolDir, 4, t1); // a second session an hour later
  t.is((await recordedSegments(spoolDir, 'dev1', 0, t0, t0 + 1)).length, 1);
  t.is((await recordedSegments(spoolDir, 'dev1', 0, t0 + 2_500, t0 + 4_500)).length, 2, '2.5-4.5 s touches two 2 s segments');
  t.is((await recordedSegments(spoolDir, 'dev1', 0, t0 - 10_000, t0 - 1)).length, 0);
  const segments = await recordedSegments(spoolDir, 'dev1', 0, t0 + 2_000, t1 + 60_000);
  t.is(segments.length, 4, 'segments 2-3 of the first session and both of the second');

  const ring = FrameRing.create({ dataBytes: 4 << 20, slots: 2048 });
  const feeder = new PlaybackFeeder({ segments, ring, video: { codec: 'h264' }, audio: { codec: 'aac', sampleRate: 16000, channels: 1 }, leadMs: 500 });
  const reader = ring.reader('oldest');
  const got: Frame[] = [];
  const started = performance.now();
  let firstAt = 0;
  let firstBatch = 0; // frames written by the first tick that wrote any: the lead, at once
  while (!feeder.done) {
    feeder.tick();
    const before = got.length;
    for (let f = reader.read(); f; f = reader.read()) {
      firstAt ||= performance.now() - started;
      got.push(f);
    }
    if (before === 0) {
      firstBatch = got.filter((f) => f.stream === STREAM.VIDEO).length;
    }
    await sleep(10);
  }
  const took = performance.now() - started;
  t.is(feeder.error, undefined);
  // The app sees a picture as soon as the first segment is read, with the lead's 0.5 s of
  // frames in one go (13 frames at 25 fps), never after waiting out the recording's time.
  t.true(firstBatch >= 13, `the first frames written together: ${firstBatch} video frames (0.5 s lead)`);
  t.true(firstAt < 2_000, `first frame after ${Math.round(firstAt)} ms (a segment is 2 s)`);
  t.true(took > 7_000 && took < 10_000, `8 s of recording replayed in ${Math.round(took)} ms (real time, 0.5 s lead)`);
  const video = got.filter((f) => f.stream === STREAM.VIDEO);
  t.is(video.length, 200, '4 + 4 s of 25 fps');
  t.true(video[0]?.keyframe);
  t.truthy(paramSetsOf(video[0]?.data as Uint8Array, 'h264'), 'keyframes carry their parameter sets');
  t.true(got.every((f, i) => i === 0 || f.pts >= (got[i - 1] as Frame).pts), 'timestamps never go back, across the two sessions');
  const mux = new FlvMuxer({ video: { codec: 'h264' }, audio: { codec: 'aac', sampleRate: 16000, channels: 1 } });
  const parts = [mux.header()];
  for (const f of got) {
    parts.push(...(f.stream === STREAM.VIDEO ? mux.video({ data: f.data, pts: f.pts, dts: f.dts, keyframe: f.keyframe, paramSets: f.keyframe ? paramSetsOf(f.data, 'h264') : undefined }) : mux.audio({ data: f.data, pts: f.pts })));
  }
  const file = join(tempDir(t), 'playback.flv');
  writeFileSync(file, Buffer.concat(parts));
  t.deepEqual(decodeErrors(file), []);
  const probe = ffprobe(file);
  t.deepEqual(probe.streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
  t.is(Number(probe.streams.find((s) => s.codec_type === 'video')?.nb_read_frames), 200);
});
