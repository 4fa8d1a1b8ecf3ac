/**
 * browser-streams — the streams a browser app has open (docs/PROTOCOL.md §4–5, §3.1):
 * each `s<n>` RTCDataChannel bound to its StreamReceiver (a channel that opens before
 * its `open` answer waits here), acks every 200 ms counted per channel, the stream events
 * the receivers need (time origin, announced pauses, the device ending a stream), and the
 * rebinding after the device's ICE restart moves a stream to a new channel. A player's
 * feed gets whole FLV tags only (FlvAligner), so the tag a restart cut never reaches it.
 * Owns: the receivers, their ack timers, the channels waiting for their stream. Must
 * never: take bytes from a replaced channel, or leave a timer running after close().
 */
import { IvError } from '../../runtime/errors.js';
import { encodeControl, type DeviceToApp } from '../../shared/protocol/control.js';
import { streamOfLabel } from '../../shared/protocol/transport-rules.js';
import { messageBytes, type ControlLink } from '../control-channel.js';
import { FlvAligner } from '../flv-aligner.js';
import { StreamReceiver } from '../stream-receiver.js';

/** What the streams need of their client. */
export interface BrowserStreamHost {
  /** The control channel when it is open (acks are never queued). */
  openControl(): ControlLink | undefined;
  /** The last RTT probe time the device sent (echoed in acks). */
  lastProbe(): number;
  /** Device clock − local clock, ms. */
  clockOffsetMs(): number;
}

interface Entry {
  receiver: StreamReceiver;
  dc: RTCDataChannel | undefined;
  timer: ReturnType<typeof setInterval>;
  acking: boolean;
  /** Bytes received on the channels before the current one (acks count per channel). */
  ackBase: number;
  aligner: FlvAligner;
  onBytes: ((bytes: Uint8Array) => void) | undefined;
  /** The device ended the stream: its reason. */
  onEnded: ((reason: string) => void) | undefined;
}

export class BrowserStreams {
  private readonly entries = new Map<number, Entry>();
  private readonly waiting = new Map<string, (dc: RTCDataChannel) => void>();
  private readonly early = new Map<string, RTCDataChannel>();
  private readonly pendingOrigins = new Map<number, number>();

  constructor(private readonly host: BrowserStreamHost) {}

  /** A channel the device opened that is not `control`: a stream's, new or after a restart. */
  onChannel(dc: RTCDataChannel): void {
    dc.binaryType = 'arraybuffer';
    const n = streamOfLabel(dc.label);
    const entry = n === undefined ? undefined : this.entries.get(n);
    if (entry && entry.dc === undefined) {
      this.bind(entry, dc);
      return;
    }
    const waiter = this.waiting.get(dc.label);
    if (waiter) {
      this.waiting.delete(dc.label);
      waiter(dc);
    } else {
      this.early.set(dc.label, dc);
    }
  }

  /**
   * The device answered `open` with `stream` on `label`: receive it. `onBytes` gets the
   * stream as whole FLV units (a player's feed); `onEnded` the device's reason when it
   * ends the stream (`stream_closed`).
   */
  async attach(stream: number, label: string, openedAt: number, timeoutMs: number, onBytes?: (bytes: Uint8Array) => void, onEnded?: (reason: string) => void): Promise<StreamReceiver> {
    const dc = this.early.get(label) ?? await new Promise<RTCDataChannel>((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiting.delete(label);
        reject(new IvError('IV_ERR_TIMEOUT', `stream channel ${label} did not open`));
      }, timeoutMs);
      this.waiting.set(label, (d) => {
        clearTimeout(t);
        resolve(d);
      });
    });
    this.early.delete(label);
    const receiver = new StreamReceiver(stream, false, () => performance.now(), openedAt);
    const entry: Entry = {
      receiver, dc: undefined, acking: true, ackBase: 0, aligner: new FlvAligner(), onBytes, onEnded,
      timer: setInterval(() => {
        const control = this.host.openControl();
        if (control && entry.acking && entry.dc?.readyState === 'open') {
          control.sendMessageBinary(encodeControl({ op: 'ack', stream, bytes: receiver.stats.bytes - entry.ackBase, echo: this.host.lastProbe() }));
        }
      }, 200),
    };
    this.bind(entry, dc);
    this.entries.set(stream, entry);
    const origin = this.pendingOrigins.get(stream);
    if (origin !== undefined) {
      this.pendingOrigins.delete(stream);
      receiver.setOrigin(origin, this.host.clockOffsetMs());
    }
    return receiver;
  }

  /** Stop (or resume) acking a stream: its backlog on the device grows until the watermarks pause it. */
  setAcking(stream: number, on: boolean): void {
    const e = this.entries.get(stream);
    if (e) {
      e.acking = on;
    }
  }

  /** The stream is finished here (closed by the app or by the device). */
  remove(stream: number): void {
    const e = this.entries.get(stream);
    if (e) {
      clearInterval(e.timer);
      this.entries.delete(stream);
    }
  }

  /** Stream events: the time origin (latency), announced pauses (gaps), the device's end of a stream. */
  onEvent(msg: Extract<DeviceToApp, { op: 'event' }>): void {
    const e = this.entries.get(msg.stream);
    if (msg.event === 'stream_time') {
      if (e) {
        e.receiver.setOrigin(msg.originMs, this.host.clockOffsetMs());
      } else {
        this.pendingOrigins.set(msg.stream, msg.originMs);
      }
    } else if (msg.event === 'watermark' && msg.level === 'high') {
      e?.receiver.expectPause();
    } else if (msg.event === 'stream_closed') {
      this.remove(msg.stream); // its number may be given to the next stream
      e?.onEnded?.(msg.reason);
    }
  }

  /** The device's restart offer: every stream's channel is finished; its unfinished tag is dropped. */
  channelsReplaced(): void {
    for (const e of this.entries.values()) {
      if (e.dc) {
        e.dc = undefined;
        e.ackBase = e.receiver.stats.bytes;
        e.receiver.channelReplaced();
        e.aligner.discardPartial();
      }
    }
    this.early.clear();
  }

  close(): void {
    for (const e of this.entries.values()) {
      clearInterval(e.timer);
    }
    this.entries.clear();
    this.waiting.clear();
    this.early.clear();
  }

  private bind(entry: Entry, dc: RTCDataChannel): void {
    entry.dc = dc;
    dc.binaryType = 'arraybuffer';
    dc.addEventListener('message', (ev: MessageEvent<string | ArrayBuffer>) => {
      if (entry.dc !== dc) {
        return;
      }
      const bytes = messageBytes(ev.data);
      entry.receiver.push(bytes);
      if (entry.onBytes) {
        const whole = entry.aligner.push(bytes);
        if (whole) {
          entry.onBytes(whole);
        }
      }
    });
  }
}
