/**
 * media — test helpers around real ffmpeg/ffprobe (Debian) and the sample media.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SAMPLE } from '../../actors/capture/index.js';
import { AccessUnitSplitter, AdtsSplitter, RawAudioSplitter } from '../../media/es-splitter.js';

export { SAMPLE };

export function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'ivgw-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function ffmpeg(args: string[]): { status: number; stderr: string } {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-nostdin', ...args], { encoding: 'utf8', timeout: 120_000 });
  if (r.error) {
    throw r.error;
  }
  return { status: r.status ?? -1, stderr: r.stderr };
}

/** Decode a file completely; returns the decoder's error lines (empty when clean). */
export function decodeErrors(file: string, inputArgs: string[] = []): string[] {
  // passthrough: the file's own timestamps reach the null muxer (which insists they increase), never re-timed to a constant rate
  const r = ffmpeg(['-v', 'error', '-err_detect', 'careful+explode', ...inputArgs, '-i', file, '-fps_mode', 'passthrough', '-enc_time_base', '-1', '-f', 'null', '-']);
  const lines = r.stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  if (r.status !== 0 && lines.length === 0) {
    lines.push(`ffmpeg exited ${r.status}`);
  }
  return lines;
}

export interface ProbedStream {
  codec_type: string;
  codec_name: string;
  width?: number;
  height?: number;
  sample_rate?: string;
  channels?: number;
  nb_read_frames?: string;
  nb_read_packets?: string;
}

export function ffprobe(file: string, extra: string[] = []): { streams: ProbedStream[]; format?: { duration?: string } } {
  const r = spawnSync('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_streams', '-show_format', '-count_frames', ...extra, file], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) {
    throw new Error(`ffprobe failed on ${file}: ${r.stderr}`);
  }
  return JSON.parse(r.stdout) as { streams: ProbedStream[]; format?: { duration?: string } };
}

/** Packet timestamps (seconds) per stream type, in file order. */
export function packetTimes(file: string): Record<string, number[]> {
  const r = spawnSync('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_entries', 'packet=codec_type,dts_time', file], { encoding: 'utf8', timeout: 120_000 });
  const packets = (JSON.parse(r.stdout) as { packets: { codec_type: string; dts_time?: string }[] }).packets;
  const out: Record<string, number[]> = {};
  for (const p of packets) {
    (out[p.codec_type] ??= []).push(Number(p.dts_time));
  }
  return out;
}

export function accessUnits(file: string, codec: 'h264' | 'h265'): Uint8Array[] {
  const s = new AccessUnitSplitter(codec);
  return [...s.push(readFileSync(file)).frames, ...s.end().frames];
}

export function audioFrames(file: string, codec: 'aac' | 'g711a'): Uint8Array[] {
  const s = codec === 'aac' ? new AdtsSplitter() : new RawAudioSplitter(1024);
  return [...s.push(readFileSync(file)).frames, ...s.end().frames];
}

/** Encode a short test clip with ffmpeg (x264/x265 options given by the caller). */
export function encodeClip(out: string, codec: 'h264' | 'h265', extra: string[], seconds = 2): void {
  const r = ffmpeg(['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=320x240:rate=25:duration=${seconds}`, '-pix_fmt', 'yuv420p',
    '-c:v', codec === 'h264' ? 'libx264' : 'libx265', ...extra, '-f', codec === 'h264' ? 'h264' : 'hevc', out]);
  if (r.status !== 0) {
    throw new Error(`ffmpeg failed: ${r.stderr}`);
  }
}

export function monotonic(values: readonly number[]): boolean {
  return values.every((v, i) => i === 0 || v >= (values[i - 1] as number));
}
