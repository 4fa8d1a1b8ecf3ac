/**
 * stream-set — the streams an app has open (docs/PROTOCOL.md §4–5, §3.1), transport-neutral
 * and browser-safe, shared by the Node `AppClient` (node-datachannel channels) and the
 * browser client (RTCDataChannels, as `StreamLink`s): each `s<n>` channel bound to its
 * StreamReceiver (a channel that opens before its `open` answer waits here), acks every
 * 200 ms counted per channel, the stream events the receivers need (time origin,
 * announced pauses, the device ending a stream), and the rebinding after the device's ICE
 * restart moves a stream to a new channel. A player's feed (`onBytes`) gets whole FLV tags
 * only (FlvAligner), so the tag a restart cut never reaches it.
 * Owns: the receivers, their ack timers, the channels waiting for their stream. Must
 * never: take bytes from a replaced channel, or leave a timer running after close().
 */
import { IvError } from '../runtime/errors.js';
import { encodeControl, type DeviceToApp } from '../shared/protocol/control.js';
import { streamOfLabel } from '../shared/protocol/transport-rules.js';
import { messageBytes, type ControlLink } from './control-channel.js';
import { FlvAligner } from './flv-aligner.js';
import { StreamReceiver } from './stream-receiver.js';
import { sendBinary } from '../shared/protocol/channel-send.js';

/** A stream's data channel as the set needs it (node-datachannel's DataChannel has this shape). */
export interface StreamLink {
  isOpen(): boolean;
  onMessage(cb: (msg: string | Uint8Array | ArrayBuffer) => void): void;
}

/** What the streams need of their client. */
export interface StreamHost {
  /** The control channel when it is open (acks are never queued). */
  openControl(): ControlLink | undefined;
  /** The last RTT probe time the device sent (echoed in acks). */
  lastProbe(): number;
  /** Device clock − local clock, ms. */
  clockOffsetMs(): number;
}

export interface AttachOptions {
  /** Keep every byte received (StreamReceiver.recorded()). */
  record?: boolean;
  /** false: do not ack (a stalled app); default true. */
  ack?: boolean;
  timeoutMs?: number;
  /** The stream as whole FLV units, for a player. */
  onBytes?: (bytes: Uint8Array) => void;
  /** The device ended the stream (`stream_closed`): its reason. */
  onEnded?: (reason: string) => void;
}

interface Entry<L> {
  receiver: StreamReceiver;
  link: L | undefined;
  timer: ReturnType<typeof setInterval>;
  acking: boolean;
  /** Bytes received on the channels before the current one (acks count per channel). */
  ackBase: number;
  aligner: FlvAligner | undefined;
  opts: AttachOptions;
}

export class StreamSet<L extends StreamLink> {
  private readonly entries = new Map<number, Entry<L>>();
  private readonly waiting = new Map<string, (link: L) => void>();
  private readonly early = new Map<string, L>();
  private readonly pendingOrigins = new Map<number, number>();

  constructor(private readonly host: StreamHost) {}

  /** A channel the device opened that is not `control`: a stream's, new or after a restart. */
  onChannel(label: string, link: L): void {
    const n = streamOfLabel(label);
    const entry = n === undefined ? undefined : this.entries.get(n);
    if (entry && entry.link === undefined) {
      this.bind(entry, link);
      return;
    }
    const waiter = this.waiting.get(label);
    if (waiter) {
      this.waiting.delete(label);
      waiter(link);
    } else {
      this.early.set(label, link);
    }
  }

  /** The device answered `open` with `stream` on channel `label`: receive it. */
  async attach(stream: number, label: string, opts: AttachOptions, openedAt: number): Promise<StreamReceiver> {
    const link = this.early.get(label) ?? await new Promise<L>((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiting.delete(label);
        reject(new IvError('IV_ERR_TIMEOUT', `stream channel ${label} did not open`));
      }, opts.timeoutMs ?? 5_000);
      this.waiting.set(label, (l) => {
        clearTimeout(t);
        resolve(l);
      });
    });
    this.early.delete(label);
    const receiver = new StreamReceiver(stream, opts.record === true, () => performance.now(), openedAt);
    const entry: Entry<L> = {
      receiver, link: undefined, acking: opts.ack !== false, ackBase: 0, aligner: opts.onBytes ? new FlvAligner() : undefined, opts,
      timer: setInterval(() => {
        const control = this.host.openControl();
        if (control && entry.acking && entry.link?.isOpen()) {
          sendBinary(control, encodeControl({ op: 'ack', stream, bytes: receiver.stats.bytes - entry.ackBase, echo: this.host.lastProbe() }));
        }
      }, 200),
    };
    this.bind(entry, link);
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

  /** Stream events: the time origin (latency), announced pauses and resumes (gaps), the device's end of a stream. */
  onEvent(msg: Extract<DeviceToApp, { op: 'event' }>): void {
    const e = this.entries.get(msg.stream);
    if (msg.event === 'stream_time' && typeof msg.originMs === 'number') {
      if (e) {
        e.receiver.setOrigin(msg.originMs, this.host.clockOffsetMs());
      } else {
        this.pendingOrigins.set(msg.stream, msg.originMs);
      }
    } else if (msg.event === 'watermark' && msg.level === 'high') {
      e?.receiver.expectPause();
    } else if (msg.event === 'watermark' && msg.level === 'low') {
      e?.receiver.expectResume();
    } else if (msg.event === 'stream_closed') {
      this.remove(msg.stream); // its number may be given to the next stream
      e?.opts.onEnded?.(msg.reason);
    }
  }

  /** The device's restart offer: every stream's channel is finished; its unfinished tag is dropped. */
  channelsReplaced(): void {
    for (const e of this.entries.values()) {
      if (e.link) {
        e.link = undefined;
        e.ackBase = e.receiver.stats.bytes; // acks count per channel (PROTOCOL.md §4)
        e.receiver.channelReplaced();
        e.aligner?.discardPartial();
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

  private bind(entry: Entry<L>, link: L): void {
    entry.link = link;
    link.onMessage((m) => {
      if (entry.link !== link) {
        return;
      }
      const bytes = messageBytes(m);
      entry.receiver.push(bytes);
      const whole = entry.aligner?.push(bytes);
      if (whole) {
        entry.opts.onBytes?.(whole);
      }
    });
  }
}
