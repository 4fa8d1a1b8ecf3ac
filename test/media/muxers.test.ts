/**
 * FLV and HLS output, muxed from frames read back out of a FrameRing exactly as the
 * capture path wrote them, checked with ffprobe/ffmpeg: zero decode errors, the
 * expected frame counts and durations, monotonic timestamps.
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isIvError } from '../../runtime/errors.js';
import { FrameRing, type Frame } from '../../runtime/frame-ring.js';
import { Ingest } from '../../actors/capture/ingest.js';
import { STREAM, type AudioFormat } from '../../media/codecs.js';
import { FlvDemuxer, configNalUnits } from '../../media/flv-demuxer.js';
import { FlvMuxer } from '../../media/flv-muxer.js';
import { HlsSegmenter, hlsPlaylist } from '../../media/hls-segmenter.js';
import { splitAnnexB, splitLengthPrefixed } from '../../media/nal.js';
import { paramSetsOf } from '../../media/param-sets.js';
import { SAMPLE, accessUnits, audioFrames, decodeErrors, ffprobe, monotonic, packetTimes, tempDir } from '../helpers/media.js';

type Cam = { codec: 'h264' | 'h265'; audio: AudioFormat };
const AAC: AudioFormat = { codec: 'aac', sampleRate: 16000, channels: 1 };
const G711: AudioFormat = { codec: 'g711a', sampleRate: 8000, channels: 1 };

/** Push the sample files through Ingest into a ring (as the capture actor does) and read every frame back. */
function capture(cam: Cam): Frame[] {
  const ring = FrameRing.create({ dataBytes: 16 * 1024 * 1024, slots: 1024 });
  const ingest = new Ingest(ring, { video: { codec: cam.codec }, audio: cam.audio });
  const video = accessUnits(cam.codec === 'h264' ? SAMPLE.h264 : SAMPLE.h265, cam.codec);
  const audio = audioFrames(cam.audio.codec === 'aac' ? SAMPLE.aac : SAMPLE.g711a, cam.audio.codec === 'aac' ? 'aac' : 'g711a');
  const audioUs = (1024 / cam.audio.sampleRate) * 1e6;
  let ai = 0;
  for (const [i, au] of video.entries()) {
    const pts = 1_000_000 + i * 40_000;
    while (ai < audio.length && ai * audioUs <= i * 40_000) {
      ingest.pushAudio(audio[ai] as Uint8Array, 1_000_000 + ai * audioUs);
      ai++;
    }
    const r = ingest.pushVideo(au, pts);
    if (!r.ok) {
      throw r.error;
    }
  }
  const reader = ring.reader('oldest');
  const frames: Frame[] = [];
  for (let f = reader.read(); f; f = reader.read()) {
    frames.push(f);
  }
  return frames;
}

/** Parameter sets of a ring keyframe, as the muxers want them. */
function paramSets(f: Frame, codec: 'h264' | 'h265') {
  const ps = paramSetsOf(f.data, codec);
  if (!ps) {
    throw new Error(`keyframe ${f.seq} lacks parameter sets`);
  }
  return ps;
}

function flvOf(cam: Cam, frames: Frame[]): Buffer {
  const mux = new FlvMuxer({ video: { codec: cam.codec, width: 640, height: 360, fps: 25 }, audio: cam.audio });
  const parts: Uint8Array[] = [mux.header()];
  for (const f of frames) {
    if (f.stream === STREAM.VIDEO) {
      parts.push(...mux.video({ data: f.data, pts: f.pts, dts: f.dts, keyframe: f.keyframe, paramSets: f.keyframe ? paramSets(f, cam.codec) : undefined }));
    } else {
      parts.push(...mux.audio({ data: f.data, pts: f.pts }));
    }
  }
  return Buffer.concat(parts);
}

