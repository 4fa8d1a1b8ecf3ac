/**
 * The capture actor on a real worker: the push API (the SDK's iv_cs_push_stream path),
 * file and ffmpeg sources, stats, and a restarted actor taking over its ring.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { IvError, isIvError } from '../../runtime/errors.js';
import { FrameRing, type Frame } from '../../runtime/frame-ring.js';
import type { CaptureArgs } from '../../actors/capture/CaptureActor.js';
import { CAPTURE_ACTOR, demoCameras } from '../../actors/capture/index.js';
import type { IngestStats } from '../../actors/capture/ingest.js';
import { CODEC, STREAM } from '../../media/codecs.js';
import { splitLengthPrefixed } from '../../media/nal.js';
import { probeActor, probeWorker, startSystem, waitFor } from '../helpers/probe-system.js';
import { SAMPLE, accessUnits, audioFrames } from '../helpers/media.js';

function ring(): FrameRing {
  return FrameRing.create({ dataBytes: 8 * 1024 * 1024, slots: 1024, keys: 64 });
}

async function captureSystem(args: CaptureArgs, extra: { backoff?: number[] } = {}) {
  return startSystem({
    workers: [probeWorker('capture', [{ id: 'cam', module: CAPTURE_ACTOR, args, handlerTimeoutMs: 5_000 }, probeActor('p')], extra.backoff ? { actorBackoffMs: extra.backoff } : {})],
  });
}

const pushArgs = (r: FrameRing): CaptureArgs => ({ camera: 'cam1', ring: r.buffer, video: { codec: 'h264' }, audio: { codec: 'aac', sampleRate: 16000, channels: 1 }, source: { kind: 'push' } });

test('pushed frames are validated and published to the ring, length-prefixed with their codec', async (t) => {
  const r = ring();
  const { system } = await captureSystem(pushArgs(r));
  t.teardown(() => system.stop());
  const cam = system.ref('cam');
  const aus = accessUnits(SAMPLE.h264, 'h264');
  for (let i = 0; i < 10; i++) {
    t.deepEqual(await cam.call('CAPTURE_PUSH', { stream: 'video', data: aus[i], pts: i * 40_000, keyframe: i === 0 }), { seq: i });
  }
  t.deepEqual(await cam.call('CAPTURE_PUSH', { stream: 'audio', data: audioFrames(SAMPLE.aac, 'aac')[0], pts: 0 }), { seq: 10 });
  const reader = r.reader('latest-keyframe');
  const first = reader.read();
  t.like(first, { seq: 0, keyframe: true, codec: CODEC.H264, stream: STREAM.VIDEO, pts: 0 });
  t.deepEqual(splitLengthPrefixed(first!.data).map((n) => (n[0] as number) & 0x1f).filter((type) => type !== 6), [7, 8, 5], 'SPS, PPS and the IDR slice (SEI aside)');
  for (let i = 1; i < 10; i++) {
    t.like(reader.read(), { seq: i, keyframe: false, pts: i * 40_000 });
  }
  t.like(reader.read(), { stream: STREAM.AUDIO, codec: CODEC.AAC });
});

test('bad pushes get typed errors, never crash the actor, and the stream resumes at the next keyframe', async (t) => {
  const r = ring();
  const { system, events } = await captureSystem(pushArgs(r));
  t.teardown(() => system.stop());
  const cam = system.ref('cam');
  const aus = accessUnits(SAMPLE.h264, 'h264');
  const push = (data: Uint8Array, stream: 'video' | 'audio' = 'video') => cam.call('CAPTURE_PUSH', { stream, data });
  t.true(isIvError(await t.throwsAsync(push(aus[1] as Uint8Array)), 'IV_ERR_AV_WAIT_KEYFRAME'), 'must start with a keyframe');
  await push(aus[0] as Uint8Array);
  t.true(isIvError(await t.throwsAsync(push(Buffer.from('garbage garbage'))), 'IV_ERR_AV_INVALID_FRAME'));
  t.true(isIvError(await t.throwsAsync(push(aus[1] as Uint8Array)), 'IV_ERR_AV_WAIT_KEYFRAME'));
  t.true(isIvError(await t.throwsAsync(push(new Uint8Array(1000), 'audio')), 'IV_ERR_AV_BAD_AUDIO_FRAME'));
  const err = await t.throwsAsync(cam.call('CAPTURE_PUSH', { stream: 'video', data: 'not bytes' }));
  t.true(isIvError(err, 'IV_ERR_INVALID_PARAM'));
  t.is((err as { field?: string }).field, 'body.data');
  t.deepEqual(await push(aus[50] as Uint8Array), { seq: 1 }, 'resumed at the next keyframe');
  const stats = await cam.call('CAPTURE_STATS', {}) as IngestStats;
  t.like(stats.rejected, { IV_ERR_AV_WAIT_KEYFRAME: 2, IV_ERR_AV_INVALID_FRAME: 1, IV_ERR_AV_BAD_AUDIO_FRAME: 1 });
  t.false(events.some((e) => e.type === 'exit'), 'no crash, no restart');
});

test('a file camera plays in real time: about 25 fps, GOP 50, video and audio interleaved in pts order', async (t) => {
  const r = ring();
  const [demo] = demoCameras();
  const { system } = await captureSystem({ ...demo!, ring: r.buffer });
  t.teardown(() => system.stop());
  const reader = r.reader('oldest');
  const t0 = Date.now();
  await new Promise((res) => setTimeout(res, 2_200));
  const elapsed = (Date.now() - t0) / 1000;
  const frames: Frame[] = [];
  for (let f = reader.read(); f; f = reader.read()) {
    frames.push(f);
  }
  const video = frames.filter((f) => f.stream === STREAM.VIDEO);
  const audio = frames.filter((f) => f.stream === STREAM.AUDIO);
  t.true(Math.abs(video.length - elapsed * 25) <= 6, `${video.length} video frames in ${elapsed} s`);
  t.true(Math.abs(audio.length - (elapsed * 16000) / 1024) <= 4, `${audio.length} audio frames`);
  t.true(video[0]?.keyframe);
  t.true(frames.every((f, i) => i === 0 || f.pts >= (frames[i - 1]?.pts ?? 0)), 'pts never goes back');
  const stats = await system.ref('cam').call('CAPTURE_STATS', {}) as IngestStats;
  t.like(stats, { source: 'file', video: { codec: 'h264', width: 640, height: 360 } });
  t.true(stats.fps > 20 && stats.fps < 30, `fps ${stats.fps}`);
  t.deepEqual(stats.rejected, {});
});

test('a file camera loops with continuous timestamps', async (t) => {
  const r = ring();
  const { system } = await captureSystem({ camera: 'short', ring: r.buffer, video: { codec: 'h264' }, source: { kind: 'file', video: SAMPLE.h264, fps: 200 } });
  t.teardown(() => system.stop());
  await waitFor('a second loop', () => r.head > 300, 10_000);
  const reader = r.reader('oldest');
  const seqs: Frame[] = [];
  for (let f = reader.read(); f; f = reader.read()) {
    seqs.push(f);
  }
  const at250 = seqs.find((f) => f.seq === 250);
  t.true(at250?.keyframe, 'frame 250 is the first frame again, a keyframe');
  t.is(Math.round(((at250?.pts ?? 0) - (seqs[0]?.pts ?? 0)) / 5_000), 250, 'timestamps continue across the loop');
});

test('a restarted capture actor takes over its ring and readers keep reading', async (t) => {
  const r = ring();
  const [demo] = demoCameras();
  const { system, events } = await captureSystem({ ...demo!, ring: r.buffer });
  t.teardown(() => system.stop());
  const reader = r.reader('latest-keyframe');
  await waitFor('frames', () => r.head > 20);
  const before = r.head;
  system.worker('capture')?.kill({ reason: 'test', error: new IvError('IV_ERR_WORKER_FAULT', 'killed by the test') });
  await waitFor('restart', () => events.filter((e) => e.type === 'start' && e.child === 'cam').length === 2, 5_000);
  await waitFor('new frames', () => r.head > before + 30, 5_000);
  const seen: number[] = [];
  for (let f = reader.read(); f; f = reader.read()) {
    seen.push(f.seq);
  }
  t.true(seen.every((s, i) => i === 0 || s > (seen[i - 1] as number)), 'seqs keep increasing across the restart');
  t.true((seen.at(-1) ?? 0) > before);
});

test('bad capture arguments fail the start with a typed error naming the field', async (t) => {
  const r = ring();
  const err = await t.throwsAsync(captureSystem({ ...pushArgs(r), audio: { codec: 'opus' as 'aac', sampleRate: 48000, channels: 2 } }));
  t.true(isIvError(err, 'IV_ERR_ACTOR_START_FAILED'));
  t.regex((err).message, /args\.audio\.codec/);
});

test('an ffmpeg camera streams, and when ffmpeg dies it is restarted with backoff', async (t) => {
  const r = ring();
  const { system } = await captureSystem({
    camera: 'ff', ring: r.buffer, video: { codec: 'h264' }, audio: { codec: 'aac', sampleRate: 16000, channels: 1 },
    source: { kind: 'ffmpeg', fps: 25, gop: 25, restartBackoffMs: [100], audioInput: 1, input: ['-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-re', '-f', 'lavfi', '-i', 'sine=frequency=300:sample_rate=16000'] },
  });
  t.teardown(() => system.stop());
  const cam = system.ref('cam');
  const seen: string[] = [];
  cam.onNotification('CAPTURE_EVENT', (b) => seen.push((b as { type: string }).type));
  await waitFor('ffmpeg frames', () => r.head > 30, 15_000);
  const stats = await cam.call('CAPTURE_STATS', {}) as IngestStats;
  t.like(stats, { source: 'ffmpeg', video: { codec: 'h264', width: 320, height: 240 } });
  t.is(stats.gopFrames === 0 || stats.gopFrames === 25, true, `GOP ${stats.gopFrames}`);
  t.is(spawnSync('pkill', ['-KILL', '-f', 'testsrc2=size=320x240:rate=25']).status, 0, 'ffmpeg was running and got killed');
  await waitFor('restart events', () => seen.includes('source-exit') && seen.includes('source-restart'), 10_000);
  const head = r.head;
  await waitFor('frames after the restart', () => r.head > head + 25, 15_000);
  t.pass();
});
