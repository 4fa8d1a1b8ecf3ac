/**
 * camera-plan — a configured camera turned into what its capture actor runs: the ffmpeg
 * input and codec options for rtsp:/ffmpeg:/test:, the file source, or push; the formats
 * come from the config or, for rtsp:, from probing the camera (copy video; copy audio
 * when AAC/G.711, else transcode to AAC).
 * Owns: those decisions and the notes explaining them. Must never: start the capture.
 */
import type { CaptureArgs } from '../../actors/capture/CaptureActor.js';
import type { SourceConfig } from '../../actors/capture/sources.js';
import type { AudioFormat, VideoCodecName } from '../../media/codecs.js';
import type { CameraConfig } from '../config/schema.js';
import { probeCamera, type ProbedStreams } from './probe-camera.js';

export type CapturePlan = Omit<CaptureArgs, 'ring'> & { channel: number; config: CameraConfig; notes: string[] };

const RTSP_BACKOFF_MS = [500, 1_000, 2_000, 5_000];
const AAC_RATES = [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000];

/** rtsp:// input options: TCP, a socket timeout so a dead server ends ffmpeg (and the retry starts) quickly. */
export function rtspInput(url: string): string[] {
  return ['-rtsp_transport', 'tcp', '-timeout', '5000000', '-fflags', '+genpts', '-i', url];
}

function videoOf(name: string | undefined): VideoCodecName | undefined {
  return name === 'h264' ? 'h264' : name === 'hevc' || name === 'h265' ? 'h265' : undefined;
}

/** The audio the camera sends, as the gateway takes it: copied when AAC or G.711, else transcoded to AAC. */
function audioOf(p: ProbedStreams['audio']): { format: AudioFormat; copy: boolean } | undefined {
  if (!p) {
    return undefined;
  }
  const channels = (p.channels >= 2 ? 2 : 1);
  if (p.codec === 'aac' && AAC_RATES.includes(p.sampleRate)) {
    return { format: { codec: 'aac', sampleRate: p.sampleRate, channels }, copy: p.channels <= 2 };
  }
  if ((p.codec === 'pcm_alaw' || p.codec === 'pcm_mulaw') && p.channels <= 2) {
    return { format: { codec: p.codec === 'pcm_alaw' ? 'g711a' : 'g711u', sampleRate: p.sampleRate || 8000, channels }, copy: true };
  }
  return { format: { codec: 'aac', sampleRate: AAC_RATES.includes(p.sampleRate) ? p.sampleRate : 16000, channels }, copy: false };
}

export async function planCamera(cam: CameraConfig): Promise<CapturePlan> {
  const notes: string[] = [];
  const base = { camera: cam.name, channel: cam.channel, config: cam, notes };
  const declaredAudio = cam.audio === 'none' ? undefined : cam.audio;
  const src = cam.source;
  if (src.kind === 'push') {
    return { ...base, ...(cam.video ? { video: { codec: cam.video } } : {}), ...(declaredAudio ? { audio: declaredAudio } : {}), source: { kind: 'push' } };
  }
  if (src.kind === 'file') {
    const codec = cam.video ?? (/\.(h265|hevc|265)$/i.test(src.video) ? 'h265' : 'h264');
    return { ...base, video: { codec }, ...(declaredAudio && src.audio ? { audio: declaredAudio } : {}), source: { kind: 'file', video: src.video, ...(src.audio && declaredAudio ? { audio: src.audio } : {}), fps: cam.fps ?? 25 } };
  }
  if (src.kind === 'test') {
    const pattern = src.pattern.includes('=') ? src.pattern : `${src.pattern}=size=640x360:rate=${cam.fps ?? 25}`;
    const audio = cam.audio === 'none' ? undefined : declaredAudio ?? { codec: 'aac' as const, sampleRate: 16000, channels: 1 as const };
    const source: SourceConfig = {
      kind: 'ffmpeg', fps: cam.fps ?? 25, audioInput: 1,
      input: ['-re', '-f', 'lavfi', '-i', pattern, '-re', '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=${audio?.sampleRate ?? 16000}`],
    };
    return { ...base, video: { codec: cam.video ?? 'h264' }, ...(audio ? { audio } : {}), source };
  }
  if (src.kind === 'ffmpeg') {
    return { ...base, video: { codec: cam.video ?? 'h264' }, ...(declaredAudio ? { audio: declaredAudio } : {}), source: { kind: 'ffmpeg', input: src.args, fps: cam.fps ?? 25, restartBackoffMs: RTSP_BACKOFF_MS } };
  }
  // rtsp://
  const input = rtspInput(src.url);
  let probed: ProbedStreams | undefined;
  if (!cam.transcode || !cam.video || cam.audio === undefined) {
    try {
      probed = await probeCamera(input);
    } catch (err) {
      notes.push(`probe failed (${(err as Error).message}); assuming ${cam.video ?? 'h264'}${declaredAudio ? ` + ${declaredAudio.codec}` : ' without audio'} — set video:/audio: to say what it sends; retrying the camera with backoff`);
    }
  }
  const probedVideo = videoOf(probed?.video?.codec);
  let copyVideo = !cam.transcode;
  if (copyVideo && probed?.video && !probedVideo) {
    copyVideo = false;
    notes.push(`sends ${probed.video.codec}, not H.264/H.265: re-encoding to H.264`);
  }
  if (copyVideo && probed?.video?.bFrames) {
    notes.push('IV_ERR_AV_B_FRAME: this camera sends B-frames, which apps and the SDK refuse; set `transcode: true` (re-encodes with -bf 0) or turn B-frames off in the camera');
  }
  const codec: VideoCodecName = copyVideo ? cam.video ?? probedVideo ?? 'h264' : cam.video ?? 'h264';
  if (copyVideo && cam.video && probedVideo && cam.video !== probedVideo) {
    notes.push(`video: the config says ${cam.video} but the camera sends ${probedVideo}`);
  }
  let audio: AudioFormat | undefined;
  let copyAudio = false;
  if (cam.audio !== 'none') {
    const a = audioOf(probed?.audio);
    if (declaredAudio) {
      audio = declaredAudio;
      copyAudio = a?.copy === true && a.format.codec === declaredAudio.codec && a.format.sampleRate === declaredAudio.sampleRate && a.format.channels === declaredAudio.channels;
    } else if (a) {
      audio = a.format;
      copyAudio = a.copy;
      if (!a.copy) {
        notes.push(`audio ${probed?.audio?.codec} transcoded to AAC ${a.format.sampleRate} Hz`);
      }
    }
  }
  const fps = cam.fps ?? probed?.video?.fps ?? 25;
  const source: SourceConfig = { kind: 'ffmpeg', input, fps, copyVideo, copyAudio, restartBackoffMs: RTSP_BACKOFF_MS };
  return { ...base, video: { codec }, ...(audio ? { audio } : {}), source };
}
