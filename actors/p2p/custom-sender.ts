/**
 * custom-sender — a stream whose bytes come from the user's onSendGet (the SDK's
 * custom payload path) instead of the built-in FLV muxer. Bytes pushed between ticks
 * are sent on the next tick, also while paused; the queue is bounded: the main thread
 * stops polling onSendGet above HIGH until the backlog is below LOW (without watermarks,
 * above 1 MiB until below 512 KiB: p2p-module.ts), and a push that would take the queue
 * past 4 MiB (one chunk alone may be larger) marks the stream `overflowed` — its bytes
 * would have a hole, so the stream is ended (peer-streams.ts), never sent with one. The
 * same statistics and watermark events as StreamSender (send-accounting.ts, watermark.ts).
 */
import { SendAccounting, type ByteChannel, type SendStats } from './send-accounting.js';
import type { WatermarkEvent, WatermarkState } from './watermark.js';

const MAX_QUEUED = 4 * 1024 * 1024;

export class CustomSender {
  private queue: Uint8Array[] = [];
  private queued = 0;
  /** Bytes refused because the queue was full. */
  dropped = 0;
  /** A push was refused: the byte stream has a hole and must end. */
  overflowed = false;
  private readonly account: SendAccounting;

  constructor(
    readonly stream: number,
    private channel: ByteChannel,
    private readonly watermarks: WatermarkState,
    private readonly onWatermark: (level: WatermarkEvent) => void,
  ) {
    this.account = new SendAccounting(channel);
  }

  /** Continue on a new data channel (ICE restart); queued bytes go out on it. */
  rebind(channel: ByteChannel): void {
    this.channel = channel;
    this.account.rebind(channel);
  }

  push(data: Uint8Array): void {
    if (this.overflowed || (this.queued > 0 && this.queued + data.byteLength > MAX_QUEUED)) {
      this.overflowed = true;
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
    this.account.send(all);
  }

  ack(bytes: number, echo: number): void {
    this.account.ack(bytes, echo);
  }

  backlog(): number {
    return this.account.backlog() + this.queued;
  }

  stats(): SendStats {
    return this.account.stats({ frames: 0, laps: 0, paused: this.watermarks.isPaused, queued: this.queued });
  }
}
