/**
 * sources — where a camera's frames come from.
 *  - file:   Annex-B H.264/H.265 and ADTS/G.711/PCM files, looped in real time on the
 *            spec's 10 ms tick with continuous timestamps;
 *  - ffmpeg: a child ffmpeg (any input it reads: lavfi, a device, an RTSP URL) writing
 *            Annex-B on pipe:1 and audio on pipe:3; restarted with stepped backoff
 *            when it exits;
 *  - push:   frames arrive through CAPTURE_PUSH from the actor's owner; no source runs
 *            (the SDK's iv_cs_push_stream does not come here: CloudModule runs its
 *            own Ingest on the calling thread).
 * Every frame goes through Ingest. Owns: the source's timers and child process.
 * Must never: outlive its actor incarnation (stop() ends timers and the child).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { rawAudioFrameBytes, SAMPLES_PER_FRAME, type AudioFormat, type VideoCodecName } from '../../media/codecs.js';
import { AccessUnitSplitter, AdtsSplitter, RawAudioSplitter } from '../../media/es-splitter.js';
import { nowUs, type Ingest, type IngestResult } from './ingest.js';
import { redactUrlCredentials } from '../../runtime/redact.js';

export type SourceConfig =
  | { kind: 'file'; video?: string; audio?: string; fps: number; loop?: boolean }
  | {
    kind: 'ffmpeg';
    /** ffmpeg input options, e.g. ['-rtsp_transport', 'tcp', '-i', 'rtsp://...'] or ['-re', '-f', 'lavfi', '-i', 'testsrc2']. */
    input: string[];
    fps: number;
    gop?: number;
    /** Which input (index) has the audio; default 0. */
    audioInput?: number;
    /** Keep the camera's own H.264/H.265 (parameter sets are inserted before keyframes). */
    copyVideo?: boolean;
    /** Keep the camera's own AAC / G.711 (the declared format must be what it sends). */
    copyAudio?: boolean;
    ffmpegPath?: string;
    restartBackoffMs?: number[];
  }
  | { kind: 'push' };

export interface SourceHost {
  setInterval(fn: () => unknown, ms: number): number;
  setTimeout(fn: () => unknown, ms: number): number;
  clearTimer(id: number): void;
  event(type: 'rejected' | 'source-exit' | 'source-restart' | 'source-ended' | 'source-up', fields: { code?: string; message?: string; frame?: number; detail?: unknown }): void;
}

export interface Source {
  stop(): void;
}

export interface StreamSetup {
  video?: { codec: VideoCodecName };
  audio?: AudioFormat;
}

function audioSplitter(audio: AudioFormat): AdtsSplitter | RawAudioSplitter {
  return audio.codec === 'aac' ? new AdtsSplitter() : new RawAudioSplitter(rawAudioFrameBytes(audio.codec, audio.channels));
}

const B_FRAME_HINT = '; this camera sends B-frames: set `transcode: true` (re-encodes with -bf 0) or turn B-frames off in the camera';

function report(host: SourceHost, result: IngestResult, frame: number, copied = false): void {
  if (!result.ok) {
    const hint = copied && result.error.code === 'IV_ERR_AV_B_FRAME' ? B_FRAME_HINT : '';
    host.event('rejected', { code: result.error.code, message: `${result.error.message}${hint}`, frame });
  }
}

export function startFileSource(cfg: Extract<SourceConfig, { kind: 'file' }>, setup: StreamSetup, ingest: Ingest, host: SourceHost): Source {
  let video: Uint8Array[] = [];
  let audio: Uint8Array[] = [];
  if (cfg.video && setup.video) {
    const s = new AccessUnitSplitter(setup.video.codec);
    video = [...s.push(readFileSync(cfg.video)).frames, ...s.end().frames];
  }
  if (cfg.audio && setup.audio) {
    const s = audioSplitter(setup.audio);
    audio = [...s.push(readFileSync(cfg.audio)).frames, ...s.end().frames];
  }
  const frameUs = 1e6 / cfg.fps;
  const audioUs = setup.audio ? (SAMPLES_PER_FRAME / setup.audio.sampleRate) * 1e6 : Infinity;
  const loopUs = video.length > 0 ? video.length * frameUs : audio.length * audioUs;
  const origin = nowUs();
  let loopStart = 0;
  let vi = 0;
  let ai = 0;
  let loops = 0;
  const tick = (): void => {
    const elapsed = nowUs() - origin;
    let budget = 200; // frames per tick, so a stalled loop catches up without a burst
    for (;;) {
      const vAt = vi < video.length ? loopStart + vi * frameUs : Infinity;
      const aAt = ai < audio.length && ai * audioUs < loopUs ? loopStart + ai * audioUs : Infinity;
      const at = Math.min(vAt, aAt);
      if (at === Infinity) {
        if (cfg.loop === false) {
          host.clearTimer(timer);
          host.event('source-ended', { detail: { loops } });
          return;
        }
        loops++;
        loopStart += loopUs;
        vi = 0;
        ai = 0;
        continue;
      }
      if (at > elapsed || budget-- <= 0) {
        return;
      }
      if (vAt <= aAt) {
        report(host, ingest.pushVideo(video[vi] as Uint8Array, origin + vAt), vi);
        vi++;
      } else {
        report(host, ingest.pushAudio(audio[ai] as Uint8Array, origin + aAt), ai);
        ai++;
      }
    }
  };
  const timer = host.setInterval(tick, 10);
  tick();
  return { stop: () => host.clearTimer(timer) };
}

