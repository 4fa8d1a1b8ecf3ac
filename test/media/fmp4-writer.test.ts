/**
 * Recordings written by our own fragmented-MP4 writer (media/fmp4-writer.ts through
 * HlsSegmenter): the sample media recorded as H.264 + AAC, H.265 + G.711 (stored as
 * PCM) and audio only decode in ffmpeg with zero errors, keep every frame fed and its
 * timestamp, read back the same through mediabunny's demuxer (what the playback feeder
 * uses), whether each segment is one fragment or is streamed as many small ones (what
 * the recorder writes, holding no more than a fragment and a frame); and importing the
 * segmenter never loads mediabunny.
 */
import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ALL_FORMATS, BufferSource, EncodedPacketSink, Input } from 'mediabunny';
import { Ingest } from '../../actors/capture/ingest.js';
import { STREAM, type AudioFormat, type VideoCodecName } from '../../media/codecs.js';
import { g711ToPcm } from '../../media/g711.js';
import { HlsSegmenter, hlsPlaylist, type HlsSegment } from '../../media/hls-segmenter.js';
import { paramSetsOf } from '../../media/param-sets.js';
import { FrameRing, type Frame } from '../../runtime/frame-ring.js';
import { SAMPLE, accessUnits, audioFrames, decodeErrors, ffprobe, packetTimes, tempDir } from '../helpers/media.js';

const AAC: AudioFormat = { codec: 'aac', sampleRate: 16000, channels: 1 };
const G711: AudioFormat = { codec: 'g711a', sampleRate: 8000, channels: 1 };
const ORIGIN_US = 1_000_000;

/** The sample media through Ingest into a ring and back out, as the recorder gets it (video at 25 fps). */
function ringFrames(video: VideoCodecName | undefined, audio: AudioFormat | undefined): Frame[] {
  const ring = FrameRing.create({ dataBytes: 16 << 20, slots: 1024 });
  const ingest = new Ingest(ring, { ...(video ? { video: { codec: video } } : {}), ...(audio ? { audio } : {}) });
  const sound = audio ? audioFrames(audio.codec === 'aac' ? SAMPLE.aac : SAMPLE.g711a, audio.codec === 'aac' ? 'aac' : 'g711a') : [];
  const audioUs = audio ? (1024 / audio.sampleRate) * 1e6 : 0;
  const ok = (r: ReturnType<Ingest['pushVideo']>): void => {
    if (!r.ok) {
      throw r.error;
    }
  };
  let ai = 0;
  const audioUntil = (us: number): void => {
    for (; ai < sound.length && ai * audioUs <= us; ai++) {
      ok(ingest.pushAudio(sound[ai] as Uint8Array, ORIGIN_US + ai * audioUs));
    }
  };
  if (video) {
    for (const [i, au] of accessUnits(video === 'h264' ? SAMPLE.h264 : SAMPLE.h265, video).entries()) {
      audioUntil(i * 40_000);
      ok(ingest.pushVideo(au, ORIGIN_US + i * 40_000));
    }
  } else {
    audioUntil(Infinity);
  }
  const reader = ring.reader('oldest');
  const frames: Frame[] = [];
  for (let f = reader.read(); f; f = reader.read()) {
    frames.push(f);
  }
  return frames;
}

interface Recorded {
  dir: string;
  playlist: string;
  segments: HlsSegment[];
  /** The frames the recording kept (from the first keyframe on), as fed. */
  kept: { video: Frame[]; audio: Frame[] };
}

