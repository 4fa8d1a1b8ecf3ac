/**
 * ingest — the one path every captured or pushed frame takes (CaptureActor's sources,
 * CloudModule.pushStream): validate against the SDK rules,
 * then publish into the camera's FrameRing (video length-prefixed on stream 0, audio
 * on stream 1), counting what was accepted and refused.
 *
 * Owns: the stream's validators, its ring writer, its stats and refusal counters.
 * Must never: write a refused frame, or throw on bad input (it returns the error).
 */
import { IvError, type IvErrorCode } from '../../runtime/errors.js';
import type { FrameRing, FrameWriter } from '../../runtime/frame-ring.js';
import { AudioValidator } from '../../media/audio-validator.js';
import { AUDIO_CODEC_ID, STREAM, VIDEO_CODEC_ID, type AudioFormat, type VideoCodecName, type VideoFormat } from '../../media/codecs.js';
import { VideoValidator } from '../../media/video-validator.js';
import { StreamStats, type StreamStatsSnapshot } from './stream-stats.js';

export interface IngestOptions {
  video?: { codec: VideoCodecName; maxFrameBytes?: number };
  audio?: AudioFormat;
  /** Called once, when the first valid keyframe establishes the video format. */
  onFormat?: (format: VideoFormat) => void;
  /** Called once, when a complete GOP took more than half of the ring's data (the ring should hold two). */
  onRingTight?: (gop: { bytes: number; frames: number; ringBytes: number }) => void;
}

export type IngestResult = { ok: true; seq: number; keyframe: boolean } | { ok: false; error: IvError };

export interface IngestStats extends StreamStatsSnapshot {
  rejected: Partial<Record<IvErrorCode, number>>;
  lastError?: { code: string; message: string; frame: number };
  video?: VideoFormat;
  audio?: AudioFormat;
  ringHead: number;
  ringOldest: number;
  /** Times any reader of this camera's ring was lapped (fell a whole ring behind). */
  laps: number;
}

export const nowUs = (): number => Date.now() * 1000;

/**
 * A frame without its own timestamp is stamped with its arrival time, at least 1 ms after
 * the previous one of its stream: frames that arrive in one burst (a source catching up
 * after a stall, a busy machine) must not share a timestamp, or muxers see a dts that
 * does not increase and the recording does not decode.
 */
function arrivalPts(last: number): number {
  return Math.max(nowUs(), last + 1_000);
}

export class Ingest {
  private readonly video: VideoValidator | undefined;
  private readonly audio: AudioValidator | undefined;
  private readonly writer: FrameWriter;
  private readonly stats = new StreamStats();
  private readonly rejected: Partial<Record<IvErrorCode, number>> = {};
  private lastError: IngestStats['lastError'];
  private videoCount = 0;
  private audioCount = 0;
  private formatAnnounced = false;
  private ringTightTold = false;
  /** The last arrival-time pts given per stream (µs). */
  private lastVideoPts = 0;
  private lastAudioPts = 0;

  constructor(private readonly ring: FrameRing, private readonly opts: IngestOptions) {
    if (opts.video) {
      const vo: ConstructorParameters<typeof VideoValidator>[0] = { codec: opts.video.codec };
      vo.maxFrameBytes = Math.min(opts.video.maxFrameBytes ?? 4 * 1024 * 1024, ring.dataBytes);
      this.video = new VideoValidator(vo);
    }
    if (opts.audio) {
      this.audio = new AudioValidator(opts.audio);
    }
    this.writer = ring.writer({ takeover: true });
  }

  get videoFormat(): VideoFormat | undefined {
    return this.video?.established;
  }

  /** One Annex-B access unit. */
  pushVideo(au: Uint8Array, ptsGiven?: number, keyframe?: boolean): IngestResult {
    const index = this.videoCount++;
    if (!this.video) {
      return this.refuse(new IvError('IV_ERR_INVALID_PARAM', 'this camera has no video stream', { field: 'stream' }), index);
    }
    const verdict = this.video.check(au, keyframe);
    if (!verdict.ok) {
      return this.refuse(verdict.error, index);
    }
    const f = verdict.frame;
    const pts = ptsGiven ?? (this.lastVideoPts = arrivalPts(this.lastVideoPts));
    const seq = this.writer.write({ data: f.data, pts, dts: pts, keyframe: f.keyframe, codec: VIDEO_CODEC_ID[f.format.codec], stream: STREAM.VIDEO });
    this.stats.video(f.data.length, f.keyframe);
    if (f.keyframe && !this.ringTightTold) {
      const gop = this.stats.lastGopSize;
      if (gop.bytes > this.ring.dataBytes / 2) {
        this.ringTightTold = true;
        this.opts.onRingTight?.({ ...gop, ringBytes: this.ring.dataBytes });
      }
    }
    if (f.keyframe && !this.formatAnnounced) {
      this.formatAnnounced = true;
      this.opts.onFormat?.(f.format);
    }
    return { ok: true, seq, keyframe: f.keyframe };
  }

  /** One audio frame (ADTS for AAC; 1024 samples/channel for G.711 and PCM). */
  pushAudio(frame: Uint8Array, ptsGiven?: number): IngestResult {
    const index = this.audioCount++;
    if (!this.audio || !this.opts.audio) {
      return this.refuse(new IvError('IV_ERR_INVALID_PARAM', 'this camera has no audio stream', { field: 'stream' }), index);
    }
    const verdict = this.audio.check(frame);
    if (!verdict.ok) {
      return this.refuse(verdict.error, index);
    }
    const pts = ptsGiven ?? (this.lastAudioPts = arrivalPts(this.lastAudioPts));
    const seq = this.writer.write({ data: frame, pts, dts: pts, keyframe: !this.opts.video, codec: AUDIO_CODEC_ID[this.opts.audio.codec], stream: STREAM.AUDIO });
    this.stats.audio(frame.length);
    return { ok: true, seq, keyframe: false };
  }

  private refuse(error: IvError, frame: number): IngestResult {
    this.rejected[error.code] = (this.rejected[error.code] ?? 0) + 1;
    this.lastError = { code: error.code, message: error.message, frame };
    return { ok: false, error };
  }

  snapshot(): IngestStats {
    const s: IngestStats = { ...this.stats.snapshot(), rejected: { ...this.rejected }, ringHead: this.ring.head, ringOldest: this.ring.oldest, laps: this.ring.laps };
    if (this.lastError) {
      s.lastError = this.lastError;
    }
    const vf = this.video?.established;
    if (vf) {
      s.video = vf;
    }
    if (this.opts.audio) {
      s.audio = this.opts.audio;
    }
    return s;
  }

  /** The stream has ended for good (graceful stop): readers see the ring closed. */
  close(): void {
    this.writer.close();
  }
}