for (const cam of [{ codec: 'h264', audio: AAC }, { codec: 'h264', audio: G711 }] as Cam[]) {
  test(`FLV with ${cam.codec} + ${cam.audio.codec} decodes in ffmpeg with every frame and monotonic A/V timestamps`, (t) => {
    const dir = tempDir(t);
    const file = join(dir, 'live.flv');
    writeFileSync(file, flvOf(cam, capture(cam)));
    t.deepEqual(decodeErrors(file), []);
    const info = ffprobe(file);
    const v = info.streams.find((s) => s.codec_type === 'video');
    const a = info.streams.find((s) => s.codec_type === 'audio');
    t.like(v, { codec_name: 'h264', width: 640, height: 360, nb_read_frames: '250' });
    t.like(a, { codec_name: cam.audio.codec === 'aac' ? 'aac' : 'pcm_alaw', sample_rate: String(cam.audio.sampleRate) });
    const times = packetTimes(file);
    t.true(monotonic(times.video ?? []) && monotonic(times.audio ?? []));
    t.is(times.video?.[0], 0, 'timestamps start at 0');
    t.true(Math.abs((times.video?.at(-1) ?? 0) - 9.96) < 0.01, `last video dts ${times.video?.at(-1)}`);
  });
}

test('FLV with H.265 is enhanced FLV (hvc1) that a strict demuxer reads and whose frames decode', (t) => {
  const cam: Cam = { codec: 'h265', audio: AAC };
  const dir = tempDir(t);
  const flv = flvOf(cam, capture(cam));
  const demux = new FlvDemuxer();
  const tags = [];
  for (let i = 0; i < flv.length; i += 4096) {
    tags.push(...demux.push(flv.subarray(i, i + 4096)));
  }
  t.deepEqual(demux.violations, []);
  const video = tags.filter((x) => x.kind === 'video');
  t.true(video[0]?.config && video[0].codec === 'h265', 'sequence start (hvcC) first');
  t.is(video.filter((x) => !x.config).length, 250);
  t.is((flv[13 + 11 + (flv.readUIntBE(14, 3)) + 4 + 11] as number) & 0x80, 0x80, 'first video tag has the ExVideoTagHeader bit');
  const sc = Buffer.from([0, 0, 0, 1]);
  const parts: Buffer[] = [];
  let ps: Uint8Array[] = [];
  for (const tag of video) {
    if (tag.config) {
      ps = configNalUnits('h265', tag.payload);
      continue;
    }
    for (const n of [...(tag.keyframe ? ps : []), ...splitLengthPrefixed(tag.payload)]) {
      parts.push(sc, Buffer.from(n));
    }
  }
  const es = join(dir, 'from-flv.h265');
  writeFileSync(es, Buffer.concat(parts));
  t.deepEqual(decodeErrors(es), []);
  t.like(ffprobe(es).streams[0], { codec_name: 'hevc', width: 640, height: 360, nb_read_frames: '250' });
});

test('FLV refuses linear PCM audio and non-8 kHz G.711 with typed errors', (t) => {
  t.true(isIvError(t.throws(() => new FlvMuxer({ audio: { codec: 'pcm', sampleRate: 16000, channels: 1 } })), 'IV_ERR_AV_UNSUPPORTED'));
  t.true(isIvError(t.throws(() => new FlvMuxer({ audio: { codec: 'g711u', sampleRate: 16000, channels: 1 } })), 'IV_ERR_AV_UNSUPPORTED'));
});

async function hlsOf(cam: Cam, dir: string, retime?: (frames: ReturnType<typeof capture>) => void): Promise<{ durations: number[] }> {
  const frames = capture(cam);
  retime?.(frames);
  const segments: { uri: string; duration: number }[] = [];
  const seg = new HlsSegmenter({
    video: { codec: cam.codec, fps: 25 },
    audio: cam.audio,
    targetDurationS: 2,
    onInit: (b) => writeFileSync(join(dir, 'init.mp4'), b),
    onSegment: (s) => {
      writeFileSync(join(dir, `seg${s.index}.m4s`), s.bytes as Uint8Array);
      segments.push({ uri: `seg${s.index}.m4s`, duration: s.duration });
    },
  });
  for (const f of frames) {
    if (f.stream === STREAM.VIDEO) {
      await seg.video({ data: f.data, pts: f.pts, keyframe: f.keyframe, paramSets: f.keyframe ? paramSets(f, cam.codec) : undefined });
    } else {
      await seg.audio({ data: f.data, pts: f.pts });
    }
  }
  await seg.finish();
  writeFileSync(join(dir, 'index.m3u8'), hlsPlaylist({ init: 'init.mp4', segments, ended: true }));
  return { durations: segments.map((s) => s.duration) };
}

