/**
 * app-streams — the streams an app client has open: each `s<n>` channel bound to its
 * StreamReceiver (a channel that opens before its `open` answer waits here), acks every
 * 200 ms on the control channel (counted per channel, PROTOCOL.md §4), the stream
 * events the receivers need (time origin, announced pauses), and the rebinding after the
 * device's ICE restart moves a stream to a new channel.
 * Owns: the receivers, their ack timers, channels waiting for their stream. Must never:
 * take bytes from a replaced channel, or leave an ack timer running after close().
 */
import type { DataChannel } from 'node-datachannel';
import { IvError } from '../runtime/errors.js';
import { encodeControl, type DeviceToApp } from '../shared/protocol/control.js';
import { streamOfLabel } from '../shared/protocol/transport-rules.js';
import { StreamReceiver } from './stream-receiver.js';
import type { ControlLink } from './control-channel.js';

type StreamEntry = { receiver: StreamReceiver; dc: DataChannel | undefined; ackTimer: NodeJS.Timeout; ackBase: number };

/** What the streams need of their client. */
export interface StreamHost {
  /** The control channel when it is open (acks are never queued). */
  openControl(): ControlLink | undefined;
  /** The last RTT probe time the device sent (echoed in acks). */
  lastProbe(): number;
  /** Device clock − local clock, ms. */
  clockOffsetMs(): number;
}

export class AppStreams {
  private readonly receivers = new Map<number, StreamEntry>();
  private readonly streamWaiters = new Map<string, (dc: DataChannel) => void>();
  private readonly orphanChannels = new Map<string, DataChannel>();
  private readonly pendingOrigins = new Map<number, number>();
  private readonly ackEnabled = new Map<number, boolean>();

  constructor(private readonly host: StreamHost) {}

  /** A channel the device opened that is not `control`: a stream's (new or after a restart). */
  onChannel(label: string, dc: DataChannel): void {
    const n = streamOfLabel(label);
    const entry = n === undefined ? undefined : this.receivers.get(n);
    if (entry && entry.dc === undefined) {
      this.bind(entry, dc); // the stream's channel after a restart
      return;
    }
    const waiter = this.streamWaiters.get(label);
    if (waiter) {
      this.streamWaiters.delete(label);
      waiter(dc);
    } else {
      this.orphanChannels.set(label, dc);
    }
  }

  /** The device answered `open` with stream `stream` on channel `label`: receive it. */
  async attach(stream: number, label: string, opts: { record?: boolean; ack?: boolean; timeoutMs?: number }, openedAt: number): Promise<StreamReceiver> {
    const dc = this.orphanChannels.get(label) ?? await new Promise<DataChannel>((resolve, reject) => {
      const timer = setTimeout(() => reject(new IvError('IV_ERR_TIMEOUT', `stream channel ${label} did not open`)), opts.timeoutMs ?? 5_000);
      this.streamWaiters.set(label, (d) => {
        clearTimeout(timer);
        resolve(d);
      });
    });
    this.orphanChannels.delete(label);
    const receiver = new StreamReceiver(stream, opts.record === true, () => performance.now(), openedAt);
    const entry: StreamEntry = { receiver, dc: undefined, ackBase: 0, ackTimer: setInterval(() => {
      const control = this.host.openControl();
      if (this.ackEnabled.get(stream) !== false && entry.dc?.isOpen() && control) {
        control.sendMessageBinary(encodeControl({ op: 'ack', stream, bytes: receiver.stats.bytes - entry.ackBase, echo: this.host.lastProbe() }));
      }
    }, 200) };
    this.bind(entry, dc);
    this.ackEnabled.set(stream, opts.ack !== false);
    this.receivers.set(stream, entry);
    const origin = this.pendingOrigins.get(stream);
    if (origin !== undefined) {
      this.pendingOrigins.delete(stream);
      receiver.setOrigin(origin, this.host.clockOffsetMs());
    }
    return receiver;
  }

  setAcking(stream: number, on: boolean): void {
    this.ackEnabled.set(stream, on);
  }

  /** The app closed the stream. */
  remove(stream: number): void {
    const r = this.receivers.get(stream);
    if (r) {
      clearInterval(r.ackTimer);
      this.receivers.delete(stream);
    }
  }

  /** Stream events the receivers need: the time origin (latency) and announced pauses (gaps). */
  onEvent(msg: Extract<DeviceToApp, { op: 'event' }>): void {
    const receiver = this.receivers.get(msg.stream)?.receiver;
    if (msg.event === 'stream_time' && typeof msg.originMs === 'number') {
      if (receiver) {
        receiver.setOrigin(msg.originMs, this.host.clockOffsetMs());
      } else {
        this.pendingOrigins.set(msg.stream, msg.originMs);
      }
    } else if (msg.event === 'watermark' && msg.level === 'high') {
      receiver?.expectPause();
    } else if (msg.event === 'stream_closed') {
      this.remove(msg.stream); // the device ended it: its number may be given to the next stream
    }
  }

  /** The device's restart offer: every stream's channel is finished (its receiver drops an unfinished tag). */
  channelsReplaced(): void {
    for (const entry of this.receivers.values()) {
      if (entry.dc) {
        entry.dc = undefined;
        entry.ackBase = entry.receiver.stats.bytes; // acks count per channel (PROTOCOL.md §4)
        entry.receiver.channelReplaced();
      }
    }
  }

  close(): void {
    for (const [, r] of this.receivers) {
      clearInterval(r.ackTimer);
    }
    this.receivers.clear();
  }

  private bind(entry: StreamEntry, dc: DataChannel): void {
    entry.dc = dc;
    dc.onMessage((m) => {
      if (entry.dc === dc) {
        entry.receiver.push(typeof m === 'string' ? Buffer.from(m) : (m as Buffer));
      }
    });
  }
}
