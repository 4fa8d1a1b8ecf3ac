/**
 * stream-receiver — the app side of one opened stream (docs/PROTOCOL.md §4–5): counts
 * and checks what arrives (FLV tags parse, timestamps never go back, every GOP starts
 * with a keyframe, no video gaps), and reports acks. Transport-neutral and
 * browser-safe: the owner feeds it bytes and sends the acks it produces.
 * Owns: the stream's counters and, when recording, the received bytes.
 */
import { FlvDemuxer, type FlvTag } from '../actors/media/flv-demuxer.js';

export interface ReceiverStats {
  stream: number;
  bytes: number;
  videoFrames: number;
  audioFrames: number;
  keyframes: number;
  /** ms from open() to the first video frame, -1 before it. */
  firstFrameMs: number;
  /** Video timestamp jumps larger than 2.5 frame intervals. */
  gaps: number;
  violations: string[];
  /** Capture-to-receive latency of the last video frame (needs the device clock offset), ms. */
  lastLatencyMs: number;
}

export class StreamReceiver {
  private readonly demux = new FlvDemuxer();
  private readonly chunks: Uint8Array[] = [];
  private lastVideoTs = -1;
  private frameIntervalMs = 0;
  private readonly openedAt: number;
  readonly stats: ReceiverStats;
  /** Called for every complete tag (after the checks). */
  onTag: ((tag: FlvTag) => void) | undefined;

  constructor(readonly stream: number, private readonly record = false, private readonly now: () => number = () => performance.now(), openedAt?: number) {
    this.openedAt = openedAt ?? this.now();
    this.stats = { stream, bytes: 0, videoFrames: 0, audioFrames: 0, keyframes: 0, firstFrameMs: -1, gaps: 0, violations: [], lastLatencyMs: 0 };
  }

  /** Bytes from the stream's data channel. */
  push(data: Uint8Array): void {
    this.stats.bytes += data.byteLength;
    if (this.record) {
      this.chunks.push(data.slice());
    }
    for (const tag of this.demux.push(data)) {
      this.onTagInternal(tag);
    }
    for (const v of this.demux.violations.splice(0)) {
      if (this.stats.violations.length < 50) {
        this.stats.violations.push(`at byte ${v.offset}: ${v.detail}`);
      }
    }
  }

  private onTagInternal(tag: FlvTag): void {
    if (tag.kind === 'video' && !tag.config) {
      if (this.stats.firstFrameMs < 0) {
        this.stats.firstFrameMs = this.now() - this.openedAt;
      }
      this.stats.videoFrames++;
      if (tag.keyframe) {
        this.stats.keyframes++;
      }
      if (this.lastVideoTs >= 0) {
        const step = tag.timestamp - this.lastVideoTs;
        if (this.frameIntervalMs === 0 && step > 0) {
          this.frameIntervalMs = step;
        } else if (this.frameIntervalMs > 0 && step > this.frameIntervalMs * 2.5) {
          this.stats.gaps++;
          if (!tag.keyframe) {
            this.stats.violations.push(`video resumed after a gap at ${tag.timestamp} ms on a non-keyframe`);
          }
        }
      }
      this.lastVideoTs = tag.timestamp;
    } else if (tag.kind === 'audio' && !tag.config) {
      this.stats.audioFrames++;
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
