/**
 * send-accounting — what every stream sender counts the same way: sending on a data
 * channel in messages of at most 64 KiB, bytes sent and acknowledged by the app, the
 * 1 s rate windows behind the SDK's inst_net_rate / ave_sent_rate / sum_sent_acked,
 * the app-level RTT, and the backlog that drives the watermarks; and the tick's output
 * the FLV senders (stream-sender.ts, live-sender.ts) fill and send once per 10 ms tick.
 */
import { sendBinary } from '../../shared/protocol/channel-send.js';

/**
 * One tick's output, shared by every sender of the worker: a sender fills and flushes it
 * within its synchronous tick(), so no two ever hold it at once. Grows to the largest
 * tick (a new viewer's first GOP) once per worker instead of a buffer per viewer.
 */
let tickOutput = Buffer.allocUnsafeSlow(256 * 1024);

/** What a sender needs of a data channel (node-datachannel's DataChannel fits). */
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

export class SendAccounting {
  /** Bytes sent and acknowledged on the current channel (acks count per channel, PROTOCOL.md §4). */
  private sent = 0;
  private acked = 0;
  /** Bytes acknowledged on channels this stream used before (ICE restarts). */
  private ackedBefore = 0;
  private rttMs = 0;
  /** 1 s rate windows: [time, bytes] entries and their running sums (stats() is on the 10 ms tick). */
  private readonly sentWindow = { entries: [] as [number, number][], sum: 0 };
  private readonly ackWindow = { entries: [] as [number, number][], sum: 0 };

  /** Bytes of this sender's tick in `tickOutput` (0 between ticks). */
  private pendingBytes = 0;

  constructor(private channel: ByteChannel, private readonly now: () => number = () => performance.now()) {}

  /** The current channel is open (sending makes sense). */
  get open(): boolean {
    return this.channel.isOpen();
  }

  /** Bytes queued in this tick and not yet flushed. */
  get pending(): number {
    return this.pendingBytes;
  }

  /**
   * Copy a tag into the tick's output; returns where it starts. Tags are often views into
   * recycled memory (the muxer's slab, which later tags of the same tick overwrite: a
   * sender that kept `tag.slice()`, a view for Buffers, once corrupted a viewer's first GOP).
   */
  queue(tag: Uint8Array): number {
    const at = this.pendingBytes;
    const need = at + tag.length;
    if (need > tickOutput.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(need, tickOutput.length * 2));
      grown.set(tickOutput.subarray(0, at));
      tickOutput = grown;
    }
    tickOutput.set(tag, at);
    this.pendingBytes = need;
    return at;
  }

  /** Write the FLV timestamp (ms, 24 + 8 bits) of the tag queued at `at`. */
  stamp(at: number, ts: number): void {
    tickOutput[at + 4] = (ts >>> 16) & 0xff;
    tickOutput[at + 5] = (ts >>> 8) & 0xff;
    tickOutput[at + 6] = ts & 0xff;
    tickOutput[at + 7] = (ts >>> 24) & 0xff;
  }

  /** Forget what this tick queued (a frame overwritten while it was muxed). */
  discard(): void {
    this.pendingBytes = 0;
  }

  /** Send what this tick queued (the channel copies what it sends). */
  flush(): void {
    const bytes = this.pendingBytes;
    if (bytes > 0) {
      this.pendingBytes = 0;
      this.send(tickOutput.subarray(0, bytes));
    }
  }

  /**
   * The stream moved to a new data channel (ICE restart): what the old one had not
   * delivered is gone, the app counts the new channel's bytes from 0, and the total
   * acknowledged so far is kept.
   */
  rebind(channel: ByteChannel): void {
    this.channel = channel;
    this.ackedBefore += this.acked;
    this.sent = 0;
    this.acked = 0;
  }

  /** Send bytes (split into messages the channel accepts) and count them; a closing channel takes the rest nowhere (its close ends the stream). */
  send(data: Uint8Array): void {
    for (let pos = 0; pos < data.length; pos += MAX_MESSAGE) {
      if (!sendBinary(this.channel, data.subarray(pos, Math.min(data.length, pos + MAX_MESSAGE)))) {
        break;
      }
    }
    this.sent += data.length;
    this.record(this.sentWindow, data.length);
  }

  /** The app's ack report: cumulative bytes received, and the echo of the last probe. */
  ack(bytes: number, echo: number): void {
    const now = this.now();
    const delta = Math.max(0, Math.min(bytes, this.sent) - this.acked);
    this.acked += delta;
    this.record(this.ackWindow, delta);
    if (echo > 0 && echo <= now) {
      this.rttMs = now - echo;
    }
  }

  /** Bytes not yet acknowledged by the app (at least what the channel still buffers). */
  backlog(): number {
    return Math.max(this.sent - this.acked, this.channel.bufferedAmount());
  }

  private record(w: { entries: [number, number][]; sum: number }, bytes: number): void {
    w.entries.push([this.now(), bytes]);
    w.sum += bytes;
    this.trim(w);
  }

  /** Drop entries older than the window; returns the window's byte sum. */
  private trim(w: { entries: [number, number][]; sum: number }): number {
    const cutoff = this.now() - RATE_WINDOW_MS;
    while (w.entries.length > 0 && (w.entries[0] as [number, number])[0] < cutoff) {
      w.sum -= (w.entries.shift() as [number, number])[1];
    }
    return w.sum;
  }

  stats(extra: { frames: number; laps: number; paused: boolean; queued?: number }): SendStats {
    const perSecond = 1000 / RATE_WINDOW_MS;
    return {
      instNetRate: Math.round(this.trim(this.sentWindow) * perSecond),
      aveSentRate: Math.round(this.trim(this.ackWindow) * perSecond),
      sumSentAcked: this.ackedBefore + this.acked,
      sent: this.sent,
      backlog: this.backlog() + (extra.queued ?? 0),
      bufferedAmount: this.channel.bufferedAmount(),
      frames: extra.frames,
      laps: extra.laps,
      paused: extra.paused,
      rttMs: Math.round(this.rttMs * 10) / 10,
    };
  }
}