/** Record `frames` to `dir` (2 s segments unless told): init.mp4, seg<i>.m4s, index.m3u8. */
async function record(dir: string, frames: Frame[], opts: { video?: VideoCodecName; audio?: AudioFormat; targetDurationS?: number; fragmentBytes?: number }): Promise<Recorded> {
  const segments: HlsSegment[] = [];
  const kept: Recorded['kept'] = { video: [], audio: [] };
  const streamed = opts.fragmentBytes !== undefined && Number.isFinite(opts.fragmentBytes); // fragments appended to the file as they come, as the recorder does
  const seg = new HlsSegmenter({
    ...(opts.video ? { video: { codec: opts.video, fps: 25 } } : {}),
    ...(opts.audio ? { audio: opts.audio } : {}),
    targetDurationS: opts.targetDurationS ?? 2,
    ...(opts.fragmentBytes !== undefined ? { fragmentBytes: opts.fragmentBytes } : {}),
    ...(streamed ? { onFragment: (i: number, b: Uint8Array) => appendFileSync(join(dir, `seg${i}.m4s`), b) } : {}),
    onInit: (b) => writeFileSync(join(dir, 'init.mp4'), b),
    onSegment: (s) => {
      t0Check(segments, s);
      if (!streamed) {
        writeFileSync(join(dir, `seg${s.index}.m4s`), s.bytes as Uint8Array);
      } else if (statSync(join(dir, `seg${s.index}.m4s`)).size !== s.byteLength) {
        throw new Error(`segment ${s.index}: ${s.byteLength} bytes said, the file has others`);
      }
      segments.push(s);
    },
  });
  let largest = 0;
  let started = !opts.video;
  for (const f of frames) {
    if (f.stream === STREAM.VIDEO && opts.video) {
      started ||= f.keyframe;
      await seg.video({ data: f.data, pts: f.pts, keyframe: f.keyframe, paramSets: f.keyframe ? paramSetsOf(f.data, opts.video) : undefined });
      if (started) {
        kept.video.push(f);
      }
    } else if (f.stream === STREAM.AUDIO && opts.audio) {
      await seg.audio({ data: f.data, pts: f.pts });
      if (started) {
        kept.audio.push(f);
      }
    }
    largest = Math.max(largest, f.data.byteLength);
    if (streamed && seg.heldBytes > (opts.fragmentBytes as number) + largest) {
      throw new Error(`the segmenter holds ${seg.heldBytes} bytes, over a ${opts.fragmentBytes}-byte fragment and a ${largest}-byte frame`);
    }
  }
  await seg.finish();
  const playlist = join(dir, 'index.m3u8');
  writeFileSync(playlist, hlsPlaylist({ init: 'init.mp4', segments: segments.map((s) => ({ uri: `seg${s.index}.m4s`, duration: s.duration })), ended: true }));
  return { dir, playlist, segments, kept };
}

/** Segments come in order, each starting where the previous one ended. */
function t0Check(prev: HlsSegment[], s: HlsSegment): void {
  const last = prev.at(-1);
  if (s.index !== prev.length || (last && Math.abs(last.start + last.duration - s.start) > 1e-9)) {
    throw new Error(`segment ${s.index} at ${s.start} does not follow segment ${last?.index} (${last?.start} + ${last?.duration})`);
  }
}

const strictlyIncreasing = (v: readonly number[]): boolean => v.every((x, i) => i === 0 || x > (v[i - 1] as number));
const near = (a: number, b: number, eps: number): boolean => Math.abs(a - b) <= eps;

/** Decoded packets per track through mediabunny's demuxer, each segment with the init segment (as the playback feeder reads them). */
async function demuxed(r: Recorded): Promise<{ video: { t: number; key: boolean; data: Uint8Array }[]; audio: { t: number; data: Uint8Array }[] }> {
  const init = readFileSync(join(r.dir, 'init.mp4'));
  const out: Awaited<ReturnType<typeof demuxed>> = { video: [], audio: [] };
  for (const s of r.segments) {
    const input = new Input({ source: new BufferSource(Buffer.concat([init, readFileSync(join(r.dir, `seg${s.index}.m4s`))])), formats: ALL_FORMATS });
    const vt = await input.getPrimaryVideoTrack();
    if (vt) {
      for await (const p of new EncodedPacketSink(vt).packets()) {
        out.video.push({ t: p.timestamp, key: p.type === 'key', data: p.data.slice() });
      }
    }
    const at = await input.getPrimaryAudioTrack();
    if (at) {
      for await (const p of new EncodedPacketSink(at).packets()) {
        out.audio.push({ t: p.timestamp, data: p.data.slice() });
      }
    }
    input.dispose();
  }
  return out;
}

