/**
 * stream-receiver — the app side of one opened stream (docs/PROTOCOL.md §4–5): counts
 * and checks what arrives (FLV tags parse, timestamps never go back, the first frame and
 * every frame after a gap is a keyframe, no video gaps), and measures capture-to-receive
 * latency once the device told the stream's time origin. Transport-neutral and
 * browser-safe: the owner feeds it bytes and sends the acks it produces.
 * Owns: the stream's counters and, when recording, the received bytes.
 */
import { FlvDemuxer, type FlvTag } from '../media/flv-demuxer.js';

export interface ReceiverStats {
  stream: number;
  bytes: number;
  videoFrames: number;
  audioFrames: number;
  keyframes: number;
  /** ms from open() to the first video frame, -1 before it. */
  firstFrameMs: number;
  /** Video timestamp jumps larger than 2.5 frame intervals nobody announced (missing frames). */
  gaps: number;
  /** Gaps after the device paused the stream for its high watermark (announced, expected). */
  pauseGaps: number;
  /**
   * Announced pauses (watermark high, channel moves) video came back from, on a keyframe:
   * with a gap (pauseGaps) or, when the pause began just before that keyframe, without one.
   */
  resumes: number;
  violations: string[];
  /** Capture-to-receive latency of the last video frame (needs the origin), ms; -1 before. */
  lastLatencyMs: number;
  /** Times the stream moved to a new data channel (device ICE restarts). */
  channelRestarts: number;
  /** Bytes of unfinished tags dropped when a channel was replaced. */
  droppedBytes: number;
}

/** The latency of frames of the first GOP is not measured: they are the ring's backlog, sent at once. */
const STEADY_AFTER_KEYFRAMES = 2;

export class StreamReceiver {
  private readonly demux = new FlvDemuxer();
  private readonly chunks: Uint8Array[] = [];
  private lastVideoTs = -1;
  private frameIntervalMs = 0;
  private lastAudioTs = -1;
  private readonly openedAt: number;
  private originMs: number | undefined;
  private clockOffsetMs = 0;
  private pauseAnnounced = false;
  private resumeAnnounced = false;
  readonly stats: ReceiverStats;
  /** Called for every complete tag (after the checks). */
  onTag: ((tag: FlvTag) => void) | undefined;
  /** Called with the capture-to-receive latency (ms) of every steady-state video frame. */
  onLatency: ((ms: number) => void) | undefined;

  constructor(readonly stream: number, private readonly record = false, private readonly now: () => number = () => performance.now(), openedAt?: number, private readonly wallNow: () => number = () => Date.now()) {
    this.openedAt = openedAt ?? this.now();
    this.stats = { stream, bytes: 0, videoFrames: 0, audioFrames: 0, keyframes: 0, firstFrameMs: -1, gaps: 0, pauseGaps: 0, resumes: 0, violations: [], lastLatencyMs: -1, channelRestarts: 0, droppedBytes: 0 };
  }

  /**
   * The device's `stream_time` event: FLV timestamp 0 is `originMs` on the device clock;
   * `clockOffsetMs` = device clock − local clock (from ping/pong).
   */
  setOrigin(originMs: number, clockOffsetMs: number): void {
    this.originMs = originMs;
    this.clockOffsetMs = clockOffsetMs;
  }

  /** The device announced a pause (watermark high): the next gap is expected, not missing frames. */
  expectPause(): void {
    this.pauseAnnounced = true;
    this.resumeAnnounced = false;
  }

  /**
   * The device announced the resume (watermark low). A live stream paused just before a
   * keyframe resumes at that keyframe and skips nothing: no gap comes, and the pause ends
   * at the first keyframe after this (everything sent before the pause was acknowledged,
   * so it has arrived), leaving later gaps unexplained again.
   */
  expectResume(): void {
    if (this.pauseAnnounced) {
      this.resumeAnnounced = true;
    }
  }

