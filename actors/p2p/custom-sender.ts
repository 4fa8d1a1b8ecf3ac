/**
 * custom-sender — a stream whose bytes come from the user's onSendGet (the SDK's
 * custom payload path) instead of the built-in FLV muxer. Bytes pushed between ticks
 * are sent on the next tick; the queue is bounded (the main thread stops polling
 * onSendGet at the HIGH watermark, and anything past 4 MiB is refused).
 * Same statistics and watermark rules as StreamSender.
 */
import type { ByteChannel, SendStats } from './stream-sender.js';
import type { WatermarkEvent, WatermarkState } from './watermark.js';

const MAX_QUEUED = 4 * 1024 * 1024;
const MAX_MESSAGE = 64 * 1024;
const RATE_WINDOW_MS = 1_000;

export class CustomSender {
  private queue: Uint8Array[] = [];
  private queued = 0;
  private sent = 0;
  private acked = 0;
  private dropped = 0;
  private rttMs = 0;
  private readonly sentHistory: [number, number][] = [];
  private readonly ackHistory: [number, number][] = [];

  constructor(
    readonly stream: number,
    private readonly channel: ByteChannel,
    private readonly watermarks: WatermarkState,
    private readonly onWatermark: (level: WatermarkEvent) => void,
  ) {}

  push(data: Uint8Array): void {
    if (this.queued + data.byteLength > MAX_QUEUED) {
      this.dropped += data.byteLength;
      return;
    }
    this.queue.push(data);
    this.queued += data.byteLength;
  }

  tick(): void {
    if (!this.channel.isOpen()) {
      return;
    }
    for (const level of this.watermarks.update(this.backlog())) {
      this.onWatermark(level);
    }
    if (this.queued === 0) {
      return;
    }
    const all = this.queue.length === 1 ? (this.queue[0] as Uint8Array) : Buffer.concat(this.queue);
    this.queue = [];
    this.queued = 0;
    for (let pos = 0; pos < all.length; pos += MAX_MESSAGE) {
      this.channel.sendMessageBinary(all.subarray(pos, Math.min(all.length, pos + MAX_MESSAGE)));
    }
    this.sent += all.length;
    this.sentHistory.push([performance.now(), all.length]);
  }

  ack(bytes: number, echo: number): void {
    const now = performance.now();
    const delta = Math.max(0, Math.min(bytes, this.sent) - this.acked);
    this.acked += delta;
    this.ackHistory.push([now, delta]);
    if (echo > 0 && echo <= now) {
      this.rttMs = now - echo;
    }
  }

  backlog(): number {
    return Math.max(this.sent - this.acked, this.channel.bufferedAmount()) + this.queued;
  }

  stats(): SendStats {
    const cutoff = performance.now() - RATE_WINDOW_MS;
    for (const h of [this.sentHistory, this.ackHistory]) {
      while (h.length > 0 && (h[0] as [number, number])[0] < cutoff) {
        h.shift();
      }
    }
    const rate = (h: [number, number][]): number => Math.round(h.reduce((n, [, b]) => n + b, 0) * (1000 / RATE_WINDOW_MS));
    return {
      instNetRate: rate(this.sentHistory),
      aveSentRate: rate(this.ackHistory),
      sumSentAcked: this.acked,
      sent: this.sent,
      backlog: this.backlog(),
      bufferedAmount: this.channel.bufferedAmount(),
      frames: 0,
      laps: 0,
      paused: this.watermarks.isPaused,
      rttMs: Math.round(this.rttMs * 10) / 10,
    };
  }
}
