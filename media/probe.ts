/**
 * probe — checks a camera's elementary-stream file against the SDK's rules
 * (the same validators the capture path uses) and measures it: codec, resolution,
 * profile/level, fps, GOP, bitrate, duration. Stops at the first violation and
 * names its code and frame number.
 *
 * When ffmpeg is on PATH (decode 'auto'), the file is also decoded with
 * `-err_detect careful+explode`; any decoder error (e.g. a slice cut mid-NAL, which no
 * header check can see) is a violation too. Known limit: Debian's ffmpeg 5.1 HEVC
 * decoder misses some cuts inside slice data (about 2 of 9 cut points we tried).
 * Must never: modify the file or need ffmpeg to give a verdict.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import type { IvErrorCode } from '../runtime/errors.js';
import { isAdtsProblem, parseAdts } from './adts.js';
import { AudioValidator } from './audio-validator.js';
import { SAMPLES_PER_FRAME, type AudioCodecName, type VideoCodecName } from './codecs.js';
import { AccessUnitSplitter, AdtsSplitter, RawAudioSplitter } from './es-splitter.js';
import { VideoValidator } from './video-validator.js';

export type ProbeKind = VideoCodecName | AudioCodecName;

export interface ProbeOptions {
  kind?: ProbeKind;
  /** Raw audio (G.711/PCM) sample rate and channels; default 8000 Hz mono. */
  sampleRate?: number;
  channels?: 1 | 2;
  /** Frame rate when the stream does not say (no VUI timing); default 25. */
  fps?: number;
  decode?: 'auto' | 'on' | 'off';
}

export interface ProbeReport {
  file: string;
  kind: ProbeKind;
  ok: boolean;
  violation?: { code: IvErrorCode; message: string; frame: number };
  frames: number;
  keyframes: number;
  durationS: number;
  bitrateKbps: number;
  video?: { width: number; height: number; profile: string; level: number; fps: number; fpsFromStream: boolean; gop: number | undefined };
  audio?: { sampleRate: number; channels: number; samplesPerFrame: number };
  decoded?: 'clean' | 'errors' | 'skipped';
}

const EXT: Record<string, ProbeKind> = {
  '.h264': 'h264', '.264': 'h264', '.avc': 'h264', '.h265': 'h265', '.265': 'h265', '.hevc': 'h265',
  '.aac': 'aac', '.adts': 'aac', '.alaw': 'g711a', '.g711a': 'g711a', '.al': 'g711a',
  '.ulaw': 'g711u', '.mulaw': 'g711u', '.g711u': 'g711u', '.ul': 'g711u', '.pcm': 'pcm', '.s16le': 'pcm',
};

export function detectKind(file: string, data: Uint8Array): ProbeKind | undefined {
  const byExt = EXT[extname(file).toLowerCase()];
  if (byExt) {
    return byExt;
  }
  if (!isAdtsProblem(parseAdts(data))) {
    return 'aac';
  }
  const sc = Buffer.from(data.buffer, data.byteOffset, data.byteLength).indexOf(Buffer.from([0, 0, 1]));
  if (sc >= 0 && sc + 4 < data.length) {
    const b0 = data[sc + 3] as number;
    const b1 = data[sc + 4] as number;
    const h265Type = (b0 >> 1) & 0x3f;
    return b1 === 1 && [32, 33, 34, 35, 39].includes(h265Type) ? 'h265' : 'h264';
  }
  return undefined;
}

const FFMPEG_FORMAT: Record<ProbeKind, string> = { h264: 'h264', h265: 'hevc', aac: 'aac', g711a: 'alaw', g711u: 'mulaw', pcm: 's16le' };

function decodeCheck(file: string, kind: ProbeKind, opts: ProbeOptions): string | undefined | 'unavailable' {
  const args = ['-hide_banner', '-nostdin', '-v', 'error', '-err_detect', 'careful+explode', '-f', FFMPEG_FORMAT[kind]];
  if (kind === 'g711a' || kind === 'g711u' || kind === 'pcm') {
    args.push('-ar', String(opts.sampleRate ?? 8000), '-ac', String(opts.channels ?? 1));
  }
  args.push('-i', file, '-f', 'null', '-');
  const r = spawnSync('ffmpeg', args, { encoding: 'utf8', timeout: 120_000 });
  if (r.error) {
    return 'unavailable';
  }
  const lines = `${r.stderr}`.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.length > 0 || r.status !== 0 ? lines[0] ?? `ffmpeg exited ${r.status}` : undefined;
}

export function probeFile(file: string, opts: ProbeOptions = {}): ProbeReport {
  const data = readFileSync(file);
  const kind = opts.kind ?? detectKind(file, data);
  if (kind === undefined) {
    return { file, kind: 'h264', ok: false, violation: { code: 'IV_ERR_AV_UNSUPPORTED', message: 'cannot tell the stream type; name it with --type', frame: 0 }, frames: 0, keyframes: 0, durationS: 0, bitrateKbps: 0 };
  }
  const report: ProbeReport = kind === 'h264' || kind === 'h265' ? probeVideo(file, data, kind, opts) : probeAudio(file, data, kind, opts);
  const decode = opts.decode ?? 'auto';
  if (decode === 'off' || !report.ok) {
    report.decoded = 'skipped';
    return report;
  }
  const problem = decodeCheck(file, kind, opts);
  if (problem === 'unavailable') {
    report.decoded = 'skipped';
    if (decode === 'on') {
      report.ok = false;
      report.violation = { code: 'IV_ERR_NOT_SUPPORTED', message: 'decode check requested but ffmpeg is not on PATH', frame: 0 };
    }
  } else if (problem !== undefined) {
    report.decoded = 'errors';
    report.ok = false;
    report.violation = { code: 'IV_ERR_AV_TRUNCATED', message: `the decoder reports: ${problem}`, frame: report.frames - 1 };
  } else {
    report.decoded = 'clean';
  }
  return report;
}