const DEFAULT_BACKOFF = [250, 1_000, 5_000];

export function startFfmpegSource(cfg: Extract<SourceConfig, { kind: 'ffmpeg' }>, setup: StreamSetup, ingest: Ingest, host: SourceHost): Source {
  const backoff = cfg.restartBackoffMs ?? DEFAULT_BACKOFF;
  let child: ChildProcess | undefined;
  let stopped = false;
  let failures = 0;
  let restartTimer = 0;
  const gop = cfg.gop ?? Math.round(cfg.fps * 2);

  const args = (): string[] => {
    const out = ['-hide_banner', '-nostdin', '-loglevel', 'error', ...cfg.input];
    if (setup.video) {
      out.push('-map', '0:v:0');
      if (cfg.copyVideo) {
        out.push('-c:v', 'copy', '-bsf:v', `${setup.video.codec === 'h264' ? 'h264' : 'hevc'}_mp4toannexb,dump_extra=freq=keyframe`);
      } else if (setup.video.codec === 'h264') {
        out.push('-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p', '-bf', '0', '-g', String(gop), '-keyint_min', String(gop), '-sc_threshold', '0');
      } else {
        out.push('-c:v', 'libx265', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-x265-params', `keyint=${gop}:min-keyint=${gop}:bframes=0:scenecut=0:repeat-headers=1:log-level=error`);
      }
      out.push('-r', String(cfg.fps), '-f', setup.video.codec === 'h264' ? 'h264' : 'hevc', 'pipe:1');
    }
    if (setup.audio) {
      const a = setup.audio;
      out.push('-map', `${cfg.audioInput ?? 0}:a:0`);
      if (cfg.copyAudio && a.codec !== 'pcm') {
        out.push('-c:a', 'copy', '-f', a.codec === 'aac' ? 'adts' : a.codec === 'g711a' ? 'alaw' : 'mulaw', 'pipe:3');
        return out;
      }
      out.push('-ar', String(a.sampleRate), '-ac', String(a.channels));
      if (a.codec === 'aac') {
        out.push('-c:a', 'aac', '-f', 'adts');
      } else if (a.codec === 'pcm') {
        out.push('-c:a', 'pcm_s16le', '-f', 's16le');
      } else {
        out.push('-c:a', a.codec === 'g711a' ? 'pcm_alaw' : 'pcm_mulaw', '-f', a.codec === 'g711a' ? 'alaw' : 'mulaw');
      }
      out.push('pipe:3');
    }
    return out;
  };

  const run = (): void => {
    const started = Date.now();
    const origin = nowUs();
    const vSplit = setup.video ? new AccessUnitSplitter(setup.video.codec) : undefined;
    const aSplit = setup.audio ? audioSplitter(setup.audio) : undefined;
    let vn = 0;
    let an = 0;
    const audioUs = setup.audio ? (SAMPLES_PER_FRAME / setup.audio.sampleRate) * 1e6 : 0;
    let stderr = '';
    const proc = spawn(cfg.ffmpegPath ?? 'ffmpeg', args(), { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    child = proc;
    let up = false;
    const onVideo = (chunk: Buffer): void => {
      if (!up) {
        up = true;
        host.event('source-up', { detail: { failures } });
      }
      for (const f of (vSplit as AccessUnitSplitter).push(chunk).frames) {
        report(host, ingest.pushVideo(f, origin + (vn * 1e6) / cfg.fps), vn, cfg.copyVideo === true);
        vn++;
      }
    };
    const onAudio = (chunk: Buffer): void => {
      for (const f of (aSplit as AdtsSplitter).push(chunk).frames) {
        report(host, ingest.pushAudio(f, origin + an * audioUs), an);
        an++;
      }
    };
    proc.stdout?.on('data', onVideo);
    (proc.stdio[3] as Readable | null)?.on('data', onAudio);
    proc.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2_000);
    });
    proc.on('error', (err) => {
      stderr += `\n${err.message}`;
    });
    proc.on('close', (code, signal) => {
      if (child === proc) {
        child = undefined;
      }
      if (stopped) {
        return;
      }
      failures = Date.now() - started > 30_000 ? 1 : failures + 1;
      const delay = backoff[Math.min(failures - 1, backoff.length - 1)] ?? 1_000;
      const lastLine = redactUrlCredentials(stderr.trim().split('\n').slice(-1)[0] ?? ''); // ffmpeg quotes its input URL
      host.event('source-exit', { code: 'IV_ERR_AV_SOURCE_FAILED', message: `ffmpeg exited (${signal ?? code}); restarting in ${delay} ms${lastLine ? `: ${lastLine}` : ''}`, detail: { exitCode: code, signal, failures, delayMs: delay, lastError: lastLine } });
      restartTimer = host.setTimeout(() => {
        host.event('source-restart', { detail: { failures } });
        run();
      }, delay);
    });
  };
  run();
  return {
    stop: () => {
      stopped = true;
      host.clearTimer(restartTimer);
      child?.kill('SIGKILL');
    },
  };
}