/** What the recording should hold for an audio frame fed: the AAC payload without its ADTS header, G.711 as PCM. */
function storedAudio(f: Frame, codec: AudioFormat['codec']): Uint8Array {
  if (codec === 'aac') {
    return f.data.subarray(((f.data[1] as number) & 1) === 1 ? 7 : 9);
  }
  return codec === 'pcm' ? f.data : g711ToPcm(f.data, codec);
}

/** Whole segments (one fragment each), and segments streamed as 4 KiB fragments. */
const LAYOUTS = [
  { fragmentBytes: Infinity, how: '' },
  { fragmentBytes: 4096, how: ' (streamed in 4 KiB fragments)' },
] as const;
const fragmented = (t: ExecutionContext, r: Recorded, fragmentBytes: number): void => {
  const counts = r.segments.map((s) => s.fragments);
  if (fragmentBytes === Infinity) {
    t.true(counts.every((n) => n === 1), `one fragment a segment: ${counts.join(' ')}`);
  } else {
    t.true(counts.every((n) => n >= 2), `several fragments a segment: ${counts.join(' ')}`);
  }
};

for (const { fragmentBytes, how } of LAYOUTS) {
  for (const [video, audio] of [['h264', AAC], ['h265', G711]] as const) {
    test(`a ${video} + ${audio.codec} recording of the sample decodes in ffmpeg with zero errors and keeps every frame and timestamp${how}`, async (t) => {
      const r = await record(tempDir(t), ringFrames(video, audio), { video, audio, fragmentBytes });
      fragmented(t, r, fragmentBytes);
      t.deepEqual(r.segments.map((s) => Number(s.duration.toFixed(3))), [2, 2, 2, 2, 2], 'five 2 s segments, one GOP each');
      t.deepEqual(decodeErrors(r.playlist), []);
      const info = ffprobe(r.playlist, ['-count_packets']);
      t.like(info.streams.find((s) => s.codec_type === 'video'), { codec_name: video === 'h264' ? 'h264' : 'hevc', width: 640, height: 360, nb_read_frames: '250' });
      t.like(info.streams.find((s) => s.codec_type === 'audio'), { codec_name: audio.codec === 'aac' ? 'aac' : 'pcm_s16le', sample_rate: String(audio.sampleRate), channels: 1, nb_read_packets: String(r.kept.audio.length) });
      t.true(r.kept.audio.length > 70, `${r.kept.audio.length} audio frames recorded`);
      const times = packetTimes(r.playlist);
      t.true(strictlyIncreasing(times.video ?? []) && strictlyIncreasing(times.audio ?? []), 'timestamps strictly increase in each stream');
      const origin = r.kept.video[0]?.pts ?? 0;
      t.true(r.kept.video.every((f, i) => near(times.video?.[i] ?? NaN, (f.pts - origin) / 1e6, 1 / 90_000)), 'each video frame at its own pts');
      t.true(r.kept.audio.every((f, i) => near(times.audio?.[i] ?? NaN, (f.pts - origin) / 1e6, 1 / audio.sampleRate)), 'each audio frame at its own pts');
    });

    test(`mediabunny's demuxer (the playback feeder's) reads the ${video} + ${audio.codec} recording back frame for frame${how}`, async (t) => {
      const r = await record(tempDir(t), ringFrames(video, audio), { video, audio, fragmentBytes });
      fragmented(t, r, fragmentBytes);
      const got = await demuxed(r);
      const origin = r.kept.video[0]?.pts ?? 0;
      t.is(got.video.length, r.kept.video.length);
      t.true(r.kept.video.every((f, i) => Buffer.from(f.data).equals(got.video[i]?.data ?? new Uint8Array(0))), 'video bytes as fed (parameter sets in band)');
      t.true(r.kept.video.every((f, i) => got.video[i]?.key === f.keyframe), 'keyframes marked as such, and only they');
      t.true(r.kept.video.every((f, i) => near(got.video[i]?.t ?? NaN, (f.pts - origin) / 1e6, 1 / 90_000)));
      t.is(got.audio.length, r.kept.audio.length);
      t.true(r.kept.audio.every((f, i) => Buffer.from(storedAudio(f, audio.codec)).equals(got.audio[i]?.data ?? new Uint8Array(0))), 'audio payloads as stored');
      t.true(r.kept.audio.every((f, i) => near(got.audio[i]?.t ?? NaN, (f.pts - origin) / 1e6, 1 / audio.sampleRate)));
    });
  }
}