function probeVideo(file: string, data: Uint8Array, codec: VideoCodecName, opts: ProbeOptions): ProbeReport {
  const splitter = new AccessUnitSplitter(codec, Math.max(8 * 1024 * 1024, data.length + 1));
  const split = splitter.push(data);
  const rest = splitter.end();
  const aus = [...split.frames, ...rest.frames];
  const report: ProbeReport = { file, kind: codec, ok: true, frames: 0, keyframes: 0, durationS: 0, bitrateKbps: 0 };
  const firstProblem = [...split.problems, ...rest.problems][0];
  if (firstProblem) {
    report.ok = false;
    report.violation = { code: 'IV_ERR_AV_INVALID_FRAME', message: firstProblem.detail, frame: 0 };
    return report;
  }
  const validator = new VideoValidator({ codec, maxFrameBytes: 16 * 1024 * 1024 });
  const keyIndexes: number[] = [];
  let bytes = 0;
  for (const [i, au] of aus.entries()) {
    const v = validator.check(au);
    if (!v.ok) {
      report.ok = false;
      report.violation = { code: v.error.code, message: v.error.message, frame: i };
      break;
    }
    report.frames++;
    bytes += au.length;
    if (v.frame.keyframe) {
      report.keyframes++;
      keyIndexes.push(i);
    }
  }
  const format = validator.established;
  const fps = format?.fps ?? opts.fps ?? 25;
  report.durationS = report.frames / fps;
  report.bitrateKbps = report.durationS > 0 ? Math.round((bytes * 8) / report.durationS / 1000) : 0;
  if (format) {
    const gaps = keyIndexes.slice(1).map((k, i) => k - (keyIndexes[i] as number));
    report.video = { width: format.width, height: format.height, profile: format.profile, level: format.level, fps, fpsFromStream: format.fps !== undefined, gop: gaps.length > 0 ? Math.max(...gaps) : undefined };
  }
  return report;
}

function probeAudio(file: string, data: Uint8Array, codec: AudioCodecName, opts: ProbeOptions): ProbeReport {
  const report: ProbeReport = { file, kind: codec, ok: true, frames: 0, keyframes: 0, durationS: 0, bitrateKbps: 0 };
  let sampleRate = opts.sampleRate ?? 8000;
  let channels: 1 | 2 = opts.channels ?? 1;
  if (codec === 'aac') {
    const h = parseAdts(data);
    if (isAdtsProblem(h)) {
      report.ok = false;
      report.violation = { code: 'IV_ERR_AV_BAD_AUDIO_FRAME', message: `bad ADTS header: ${h.detail}`, frame: 0 };
      return report;
    }
    sampleRate = h.sampleRate;
    channels = h.channelConfig === 2 ? 2 : 1;
  }
  const splitter = codec === 'aac' ? new AdtsSplitter() : new RawAudioSplitter(SAMPLES_PER_FRAME * channels * (codec === 'pcm' ? 2 : 1));
  const a = splitter.push(data);
  const b = splitter.end();
  const frames = [...a.frames, ...b.frames];
  const problems = [...a.problems, ...b.problems];
  const validator = new AudioValidator({ codec, sampleRate, channels });
  for (const [i, f] of frames.entries()) {
    const v = validator.check(f);
    if (!v.ok) {
      report.ok = false;
      report.violation = { code: v.error.code, message: v.error.message, frame: i };
      break;
    }
    report.frames++;
  }
  if (report.ok && problems[0]) {
    report.ok = false;
    report.violation = { code: codec === 'aac' ? 'IV_ERR_AV_TRUNCATED' : 'IV_ERR_AV_BAD_AUDIO_FRAME', message: problems[0].detail, frame: report.frames };
  }
  report.durationS = (report.frames * SAMPLES_PER_FRAME) / sampleRate;
  report.bitrateKbps = report.durationS > 0 ? Math.round((data.length * 8) / report.durationS / 1000) : 0;
  report.audio = { sampleRate, channels, samplesPerFrame: SAMPLES_PER_FRAME };
  return report;
}

/** One line a person reads. */
export function formatReport(r: ProbeReport): string {
  const head = `${r.file}: ${r.kind}`;
  if (!r.ok && r.violation) {
    return `${head} FAIL ${r.violation.code} at frame ${r.violation.frame}: ${r.violation.message}`;
  }
  const parts: string[] = [];
  if (r.video) {
    const v = r.video;
    parts.push(`${v.width}x${v.height} ${v.profile}@${v.level}`, `${v.fps} fps${v.fpsFromStream ? '' : ' (assumed)'}`, `GOP ${v.gop ?? 'n/a'}`);
  }
  if (r.audio) {
    parts.push(`${r.audio.sampleRate} Hz ${r.audio.channels} ch`);
  }
  parts.push(`${r.frames} frames`, `${r.durationS.toFixed(2)} s`, `${r.bitrateKbps} kbit/s`, `decode ${r.decoded ?? 'skipped'}`);
  return `${head} OK ${parts.join(', ')}`;
}
