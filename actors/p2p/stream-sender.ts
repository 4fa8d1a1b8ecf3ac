/**
 * stream-sender — one opened stream of one app with a muxer of its own: playback (the
 * private ring a PlaybackFeeder fills from the local recording) and live streams of a
 * camera without video; live video streams share their camera's feed instead
 * (live-sender.ts). Reads a FrameRing (a camera's from its latest keyframe), muxes
 * FLV, and sends it on the stream's data channel on every
 * 10 ms tick; applies the watermarks to the stream's backlog; keeps the SDK's send
 * statistics (iv_p2p_send_stats_s) from the app's ack reports. After an ICE restart a
 * live stream resumes at the latest keyframe, a playback one at the first keyframe after
 * where it stopped.
 *
 * Backlog = bytes sent − bytes the app acknowledged (docs/PROTOCOL.md §4), and never
 * less than what the data channel itself still buffers (bufferedAmount()).
 * Owns: the reader cursor, the muxer, the stream's counters. Must never: resume
 * mid-GOP after a HIGH pause, or hold more than one tick's frames in memory.
 */
import type { FrameReader, FrameRing } from '../../runtime/frame-ring.js';
import { STREAM, type AudioFormat, type VideoCodecName } from '../../media/codecs.js';
import { FlvMuxer } from '../../media/flv-muxer.js';
import { paramSetsOf, pictureOf } from '../../media/param-sets.js';
import { SendAccounting, type ByteChannel, type SendStats } from './send-accounting.js';
import type { WatermarkEvent, WatermarkState } from './watermark.js';

export type { ByteChannel, SendStats } from './send-accounting.js';

export interface StreamSenderOptions {
  stream: number;
  channel: ByteChannel;
  ring: FrameRing;
  /** `fps`: the camera's frame rate for the FLV metadata when the SPS does not carry one. */
  video?: { codec: VideoCodecName; fps?: number };
  audio?: AudioFormat;
  watermarks: WatermarkState;
  onWatermark(level: WatermarkEvent): void;
  /**
   * Take over a stream another sender began (a restarted peer actor): no FLV header, the
   * same timestamp origin (ms, the frames' clock), first data at the latest keyframe.
   */
  continueFrom?: { originMs: number };
  /** After an ICE restart or a watermark pause, go on at the ring's latest keyframe (live) instead of where it stopped (playback). */
  resumeAtLatest?: boolean;
  /** Called once with the frames' clock (ms) at FLV timestamp 0 (live: unix ms of capture). */
  onOrigin?: (originMs: number) => void;
  now?: () => number;
}

export class StreamSender {
  readonly stream: number;
  private readonly reader: FrameReader;
  /** The channel was replaced: on its first open tick, skip to the latest keyframe (live). */
  private rebound = false;
  private readonly mux: FlvMuxer;
  private readonly now: () => number;
  private headerSent = false;
  private frames = 0;
  private waitKeyframe = false;
  private readonly account: SendAccounting;
  private originReported = false;

  constructor(private readonly opts: StreamSenderOptions) {
    this.stream = opts.stream;
    this.now = opts.now ?? (() => performance.now());
    this.account = new SendAccounting(opts.channel, this.now);
    this.reader = opts.ring.reader('latest-keyframe');
    const muxOpts: ConstructorParameters<typeof FlvMuxer>[0] = { transientOutput: true };
    if (opts.continueFrom) {
      muxOpts.originUs = opts.continueFrom.originMs * 1000;
      this.headerSent = true;
      this.originReported = true;
      this.waitKeyframe = true;
    }
    if (opts.video) {
      muxOpts.video = { codec: opts.video.codec };
    }
    if (opts.audio && opts.audio.codec !== 'pcm') {
      muxOpts.audio = opts.audio;
    }
    this.mux = new FlvMuxer(muxOpts);
  }

  /** One tick: apply watermarks, pull what the ring has, send it. */
  tick(): void {
    if (!this.account.open) {
      return;
    }
    if (this.rebound) {
      this.rebound = false;
      this.resumeAtKeyframe();
    }
    for (const level of this.opts.watermarks.update(this.backlog())) {
      if (level === 'low') {
        // resume on a keyframe, never mid-GOP: live at the camera's latest one (what the
        // camera sent meanwhile is skipped, an announced pause), playback where it paused
        this.resumeAtKeyframe();
      }
      this.opts.onWatermark(level);
    }
    if (!this.headerSent) {
      // the header's onMetaData names the picture size and rate, read from the first keyframe's SPS
      const first = this.opts.video ? this.reader.peek() : undefined;
      if (first === null) {
        this.account.flush();
        return; // nothing to send yet: the header goes with the first frame
      }
      this.account.queue(this.mux.header(first && first.stream === STREAM.VIDEO && first.keyframe && this.opts.video ? pictureOf(first.data, this.opts.video) : undefined));
      this.headerSent = true;
    }
    if (!this.opts.watermarks.isPaused) {
      for (let f = this.reader.peek(); f !== null; f = this.reader.peek()) {
        if (this.waitKeyframe && !(f.stream === STREAM.VIDEO && f.keyframe)) {
          this.reader.release();
          continue;
        }
        this.waitKeyframe = false;
        const tags = f.stream === STREAM.VIDEO
          ? (this.opts.video ? this.mux.video({ data: f.data, pts: f.pts, dts: f.dts, keyframe: f.keyframe, paramSets: f.keyframe ? paramSetsOf(f.data, this.opts.video.codec) : undefined }) : [])
          : (this.opts.audio && this.opts.audio.codec !== 'pcm' ? this.mux.audio({ data: f.data, pts: f.pts }) : []);
        for (const t of tags) {
          this.account.queue(t);
        }
        if (!this.reader.release()) {
          this.account.discard();
          this.waitKeyframe = true; // the frame was overwritten while muxed: drop it, resync
          continue;
        }
        this.frames++;
      }
    }
    if (!this.originReported && this.mux.origin !== undefined) {
      this.originReported = true;
      this.opts.onOrigin?.(this.mux.origin / 1000);
    }
    this.account.flush();
  }

  /** Go on from a keyframe: the ring's latest one for live streams, the next one otherwise. */
  private resumeAtKeyframe(): void {
    const key = this.opts.ring.latestKeyframe();
    if (this.opts.resumeAtLatest && key >= 0 && key > this.reader.position) {
      this.reader.seek(key);
    }
    this.waitKeyframe = true;
  }

  /**
   * Continue on a new data channel (ICE restart). The FLV goes on where it was (no new
   * header): from the next keyframe, at the ring's latest one for live streams; the app
   * drops the old channel's unfinished tag.
   */
  rebind(channel: ByteChannel): void {
    this.account.rebind(channel);
    this.rebound = true;
  }

  /** The app's ack report (bytes received on this stream's current channel). */
  ack(bytes: number, echo: number): void {
    this.account.ack(bytes, echo);
  }

  /** Every frame in the ring was read and handed to the channel. */
  get caughtUp(): boolean {
    return this.reader.backlog === 0 && this.account.pending === 0;
  }

  /** Bytes not yet acknowledged by the app (at least what the channel still buffers). */
  backlog(): number {
    return this.account.backlog();
  }

  stats(): SendStats {
    return this.account.stats({ frames: this.frames, laps: this.reader.stats.laps, paused: this.opts.watermarks.isPaused });
  }
}
