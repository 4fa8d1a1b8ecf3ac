/**
 * control-channel — the app's end of the `control` data channel (docs/PROTOCOL.md §4):
 * the current channel (a restart brings a new one), a bounded queue for what is sent
 * while none is open, requests and their answers (runtime/pending-table.ts), the RTT
 * probes to echo, and everything else the device says handed to the owner.
 * Transport-neutral and browser-safe: the channel is a `ControlLink`, which
 * node-datachannel's DataChannel is as it stands and the browser client makes of an
 * RTCDataChannel.
 * The requests every app makes (command, channels, ping, the clock offset) are here too,
 * so the Node and browser clients share them.
 * Owns: the queue and the pending requests. Must never: take messages from a replaced
 * channel, or leave a request pending after closeAll() (later requests reject IV_ERR_CLOSED).
 */
import { systemClock } from '../runtime/clock.js';
import { IvError, isIvError, isIvErrorCode } from '../runtime/errors.js';
import { PendingTable } from '../runtime/pending-table.js';
import { decodeFromDevice, encodeControl, type AppToDevice, type ChannelInfo, type DeviceToApp } from '../shared/protocol/control.js';
import { sendBinary } from '../shared/protocol/channel-send.js';

/** Omit that keeps a union a union. */
export type RequestBody = Extract<AppToDevice, { id: number }> extends infer T ? (T extends unknown ? Omit<T, 'id'> : never) : never;

const QUEUE_LIMIT = 256;

/** A reliable, ordered message channel (node-datachannel's DataChannel has this shape). */
export interface ControlLink {
  isOpen(): boolean;
  sendMessageBinary(bytes: Uint8Array): unknown;
  onMessage(cb: (msg: string | Uint8Array | ArrayBuffer) => void): void;
  onOpen(cb: () => void): void;
  onClosed(cb: () => void): void;
}

/** A channel message as bytes (a text message as its UTF-8). */
export function messageBytes(m: string | Uint8Array | ArrayBuffer): Uint8Array {
  return typeof m === 'string' ? new TextEncoder().encode(m) : m instanceof Uint8Array ? m : new Uint8Array(m);
}

export interface ControlHooks {
  /** The current channel opened (what was queued has gone out). */
  opened(): void;
  /** The current channel closed. */
  closed(): void;
  /** A message that answers no request (events); probes stay here. */
  message(msg: DeviceToApp): void;
}

export class ControlChannel {
  private dc: ControlLink | undefined;
  private readonly queue: Uint8Array[] = [];
  private readonly pending = new PendingTable(systemClock);
  /** The time of the device's last RTT probe, echoed in acks. */
  lastProbe = 0;
  /** Device clock − local clock, ms (syncClock()). */
  clockOffsetMs = 0;
  private closed = false;

  constructor(private readonly device: string, private readonly hooks: ControlHooks) {}

  /** The current channel when it is open. */
  get open(): ControlLink | undefined {
    return this.dc?.isOpen() ? this.dc : undefined;
  }

  /** Take `dc` as the control channel (the app's own, or the device's after a restart). */
  bind(dc: ControlLink): void {
    this.dc = dc;
    dc.onMessage((m) => {
      if (this.dc === dc) {
        this.onMessage(messageBytes(m));
      }
    });
    dc.onClosed(() => {
      if (this.dc === dc) {
        this.hooks.closed();
      }
    });
    const opened = (): void => {
      if (this.dc !== dc) {
        return;
      }
      for (const m of this.queue.splice(0)) {
        sendBinary(dc, m);
      }
      this.hooks.opened();
    };
    if (dc.isOpen()) {
      opened();
    } else {
      dc.onOpen(opened);
    }
  }

  /** The channel is finished (a restart replaces it): sends queue until the next one opens. */
  drop(): void {
    this.dc = undefined;
  }

