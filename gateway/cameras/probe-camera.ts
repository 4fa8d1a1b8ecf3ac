/**
 * probe-camera — asks ffprobe what a camera sends (video codec, fps, B-frames; audio codec,
 * rate, channels) before its capture actor starts, since the FrameRing, the FLV header and
 * the recorder need the formats up front.
 * Owns: the ffprobe child (killed at the deadline). Must never: wait past `timeoutMs`.
 */
import { execFile } from 'node:child_process';
import { redactUrlCredentials } from '../../runtime/redact.js';

export interface ProbedStreams {
  video?: { codec: string; fps?: number; bFrames: boolean; width?: number; height?: number };
  audio?: { codec: string; sampleRate: number; channels: number };
}

type FfprobeStream = { codec_type?: string; codec_name?: string; r_frame_rate?: string; avg_frame_rate?: string; has_b_frames?: number; sample_rate?: string; channels?: number; width?: number; height?: number };

function rate(r: string | undefined): number | undefined {
  const [n, d] = (r ?? '').split('/').map(Number);
  const fps = n !== undefined && d ? n / d : NaN;
  return Number.isFinite(fps) && fps > 0 && fps <= 120 ? Math.round(fps) : undefined;
}

/** What `input` (ffmpeg input options ending in `-i URL`) carries; rejects with ffprobe's last error line. */
export function probeCamera(input: string[], timeoutMs = 8_000, ffprobe = 'ffprobe'): Promise<ProbedStreams> {
  return new Promise((resolve, reject) => {
    execFile(ffprobe, ['-v', 'error', '-show_streams', '-of', 'json', ...input.filter((a) => a !== '-re')], { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) {
        const last = stderr.trim().split('\n').slice(-1)[0];
        reject(new Error(err.killed ? `no answer within ${timeoutMs} ms` : redactUrlCredentials(last || err.message))); // both quote the input URL
        return;
      }
      const streams = (JSON.parse(stdout || '{}') as { streams?: FfprobeStream[] }).streams ?? [];
      const v = streams.find((s) => s.codec_type === 'video');
      const a = streams.find((s) => s.codec_type === 'audio');
      const out: ProbedStreams = {};
      if (v?.codec_name) {
        const fps = rate(v.avg_frame_rate) ?? rate(v.r_frame_rate);
        out.video = { codec: v.codec_name, bFrames: (v.has_b_frames ?? 0) > 0, ...(fps ? { fps } : {}), ...(v.width ? { width: v.width } : {}), ...(v.height ? { height: v.height } : {}) };
      }
      if (a?.codec_name) {
        out.audio = { codec: a.codec_name, sampleRate: Number(a.sample_rate ?? 0), channels: a.channels ?? 1 };
      }
      resolve(out);
    });
  });
}
