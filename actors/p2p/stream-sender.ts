/**
 * stream-sender — one opened live stream of one app: reads the camera's FrameRing from
 * its latest keyframe, muxes FLV, and sends it on the stream's data channel on every
 * 10 ms tick; applies the watermarks to the stream's backlog; keeps the SDK's send
 * statistics (iv_p2p_send_stats_s) from the app's ack reports.
 *
 * Backlog = bytes sent − bytes the app acknowledged (docs/PROTOCOL.md §4), and never
 * less than what the data channel itself still buffers (bufferedAmount()).
 * Owns: the reader cursor, the muxer, the stream's counters. Must never: resume
 * mid-GOP after a HIGH pause, or hold more than one tick's frames in memory.
 */
import type { FrameReader, FrameRing } from '../../runtime/frame-ring.js';
import { STREAM, type AudioFormat, type VideoCodecName } from '../media/codecs.js';
import { FlvMuxer } from '../media/flv-muxer.js';
import { paramSetsOf } from '../media/param-sets.js';
import type { WatermarkEvent, WatermarkState } from './watermark.js';

/** What the sender needs of a data channel (node-datachannel's DataChannel fits). */
export interface ByteChannel {
  sendMessageBinary(data: Uint8Array): boolean;
  bufferedAmount(): number;
  isOpen(): boolean;
}

export interface SendStats {
  /** Bytes/s sent over the last second (the SDK's inst_net_rate). */
  instNetRate: number;
  /** Bytes/s acknowledged by the app over the last second (ave_sent_rate). */
  aveSentRate: number;
  /** Bytes acknowledged by the app in total (sum_sent_acked). */
  sumSentAcked: number;
  sent: number;
  backlog: number;
  bufferedAmount: number;
  frames: number;
  laps: number;
  paused: boolean;
  rttMs: number;
}

const MAX_MESSAGE = 64 * 1024;
const RATE_WINDOW_MS = 1_000;

export interface StreamSenderOptions {
  stream: number;
  channel: ByteChannel;
  ring: FrameRing;
  video?: { codec: VideoCodecName };
  audio?: AudioFormat;
  watermarks: WatermarkState;
  onWatermark(level: WatermarkEvent): void;
  now?: () => number;
}

export class StreamSender {
  readonly stream: number;
  private readonly reader: FrameReader;
  private readonly mux: FlvMuxer;
  private readonly now: () => number;
  private headerSent = false;
  private sent = 0;
  private acked = 0;
  private frames = 0;
  private rttMs = 0;
  private waitKeyframe = false;
  private readonly sentHistory: [number, number][] = [];
  private readonly ackHistory: [number, number][] = [];
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;

  constructor(private readonly opts: StreamSenderOptions) {
    this.stream = opts.stream;
    this.now = opts.now ?? (() => performance.now());
    this.reader = opts.ring.reader('latest-keyframe');
    const muxOpts: ConstructorParameters<typeof FlvMuxer>[0] = { transientOutput: true };
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
    const ch = this.opts.channel;
    if (!ch.isOpen()) {
      return;
    }
    for (const level of this.opts.watermarks.update(this.backlog())) {
      if (level === 'low') {
        this.waitKeyframe = true; // resume at the next keyframe, never mid-GOP
      }
      this.opts.onWatermark(level);
    }
    if (!this.headerSent) {
      this.queue(this.mux.header());
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
          this.queue(t);
        }
        if (!this.reader.release()) {
          this.pending = [];
          this.pendingBytes = 0;
          this.waitKeyframe = true; // the frame was overwritten while muxed: drop it, resync
          continue;
        }
        this.frames++;
      }
    }
    this.flush();
  }

  /** Tags are views into the muxer's recycled memory: copy them into the pending list now. */
  private queue(tag: Uint8Array): void {
    this.pending.push(tag.slice());
    this.pendingBytes += tag.length;
  }

  private flush(): void {
    if (this.pendingBytes === 0) {
      return;
    }
    const all = this.pending.length === 1 ? (this.pending[0] as Uint8Array) : Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    for (let pos = 0; pos < all.length; pos += MAX_MESSAGE) {
      this.opts.channel.sendMessageBinary(all.subarray(pos, Math.min(all.length, pos + MAX_MESSAGE)));
    }
    this.sent += all.length;
    this.sentHistory.push([this.now(), all.length]);
    this.trim(this.sentHistory);
  }

  /** The app's ack report (cumulative bytes received on this stream). */
  ack(bytes: number, echo: number): void {
    const now = this.now();
    const delta = Math.max(0, Math.min(bytes, this.sent) - this.acked);
    this.acked += delta;
    this.ackHistory.push([now, delta]);
    this.trim(this.ackHistory);
    if (echo > 0 && echo <= now) {
      this.rttMs = now - echo;
    }
  }

  /** Bytes not yet acknowledged by the app (at least what the channel still buffers). */
  backlog(): number {
    return Math.max(this.sent - this.acked, this.opts.channel.bufferedAmount());
  }

  private trim(history: [number, number][]): void {
    const cutoff = this.now() - RATE_WINDOW_MS;
    while (history.length > 0 && (history[0] as [number, number])[0] < cutoff) {
      history.shift();
    }
  }

  stats(): SendStats {
    this.trim(this.sentHistory);
    this.trim(this.ackHistory);
    const rate = (h: [number, number][]): number => Math.round((h.reduce((n, [, b]) => n + b, 0) * 1000) / RATE_WINDOW_MS);
    return {
      instNetRate: rate(this.sentHistory),
      aveSentRate: rate(this.ackHistory),
      sumSentAcked: this.acked,
      sent: this.sent,
      backlog: this.backlog(),
      bufferedAmount: this.opts.channel.bufferedAmount(),
      frames: this.frames,
      laps: this.reader.stats.laps,
      paused: this.opts.watermarks.isPaused,
      rttMs: Math.round(this.rttMs * 10) / 10,
    };
  }
}