for (const { fragmentBytes, how } of LAYOUTS) {
  for (const audio of [AAC, G711]) {
    test(`an audio-only ${audio.codec} recording decodes, keeps every frame, and its segments add up to its length${how}`, async (t) => {
      const frames = ringFrames(undefined, audio).filter((f) => f.stream === STREAM.AUDIO);
      const r = await record(tempDir(t), frames, { audio, fragmentBytes });
      fragmented(t, r, fragmentBytes);
      t.deepEqual(decodeErrors(r.playlist), []);
      const info = ffprobe(r.playlist, ['-count_packets']);
      t.is(info.streams.length, 1);
      t.like(info.streams[0], { codec_type: 'audio', codec_name: audio.codec === 'aac' ? 'aac' : 'pcm_s16le', nb_read_packets: String(frames.length) });
      const a = packetTimes(r.playlist).audio ?? [];
      t.true(strictlyIncreasing(a));
      t.true(r.segments.slice(0, -1).every((s) => s.duration >= 2), 'every segment but the last at least 2 s');
      const lengthS = (frames.length * 1024) / audio.sampleRate;
      const total = r.segments.reduce((n, s) => n + s.duration, 0);
      t.true(near(total, lengthS, 1e-6), `segments add up to ${total} s, the audio is ${lengthS} s`);
      t.true(near(Number(info.format?.duration), lengthS, 0.01), `ffprobe duration ${info.format?.duration}`);
    });
  }
}

test('two video frames 1 µs apart stay two distinct, increasing timestamps that decode', async (t) => {
  const frames = ringFrames('h264', undefined).filter((f) => f.stream === STREAM.VIDEO);
  // frame 1 arrives 1 µs after frame 0; the rest keep their 40 ms grid
  (frames[1] as Frame).pts = (frames[0] as Frame).pts + 1;
  const r = await record(tempDir(t), frames, { video: 'h264' });
  t.deepEqual(decodeErrors(r.playlist), [], 'no "non monotonically increasing dts"');
  const v = packetTimes(r.playlist).video ?? [];
  t.is(v.length, frames.length);
  t.true(v[1] !== undefined && v[0] !== undefined && v[1] > v[0], `frame 1 at ${v[1]} after frame 0 at ${v[0]}`);
  t.true(strictlyIncreasing(v));
  t.true(near(v[2] ?? NaN, 0.08, 1e-9), 'the next frame is back on its own timestamp');
  const got = await demuxed(r);
  t.true(strictlyIncreasing(got.video.map((p) => p.t)), 'mediabunny reads them increasing too');
});

test('a frame whose pts goes back is recorded just after the one before it, never before', async (t) => {
  const frames = ringFrames('h264', undefined).filter((f) => f.stream === STREAM.VIDEO);
  (frames[5] as Frame).pts = (frames[3] as Frame).pts;
  const r = await record(tempDir(t), frames, { video: 'h264' });
  t.deepEqual(decodeErrors(r.playlist), []);
  t.true(strictlyIncreasing(packetTimes(r.playlist).video ?? []));
});

