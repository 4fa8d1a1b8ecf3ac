/**
 * CaptureActor — one camera stream: its source (file / ffmpeg / push), the SDK's
 * input rules, and publication into the camera's FrameRing.
 *
 * Receives CAPTURE_PUSH (push sources: a refused frame is the caller's error) and
 * CAPTURE_STATS; sends CAPTURE_EVENT (refused frames of file and ffmpeg sources,
 * rate-limited; source exits and restarts; the established format; `ring-tight` when a
 * GOP takes more than half of the ring).
 * The ring comes from the owner (args.ring), so a restarted incarnation takes over
 * the same ring and readers keep reading; only a graceful stop closes it.
 * Must never: write an invalid frame, or leave a child process or timer behind.
 */
import { defineActor, type ActorContext } from '../../runtime/actor.js';
import { CAPTURE_METHODS, type CaptureMethods } from './capture-methods.js';
import { invalidParam, IvError } from '../../runtime/errors.js';
import { FrameRing } from '../../runtime/frame-ring.js';
import type { AudioFormat, VideoCodecName } from '../../media/codecs.js';
import { Ingest } from './ingest.js';
import { startFfmpegSource, startFileSource, type Source, type SourceConfig, type SourceHost } from './sources.js';

export interface CaptureArgs {
  camera: string;
  ring: SharedArrayBuffer;
  video?: { codec: VideoCodecName; maxFrameBytes?: number };
  audio?: AudioFormat;
  source: SourceConfig;
}

interface CaptureState {
  args: CaptureArgs;
  ingest: Ingest;
  source: Source | undefined;
  eventsThisSecond: number;
}

const MAX_EVENTS_PER_SECOND = 10;

function checkArgs(raw: unknown): CaptureArgs {
  const a = raw as Partial<CaptureArgs> | null;
  if (typeof a !== 'object' || a === null) {
    throw invalidParam('args', 'expected capture arguments');
  }
  if (typeof a.camera !== 'string' || a.camera === '') {
    throw invalidParam('args.camera', 'expected a camera id');
  }
  if (!(a.ring instanceof SharedArrayBuffer)) {
    throw invalidParam('args.ring', 'expected the camera FrameRing buffer');
  }
  if (!a.video && !a.audio) {
    throw invalidParam('args.video', 'a camera needs video, audio or both');
  }
  if (a.video && a.video.codec !== 'h264' && a.video.codec !== 'h265') {
    throw invalidParam('args.video.codec', `expected h264 or h265, got ${JSON.stringify(a.video.codec)}`);
  }
  if (a.audio) {
    if (!['aac', 'g711a', 'g711u', 'pcm'].includes(a.audio.codec)) {
      throw invalidParam('args.audio.codec', `expected aac, g711a, g711u or pcm, got ${JSON.stringify(a.audio.codec)}`);
    }
    if (!Number.isInteger(a.audio.sampleRate) || a.audio.sampleRate < 8000 || a.audio.sampleRate > 96000) {
      throw invalidParam('args.audio.sampleRate', `expected 8000..96000, got ${a.audio.sampleRate}`);
    }
    if (a.audio.channels !== 1 && a.audio.channels !== 2) {
      throw invalidParam('args.audio.channels', `expected 1 or 2, got ${String(a.audio.channels)}`);
    }
  }
  const src = a.source;
  if (!src || !['file', 'ffmpeg', 'push'].includes(src.kind)) {
    throw invalidParam('args.source.kind', 'expected file, ffmpeg or push');
  }
  if (src.kind !== 'push' && (!(typeof src.fps === 'number') || src.fps <= 0 || src.fps > 240)) {
    throw invalidParam('args.source.fps', `expected 0 < fps <= 240, got ${String(src.fps)}`);
  }
  return a as CaptureArgs;
}

const mib = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MiB`;

function event(state: CaptureState, ctx: ActorContext<CaptureMethods>, type: Parameters<SourceHost['event']>[0] | 'format' | 'ring-tight', fields: Parameters<SourceHost['event']>[1]): void {
  if (type === 'rejected' && state.eventsThisSecond++ >= MAX_EVENTS_PER_SECOND) {
    return; // counted in CAPTURE_STATS anyway
  }
  ctx.emit('CAPTURE_EVENT', { camera: state.args.camera, type, ...fields });
}

export default defineActor({
  name: 'capture',
  methods: CAPTURE_METHODS,
  init(ctx, raw) {
    const args = checkArgs(raw);
    const ring = FrameRing.attach(args.ring);
    const setup = { ...(args.video ? { video: args.video } : {}), ...(args.audio ? { audio: args.audio } : {}) };
    const ingest = new Ingest(ring, {
      ...setup,
      onFormat: (format) => event(state, ctx, 'format', { detail: format }),
      onRingTight: (gop) => event(state, ctx, 'ring-tight', {
        message: `a GOP of ${mib(gop.bytes)} (${gop.frames} frames) took over half of this camera's ${mib(gop.ringBytes)} frame ring: a new viewer may wait for the next keyframe and a reader that falls behind loses a GOP; give the camera a ring of at least ${mib(Math.ceil((gop.bytes * 2.5) / 1048576) * 1048576)} (cameras[].ring)`,
        detail: gop,
      }),
    });
    const state: CaptureState = { args, ingest, source: undefined, eventsThisSecond: 0 };
    ctx.setInterval(() => {
      state.eventsThisSecond = 0;
    }, 1_000);
    const host: SourceHost = {
      setInterval: ctx.setInterval,
      setTimeout: ctx.setTimeout,
      clearTimer: ctx.clearTimer,
      event: (type, fields) => event(state, ctx, type, fields),
    };
    if (args.source.kind === 'file') {
      state.source = startFileSource(args.source, setup, ingest, host);
    } else if (args.source.kind === 'ffmpeg') {
      state.source = startFfmpegSource(args.source, setup, ingest, host);
    }
    return state;
  },
  handlers: {
    CAPTURE_PUSH: (state, body) => {
      if (state.args.source.kind !== 'push') {
        throw new IvError('IV_ERR_INVALID_PARAM', `camera ${state.args.camera} is fed by its ${state.args.source.kind} source, not by pushes`, { field: 'stream' });
      }
      const result = body.stream === 'video' ? state.ingest.pushVideo(body.data, body.pts, body.keyframe) : state.ingest.pushAudio(body.data, body.pts);
      if (!result.ok) {
        throw result.error;
      }
      return { seq: result.seq };
    },
    CAPTURE_STATS: (state) => ({ camera: state.args.camera, source: state.args.source.kind, ...state.ingest.snapshot() }),
  },
  terminate(state, _ctx, reason) {
    state.source?.stop();
    if (reason === 'shutdown') {
      state.ingest.close();
    }
  },
});