  /**
   * The stream moved to a new data channel (the device's ICE restart): the old channel's
   * unfinished tag is dropped (also from the recording), and the jump to the new
   * channel's first keyframe is an announced pause, not missing frames.
   */
  channelReplaced(): void {
    let dropped = this.demux.discardPartial();
    this.stats.droppedBytes += dropped;
    this.stats.channelRestarts++;
    this.pauseAnnounced = true;
    while (this.record && dropped > 0 && this.chunks.length > 0) {
      const last = this.chunks[this.chunks.length - 1] as Uint8Array;
      if (last.byteLength <= dropped) {
        dropped -= last.byteLength;
        this.chunks.pop();
      } else {
        this.chunks[this.chunks.length - 1] = last.subarray(0, last.byteLength - dropped);
        dropped = 0;
      }
    }
  }

  private violation(detail: string): void {
    if (this.stats.violations.length < 50) {
      this.stats.violations.push(detail);
    }
  }

  /** Bytes from the stream's data channel. */
  push(data: Uint8Array): void {
    this.stats.bytes += data.byteLength;
    if (this.record) {
      this.chunks.push(new Uint8Array(data)); // a copy (Buffer#slice is a view)
    }
    for (const tag of this.demux.push(data)) {
      this.onTagInternal(tag);
    }
    for (const v of this.demux.violations.splice(0)) {
      this.violation(`at byte ${v.offset}: ${v.detail}`);
    }
  }

  private onTagInternal(tag: FlvTag): void {
    if (tag.kind === 'video' && !tag.config) {
      if (this.stats.firstFrameMs < 0) {
        this.stats.firstFrameMs = this.now() - this.openedAt;
        if (!tag.keyframe) {
          this.violation(`the stream's first video frame (at ${tag.timestamp} ms) is not a keyframe`);
        }
      }
      this.stats.videoFrames++;
      if (tag.keyframe) {
        this.stats.keyframes++;
      }
      if (this.lastVideoTs >= 0) {
        const step = tag.timestamp - this.lastVideoTs;
        if (step < 0) {
          this.violation(`video timestamp went back from ${this.lastVideoTs} to ${tag.timestamp} ms`);
        } else if (this.frameIntervalMs === 0 && step > 0) {
          this.frameIntervalMs = step;
        } else if (this.frameIntervalMs > 0 && step > this.frameIntervalMs * 2.5) {
          if (this.pauseAnnounced) {
            this.stats.pauseGaps++;
            this.stats.resumes++;
            this.pauseAnnounced = false;
            this.resumeAnnounced = false;
          } else {
            this.stats.gaps++;
          }
          if (!tag.keyframe) {
            this.violation(`video resumed after a gap at ${tag.timestamp} ms on a non-keyframe`);
          }
        }
      }
      if (tag.keyframe && this.resumeAnnounced) {
        this.stats.resumes++; // back on the keyframe the pause stopped just before: nothing skipped
        this.pauseAnnounced = false;
        this.resumeAnnounced = false;
      }
      this.lastVideoTs = tag.timestamp;
      if (this.originMs !== undefined && this.stats.keyframes >= STEADY_AFTER_KEYFRAMES) {
        const latency = this.wallNow() + this.clockOffsetMs - (this.originMs + tag.timestamp + tag.cts);
        this.stats.lastLatencyMs = latency;
        this.onLatency?.(latency);
      }
    } else if (tag.kind === 'audio' && !tag.config) {
      this.stats.audioFrames++;
      if (tag.timestamp < this.lastAudioTs) {
        this.violation(`audio timestamp went back from ${this.lastAudioTs} to ${tag.timestamp} ms`);
      }
      this.lastAudioTs = tag.timestamp;
    }
    this.onTag?.(tag);
  }

  /** Everything received, when constructed with record = true. */
  recorded(): Uint8Array {
    const total = this.chunks.reduce((n, c) => n + c.byteLength, 0);
    const out = new Uint8Array(total);
    let pos = 0;
    for (const c of this.chunks) {
      out.set(c, pos);
      pos += c.byteLength;
    }
    return out;
  }
}
