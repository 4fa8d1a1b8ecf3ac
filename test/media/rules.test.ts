/**
 * The SDK's input rules (iv_cs_push_stream): every violation is refused with its own
 * code, nothing throws, and the stream resumes at the next valid keyframe.
 */
import test, { type ExecutionContext } from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AudioValidator } from '../../media/audio-validator.js';
import { h264NalType } from '../../media/h264.js';
import { splitAnnexB } from '../../media/nal.js';
import { VideoValidator } from '../../media/video-validator.js';
import { SAMPLE, accessUnits, audioFrames, encodeClip, tempDir } from '../helpers/media.js';

const SC = new Uint8Array([0, 0, 0, 1]);

function refused(t: ExecutionContext, verdict: { ok: boolean; error?: { code: string; message: string } }, code: string, message: RegExp): void {
  t.false(verdict.ok);
  t.is(verdict.error?.code, code);
  t.regex(verdict.error?.message ?? '', message);
}
const annexB = (nals: Uint8Array[]): Uint8Array => Buffer.concat(nals.flatMap((n) => [SC, n]));

test('a good stream is accepted frame by frame and its format is established', (t) => {
  for (const [file, codec] of [[SAMPLE.h264, 'h264'], [SAMPLE.h265, 'h265']] as const) {
    const v = new VideoValidator({ codec });
    const verdicts = accessUnits(file, codec).map((au) => v.check(au));
    t.true(verdicts.every((x) => x.ok), codec);
    t.is(verdicts.filter((x) => x.ok && x.frame.keyframe).length, 5, codec);
    t.like(v.established, { codec, width: 640, height: 360 });
  }
});

test('B-frames are refused with IV_ERR_AV_B_FRAME (H.264 and H.265 from ffmpeg -bf)', (t) => {
  const dir = tempDir(t);
  encodeClip(join(dir, 'b.h264'), 'h264', ['-bf', '2', '-g', '25']);
  encodeClip(join(dir, 'b.h265'), 'h265', ['-x265-params', 'bframes=3:log-level=error', '-g', '25']);
  for (const [file, codec] of [[join(dir, 'b.h264'), 'h264'], [join(dir, 'b.h265'), 'h265']] as const) {
    const v = new VideoValidator({ codec });
    const codes = accessUnits(file, codec).map((au) => v.check(au)).map((x) => (x.ok ? 'ok' : x.error.code));
    t.is(codes[0], 'ok', `${codec} keyframe accepted`);
    t.true(codes.includes('IV_ERR_AV_B_FRAME'), codec);
  }
});

test('a keyframe without its parameter sets is refused with IV_ERR_AV_MISSING_PARAM_SETS', (t) => {
  const dir = tempDir(t);
  encodeClip(join(dir, 'noheaders.h264'), 'h264', ['-bf', '0', '-g', '25', '-x264-params', 'repeat-headers=0'], 3);
  const v = new VideoValidator({ codec: 'h264' });
  const first = v.check(accessUnits(join(dir, 'noheaders.h264'), 'h264')[0] as Uint8Array);
  t.like(first, { ok: false, error: { code: 'IV_ERR_AV_MISSING_PARAM_SETS' } });
  const sample = accessUnits(SAMPLE.h265, 'h265')[0] as Uint8Array;
  const withoutVps = annexB(splitAnnexB(sample).filter((n) => ((n[0] as number) >> 1) !== 32));
  refused(t, new VideoValidator({ codec: 'h265' }).check(withoutVps), 'IV_ERR_AV_MISSING_PARAM_SETS', /VPS/);
});

test('after a refused frame the stream waits for the next valid keyframe, then resumes', (t) => {
  const aus = accessUnits(SAMPLE.h264, 'h264');
  const v = new VideoValidator({ codec: 'h264' });
  t.true(v.check(aus[0] as Uint8Array).ok);
  t.true(v.check(aus[1] as Uint8Array).ok);
  t.like(v.check(new Uint8Array([1, 2, 3, 4, 5])), { ok: false, error: { code: 'IV_ERR_AV_INVALID_FRAME', field: 'data' } });
  t.like(v.check(aus[2] as Uint8Array), { ok: false, error: { code: 'IV_ERR_AV_WAIT_KEYFRAME' } });
  t.like(v.check(aus[49] as Uint8Array), { ok: false, error: { code: 'IV_ERR_AV_WAIT_KEYFRAME' } });
  t.like(v.check(aus[50] as Uint8Array), { ok: true, frame: { keyframe: true } });
  t.true(v.check(aus[51] as Uint8Array).ok);
});

test('a stream must start with a keyframe', (t) => {
  const aus = accessUnits(SAMPLE.h264, 'h264');
  t.like(new VideoValidator({ codec: 'h264' }).check(aus[1] as Uint8Array), { ok: false, error: { code: 'IV_ERR_AV_WAIT_KEYFRAME' } });
});