  /** Send now, or queue (bounded) while no channel is open. */
  send(bytes: Uint8Array): void {
    if (this.dc?.isOpen()) {
      sendBinary(this.dc, bytes);
    } else if (this.queue.length < QUEUE_LIMIT) {
      this.queue.push(bytes);
    }
  }

  /** Send a request and wait for its answer: `error` rejects with its code, no answer in time with IV_ERR_TIMEOUT. */
  request(msg: RequestBody, timeoutMs = 5_000): Promise<DeviceToApp> {
    if (this.closed) {
      return Promise.reject(new IvError('IV_ERR_CLOSED', 'the client is closed'));
    }
    let entry: ReturnType<PendingTable['add']>;
    try {
      entry = this.pending.add(msg.op, this.device, timeoutMs);
    } catch (err) {
      return Promise.reject(err);
    }
    const id = entry.id;
    this.send(encodeControl({ ...msg, id }));
    return entry.promise.then(
      (answer) => {
        const a = answer as DeviceToApp;
        if (a.op === 'error') {
          throw new IvError(isIvErrorCode(a.code) ? a.code : 'IV_ERR_INTERNAL', a.message);
        }
        return a;
      },
      (err: unknown) => {
        // the table's own rejections: its deadline (IV_ERR_TIMEOUT for an app) or closeAll()
        throw isIvError(err, 'IV_ERR_REQUEST_TIMEOUT') ? new IvError('IV_ERR_TIMEOUT', `${msg.op} #${id}: no answer within ${timeoutMs} ms`) : err;
      },
    );
  }

  /** Send a command (`command`, the `command` right); resolves with the device's reply (empty: the device closed the channel). */
  async command(data: Uint8Array | string, timeoutMs = 5_000): Promise<Uint8Array> {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    const r = await this.request({ op: 'command', data: bytes }, timeoutMs) as Extract<DeviceToApp, { op: 'reply' }>;
    return r.data;
  }

  /** The device's channels: codecs, picture size and rate, and (with the playback right) the recorded ranges. */
  async channels(timeoutMs = 5_000): Promise<ChannelInfo[]> {
    const r = await this.request({ op: 'channels' }, timeoutMs) as Extract<DeviceToApp, { op: 'channels' }>;
    return r.channels;
  }

  /** Round trip on the control channel; `offsetMs` ≈ device clock − local clock. */
  async ping(): Promise<{ rttMs: number; offsetMs: number }> {
    const t = Date.now();
    const pong = await this.request({ op: 'ping', t }) as Extract<DeviceToApp, { op: 'pong' }>;
    const now = Date.now();
    return { rttMs: now - t, offsetMs: pong.deviceTime - (t + now) / 2 };
  }

  /** The device's clock offset (kept in `clockOffsetMs`) from the ping with the smallest round trip of `samples`. */
  async syncClock(samples = 3): Promise<{ rttMs: number; offsetMs: number }> {
    let best = await this.ping();
    for (let i = 1; i < samples; i++) {
      const p = await this.ping();
      if (p.rttMs < best.rttMs) {
        best = p;
      }
    }
    this.clockOffsetMs = best.offsetMs;
    return best;
  }

  /** Reject every pending request, and every later one (the client closed). */
  closeAll(): void {
    this.closed = true;
    this.pending.closeAll('IV_ERR_CLOSED', 'the client closed');
  }

  private onMessage(bytes: Uint8Array): void {
    const msg = decodeFromDevice(bytes);
    if (!msg) {
      return;
    }
    if (msg.op === 'probe') {
      this.lastProbe = msg.t;
      return;
    }
    if ('id' in msg && typeof msg.id === 'number' && (msg.op === 'ok' || msg.op === 'error' || msg.op === 'reply' || msg.op === 'pong' || msg.op === 'channels')) {
      this.pending.settle(msg.id, undefined, msg); // an `error` answer is thrown by request()
      return;
    }
    this.hooks.message(msg);
  }
}