for (const cam of [{ codec: 'h264', audio: AAC }, { codec: 'h265', audio: G711 }] as Cam[]) {
  test(`HLS (fMP4) recording of ${cam.codec} + ${cam.audio.codec} plays in ffmpeg with the expected duration, GOP-aligned`, async (t) => {
    const dir = tempDir(t);
    const { durations } = await hlsOf(cam, dir);
    t.deepEqual(durations.map((d) => Number(d.toFixed(2))), [2, 2, 2, 2, 2], 'five 2 s segments, one GOP each');
    const playlist = join(dir, 'index.m3u8');
    t.deepEqual(decodeErrors(playlist), []);
    const info = ffprobe(playlist);
    t.like(info.streams.find((s) => s.codec_type === 'video'), { codec_name: cam.codec === 'h264' ? 'h264' : 'hevc', width: 640, nb_read_frames: '250' });
    t.like(info.streams.find((s) => s.codec_type === 'audio'), { codec_name: cam.audio.codec === 'aac' ? 'aac' : 'pcm_s16le', sample_rate: String(cam.audio.sampleRate) });
    t.true(Math.abs(Number(info.format?.duration) - 10) < 0.15, `duration ${info.format?.duration}`);
    const times = packetTimes(playlist);
    t.true(monotonic(times.video ?? []) && monotonic(times.audio ?? []));
    // every segment on its own (with the init segment) starts with a keyframe
    for (let i = 0; i < durations.length; i++) {
      const standalone = join(dir, `alone${i}.mp4`);
      writeFileSync(standalone, Buffer.concat([readFileSync(join(dir, 'init.mp4')), readFileSync(join(dir, `seg${i}.m4s`))]));
      t.deepEqual(decodeErrors(standalone), [], `segment ${i} decodes on its own`);
    }
  });
}

test('a camera whose frames arrive in pairs (two frames 5 ms apart every 80 ms) is recorded with increasing timestamps that decode', async (t) => {
  const dir = tempDir(t);
  await hlsOf({ codec: 'h264', audio: AAC }, dir, (frames) => {
    const video = frames.filter((f) => f.stream === STREAM.VIDEO);
    const origin = video[0]?.pts ?? 0;
    video.forEach((f, i) => {
      f.pts = origin + Math.floor(i / 2) * 80_000 + (i % 2) * 5_000;
    });
  });
  const playlist = join(dir, 'index.m3u8');
  t.deepEqual(decodeErrors(playlist), [], 'no "non monotonically increasing dts"');
  const times = packetTimes(playlist);
  const v = times.video ?? [];
  t.true(v.length > 200 && v.every((x, i) => i === 0 || x > (v[i - 1] as number)), 'video timestamps strictly increase');
});

test('G.711 in a recording is decoded losslessly to 16-bit PCM', async (t) => {
  const dir = tempDir(t);
  await hlsOf({ codec: 'h265', audio: G711 }, dir);
  const out = join(dir, 'audio.raw');
  const { ffmpeg } = await import('../helpers/media.js');
  t.is(ffmpeg(['-v', 'error', '-i', join(dir, 'index.m3u8'), '-map', '0:a', '-f', 's16le', out]).status, 0);
  const ref = join(dir, 'ref.raw');
  t.is(ffmpeg(['-v', 'error', '-f', 'alaw', '-ar', '8000', '-ac', '1', '-i', SAMPLE.g711a, '-f', 's16le', ref]).status, 0);
  const got = readFileSync(out);
  const want = readFileSync(ref);
  t.true(got.length > 0.9 * want.length);
  const offset = want.indexOf(got.subarray(0, 64));
  t.true(offset >= 0, 'the recorded PCM is a bit-exact run of the reference decode');
  t.is(Buffer.compare(got.subarray(0, 16_000), want.subarray(offset, offset + 16_000)), 0);
});

test('a ring keyframe carries the parameter sets the muxers need', (t) => {
  const frames = capture({ codec: 'h265', audio: AAC });
  const key = frames.find((f) => f.keyframe && f.stream === STREAM.VIDEO);
  t.truthy(key);
  const ps = paramSets(key!, 'h265');
  t.truthy(ps.vps && ps.sps && ps.pps);
  t.is(paramSetsOf(frames.find((f) => !f.keyframe && f.stream === STREAM.VIDEO)!.data, 'h265'), undefined, 'a P-frame has none');
  t.is(splitAnnexB(Buffer.concat([Buffer.from([0, 0, 0, 1]), ps.sps.subarray(4)])).length, 1);
});