test('truncated parameter sets and cut NAL units are refused with IV_ERR_AV_TRUNCATED', (t) => {
  const nals = splitAnnexB(accessUnits(SAMPLE.h264, 'h264')[0] as Uint8Array);
  const cutSps = nals.map((n) => (h264NalType(n) === 7 ? n.subarray(0, 4) : n));
  t.like(new VideoValidator({ codec: 'h264' }).check(annexB(cutSps)), { ok: false, error: { code: 'IV_ERR_AV_TRUNCATED' } });
  const emptyNal = annexB([new Uint8Array([0x65])]);
  t.like(new VideoValidator({ codec: 'h264' }).check(emptyNal), { ok: false, error: { code: 'IV_ERR_AV_TRUNCATED' } });
});

test('garbage, forbidden bits, unspecified NAL types and oversized frames are refused', (t) => {
  const v = new VideoValidator({ codec: 'h264', maxFrameBytes: 100_000 });
  t.like(v.check(new Uint8Array(0)), { ok: false, error: { code: 'IV_ERR_AV_INVALID_FRAME' } });
  t.like(v.check(Buffer.from('not video at all')), { ok: false, error: { code: 'IV_ERR_AV_INVALID_FRAME' } });
  refused(t, v.check(annexB([new Uint8Array([0xe5, 1, 2])])), 'IV_ERR_AV_INVALID_FRAME', /forbidden/);
  refused(t, v.check(annexB([new Uint8Array([0x18, 1, 2])])), 'IV_ERR_AV_INVALID_FRAME', /unspecified/);
  refused(t, v.check(annexB([new Uint8Array([0x67, 1, 2]), new Uint8Array([0x68, 1])])), 'IV_ERR_AV_INVALID_FRAME', /no slice/);
  t.like(v.check(new Uint8Array(100_001)), { ok: false, error: { code: 'IV_ERR_AV_FRAME_TOO_LARGE' } });
});

test('a resolution or codec change in a running stream is refused with IV_ERR_AV_FORMAT_CHANGED', (t) => {
  const dir = tempDir(t);
  encodeClip(join(dir, 'small.h264'), 'h264', ['-bf', '0', '-g', '25'], 1);
  const v = new VideoValidator({ codec: 'h264' });
  t.true(v.check(accessUnits(SAMPLE.h264, 'h264')[0] as Uint8Array).ok);
  refused(t, v.check(accessUnits(join(dir, 'small.h264'), 'h264')[0] as Uint8Array), 'IV_ERR_AV_FORMAT_CHANGED', /640x360.*320x240/);
  const h265key = accessUnits(SAMPLE.h265, 'h265')[0] as Uint8Array;
  t.false(v.check(h265key).ok, 'H.265 pushed into an H.264 stream is refused');
});

test('a frame declared I but made of P slices is refused naming frameType', (t) => {
  const aus = accessUnits(SAMPLE.h264, 'h264');
  const v = new VideoValidator({ codec: 'h264' });
  t.true(v.check(aus[0] as Uint8Array, true).ok);
  t.like(v.check(aus[1] as Uint8Array, true), { ok: false, error: { code: 'IV_ERR_AV_INVALID_FRAME', field: 'frameType' } });
});

test('audio frames must be 1024 samples per channel and match the declared format', (t) => {
  const aac = new AudioValidator({ codec: 'aac', sampleRate: 16000, channels: 1 });
  const frames = audioFrames(SAMPLE.aac, 'aac');
  t.true(frames.every((f) => aac.check(f).ok));
  const f0 = frames[0] as Uint8Array;
  t.like(aac.check(f0.subarray(0, f0.length - 3)), { ok: false, error: { code: 'IV_ERR_AV_TRUNCATED' } });
  t.like(aac.check(Buffer.concat([f0, f0])), { ok: false, error: { code: 'IV_ERR_AV_BAD_AUDIO_FRAME' } });
  t.like(new AudioValidator({ codec: 'aac', sampleRate: 8000, channels: 1 }).check(f0), { ok: false, error: { code: 'IV_ERR_AV_FORMAT_CHANGED' } });
  t.like(aac.check(Buffer.from('xxxxxxxxxx')), { ok: false, error: { code: 'IV_ERR_AV_BAD_AUDIO_FRAME' } });
  const g711 = new AudioValidator({ codec: 'g711a', sampleRate: 8000, channels: 1 });
  t.true(g711.check(new Uint8Array(1024)).ok);
  refused(t, g711.check(new Uint8Array(1000)), 'IV_ERR_AV_BAD_AUDIO_FRAME', /1024 samples/);
  const stereoPcm = new AudioValidator({ codec: 'pcm', sampleRate: 16000, channels: 2 });
  t.true(stereoPcm.check(new Uint8Array(4096)).ok, '1024 samples x 2 channels x 2 bytes, interleaved');
  t.false(stereoPcm.check(new Uint8Array(2048)).ok);
});

test('the sample audio files split into whole spec frames', (t) => {
  t.is(audioFrames(SAMPLE.g711a, 'g711a').length, 80);
  t.is(readFileSync(SAMPLE.g711a).length, 80 * 1024);
});