test('segments longer than a GOP keep every keyframe, and only the keyframes, as sync samples', async (t) => {
  const r = await record(tempDir(t), ringFrames('h264', AAC), { video: 'h264', audio: AAC, targetDurationS: 3 });
  t.deepEqual(r.segments.map((s) => Number(s.duration.toFixed(3))), [4, 4, 2], 'two GOPs a segment, the rest in the last');
  t.deepEqual(decodeErrors(r.playlist), []);
  const probe = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries', 'packet=flags', '-of', 'csv=p=0', r.playlist], { encoding: 'utf8' });
  const keys = probe.stdout.split('\n').map((l, i) => (l.startsWith('K') ? i : -1)).filter((i) => i >= 0);
  t.deepEqual(keys, r.kept.video.flatMap((f, i) => (f.keyframe ? [i] : [])));
  t.is(keys.length, 5);
  const got = await demuxed(r);
  t.deepEqual(got.video.flatMap((p, i) => (p.key ? [i] : [])), keys, 'mediabunny sees the same keyframes');
});

const DIST = fileURLToPath(new URL('../../', import.meta.url));
const PRELOAD = pathToFileURL(join(DIST, 'test/fixtures/record-loads.js')).href;

/** Module URLs a fresh Node process resolves while running `code` (an ES module body; argv[1] is the dist URL). */
function resolvedBy(t: { teardown(fn: () => void): void }, code: string): string[] {
  const out = join(tempDir(t), 'loads.txt');
  const r = spawnSync(process.execPath, ['--import', PRELOAD, '--input-type=module', '-e', code, pathToFileURL(DIST).href], {
    cwd: DIST, encoding: 'utf8', timeout: 60_000, env: { ...process.env, IVGW_LOADS_OUT: out },
  });
  if (r.status !== 0) {
    throw new Error(`child exited ${r.status}: ${r.stderr}`);
  }
  return existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter((l) => l.startsWith('resolve ')) : [];
}

test('importing the segmenter and recording with it never loads mediabunny, nor does importing the playback feeder', (t) => {
  const recording = resolvedBy(t, `
    const { HlsSegmenter } = await import(new URL('media/hls-segmenter.js', process.argv[1]).href);
    const { AccessUnitSplitter } = await import(new URL('media/es-splitter.js', process.argv[1]).href);
    const { toLengthPrefixed, splitAnnexB } = await import(new URL('media/nal.js', process.argv[1]).href);
    const { readFileSync } = await import('node:fs');
    const { SAMPLE } = await import(new URL('actors/capture/index.js', process.argv[1]).href);
    const s = new AccessUnitSplitter('h264');
    const aus = s.push(readFileSync(SAMPLE.h264)).frames.slice(0, 60);
    let segments = 0;
    const seg = new HlsSegmenter({ video: { codec: 'h264', fps: 25 }, targetDurationS: 1, onInit() {}, onSegment() { segments++; } });
    for (const [i, au] of aus.entries()) {
      const nals = splitAnnexB(au);
      const type = (n) => n[0] & 0x1f;
      const lp = toLengthPrefixed(nals);
      const sps = nals.find((n) => type(n) === 7), pps = nals.find((n) => type(n) === 8);
      const key = nals.some((n) => type(n) === 5);
      await seg.video({ data: lp, pts: i * 40000, keyframe: key, paramSets: key ? { sps: toLengthPrefixed([sps]), pps: toLengthPrefixed([pps]) } : undefined });
    }
    await seg.finish();
    if (segments < 2) { throw new Error('recorded ' + segments + ' segments'); }
  `);
  t.true(recording.some((l) => l.includes('/media/fmp4-writer.js')), 'the recording saw the writer load');
  t.deepEqual(recording.filter((l) => l.includes('mediabunny')), []);
  // the playback feeder (on the p2p worker) imports it only when it plays a segment back
  const feeder = resolvedBy(t, `await import(new URL('recording/playback-feeder.js', process.argv[1]).href);`);
  t.true(feeder.some((l) => l.includes('/recording/playback-feeder.js')), 'the feeder loaded');
  t.deepEqual(feeder.filter((l) => l.includes('mediabunny')), [], 'importing the playback feeder loads no mediabunny');
  const control = resolvedBy(t, `await import('mediabunny');`);
  t.true(control.some((l) => l.includes('/node_modules/mediabunny/')), 'the preload sees mediabunny when something loads it');
});
