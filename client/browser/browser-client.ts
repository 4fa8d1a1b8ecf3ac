/**
 * browser-client — an app in a web browser (docs/PROTOCOL.md, "Browsers"): the browser's
 * own RTCPeerConnection and mqtt.js's browser build over WebSocket, on the same
 * transport-neutral core as the Node `AppClient`: the signaling client and router
 * (request ids, certificate pin), the control channel, StreamReceiver, the candidate
 * gate, the token's claims for refusal reasons. Nothing Node-only: bundled by esbuild
 * for the page (client/browser/build-web.ts).
 * Connect: the offer is sent with `a=setup:active` (the device answers passive), the
 * browser's candidates (mDNS `.local` host names) are sent after it, the device's
 * candidates added after its answer.
 * Owns: the peer connection, its channels, the streams' ack timers. Must never: leave a
 * request pending or a timer running after close().
 * Requests: open (streams), command, channels, ping (clock sync).
 * Not yet: the device's ICE restart (its offer ends the connection), voice.
 */
import { IvError } from '../../runtime/errors.js';
import { CandidateGate } from '../../shared/protocol/candidate-gate.js';
import { encodeControl, type ChannelInfo, type DeviceToApp } from '../../shared/protocol/control.js';
import { CONTROL_LABEL, offerAsDtlsClient } from '../../shared/protocol/transport-rules.js';
import { ControlChannel, messageBytes, type ControlLink, type RequestBody } from '../control-channel.js';
import { SignalRouter } from '../signal-router.js';
import { SignalingClient } from '../signaling-client.js';
import { StreamReceiver } from '../stream-receiver.js';

export interface BrowserClientOptions {
  /** The broker's MQTT-over-WebSocket URL (`ws://host:port`, `wss://…`). */
  url: string;
  deviceId: string;
  peerId: string;
  token: string;
  /** The device's certificate fingerprint (`sha-256 AB:…`): answers naming another are ignored. */
  fingerprint?: string;
  iceServers?: RTCIceServer[];
  /** ms (default 10 000). */
  timeoutMs?: number;
}

/** An RTCDataChannel as the control channel's link. */
export function rtcLink(dc: RTCDataChannel): ControlLink {
  dc.binaryType = 'arraybuffer';
  return {
    isOpen: () => dc.readyState === 'open',
    sendMessageBinary: (bytes) => dc.send(bytes as Uint8Array<ArrayBuffer>),
    onMessage: (cb) => dc.addEventListener('message', (e: MessageEvent<string | ArrayBuffer>) => cb(e.data)),
    onOpen: (cb) => dc.addEventListener('open', () => cb()),
    onClosed: (cb) => dc.addEventListener('close', () => cb()),
  };
}

type Stream = { receiver: StreamReceiver; timer: ReturnType<typeof setInterval>; acking: boolean };

export class BrowserClient {
  /** ms from connect() to the control channel opening. */
  connectMs = 0;
  /** Device clock − local clock, ms (syncClock()). */
  clockOffsetMs = 0;
  /** Called once when the connection ends without close(). */
  onClosed: ((reason: string) => void) | undefined;
  /** Every device event (stream_closed, watermark, stream_time). */
  onEvent: ((msg: DeviceToApp) => void) | undefined;
  readonly pc: RTCPeerConnection;
  private readonly router: SignalRouter;
  private readonly control: ControlChannel;
  private signaling: SignalingClient | undefined;
  private readonly gate: CandidateGate;
  private readonly streams = new Map<number, Stream>();
  private readonly dataChannels = new Map<string, RTCDataChannel>();
  private readonly channelWaiters = new Map<string, (dc: RTCDataChannel) => void>();
  private readonly pendingOrigins = new Map<number, number>();
  private wasUp = false;
  private closed = false;
  private failConnect: ((err: Error) => void) | undefined;
  private onControlOpen: (() => void) | undefined;

  private constructor(private readonly opts: BrowserClientOptions) {
    this.router = new SignalRouter(opts.fingerprint);
    this.pc = new RTCPeerConnection({ iceServers: opts.iceServers ?? [] });
    const pc = this.pc;
    this.gate = new CandidateGate({
      remoteDescription: () => pc.remoteDescription,
      addRemoteCandidate: (candidate, mid) => void pc.addIceCandidate({ candidate, sdpMid: mid }).catch(() => undefined),
    }, (c) => this.signaling?.publish({ type: 'candidate', peer: opts.peerId, ...c }));
    this.control = new ControlChannel(opts.deviceId, {
      opened: () => {
        this.wasUp = true;
        this.onControlOpen?.();
        this.onControlOpen = undefined;
      },
      closed: () => this.lost('the control channel closed'),
      message: (msg) => this.onDeviceMessage(msg),
    });
    pc.addEventListener('icecandidate', (e) => {
      if (e.candidate?.candidate) {
        this.gate.local({ candidate: e.candidate.candidate, mid: e.candidate.sdpMid ?? '0' });
      }
    });
    pc.addEventListener('datachannel', (e) => this.onChannel(e.channel));
    pc.addEventListener('connectionstatechange', () => {
      if (pc.connectionState === 'failed' || pc.connectionState === 'closed') {
        this.lost(`peer connection ${pc.connectionState}`);
      }
    });
  }

  static async connect(opts: BrowserClientOptions): Promise<BrowserClient> {
    const t0 = performance.now();
    const c = new BrowserClient(opts);
    try {
      await c.start();
    } catch (err) {
      c.close();
      throw err;
    }
    c.connectMs = performance.now() - t0;
    return c;
  }

  private async start(): Promise<void> {
    const timeoutMs = this.opts.timeoutMs ?? 10_000;
    const failed = new Promise<never>((_, reject) => (this.failConnect = reject));
    failed.catch(() => undefined);
    const opened = new Promise<void>((resolve) => (this.onControlOpen = resolve));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(this.router.timeoutError(this.opts.deviceId, timeoutMs)), timeoutMs);
    });
    deadline.catch(() => undefined);
    try {
      this.signaling = await Promise.race([SignalingClient.connect({ url: this.opts.url, deviceId: this.opts.deviceId, peerId: this.opts.peerId, token: this.opts.token, timeoutMs }), deadline]);
      const requestId = this.router.newOffer();
      this.signaling.onMessage((msg) => {
        const a = this.router.route(msg, requestId);
        switch (a?.kind) {
          case 'answer':
            if (!this.wasUp && this.pc.signalingState === 'have-local-offer') {
              this.pc.setRemoteDescription({ type: 'answer', sdp: a.sdp }).then(() => this.gate.remoteDescribed(), (err: Error) => this.failConnect?.(new IvError('IV_ERR_PROTOCOL', `the device's answer was unusable: ${err.message}`)));
            }
            return;
          case 'candidate':
            this.gate.remote({ candidate: a.candidate, mid: a.mid });
            return;
          case 'refused':
            if (a.own || this.failConnect) {
              this.failConnect?.(new IvError(a.code, `device refused: ${a.reason}`));
            }
            return;
          case 'bye':
            if (this.failConnect) {
              this.failConnect(new IvError('IV_ERR_CLOSED', `device said bye: ${a.reason}`));
            } else {
              this.lost(`the device said bye${a.reason ? `: ${a.reason}` : ''}`);
            }
            return;
          case 'restart':
            this.lost('the device restarted the connection (ICE restart is not supported by this client yet)');
            return;
          case undefined:
            return;
        }
      });
      this.control.bind(rtcLink(this.pc.createDataChannel(CONTROL_LABEL)));
      const offer = await this.pc.createOffer();
      await this.pc.setLocalDescription(offer);
      // the local description stays actpass; the text sent asks the device to be passive (PROTOCOL.md §3)
      this.signaling.publish({ type: 'offer', peer: this.opts.peerId, token: this.opts.token, requestId, ts: Date.now(), sdp: offerAsDtlsClient(offer.sdp ?? '') });
      this.gate.described();
      await Promise.race([opened, failed, deadline]);
    } finally {
      clearTimeout(timer);
      this.failConnect = undefined;
    }
  }

  private onChannel(dc: RTCDataChannel): void {
    dc.binaryType = 'arraybuffer';
    const waiter = this.channelWaiters.get(dc.label);
    if (waiter) {
      this.channelWaiters.delete(dc.label);
      waiter(dc);
    } else {
      this.dataChannels.set(dc.label, dc);
    }
  }

  private onDeviceMessage(msg: DeviceToApp): void {
    if (msg.op === 'event') {
      const s = this.streams.get(msg.stream);
      if (msg.event === 'stream_time') {
        if (s) {
          s.receiver.setOrigin(msg.originMs, this.clockOffsetMs);
        } else {
          this.pendingOrigins.set(msg.stream, msg.originMs);
        }
      } else if (msg.event === 'watermark' && msg.level === 'high') {
        s?.receiver.expectPause();
      } else if (msg.event === 'stream_closed') {
        this.removeStream(msg.stream);
      }
    }
    this.onEvent?.(msg);
  }

  /** Send a request on the control channel and wait for its answer (`error` rejects with its code). */
  request(msg: RequestBody, timeoutMs = 5_000): Promise<DeviceToApp> {
    if (this.closed) {
      return Promise.reject(new IvError('IV_ERR_CLOSED', 'the client is closed'));
    }
    return this.control.request(msg, timeoutMs);
  }

  /**
   * Open a stream (`action=live&channel=0`): its bytes go to the returned receiver, acked
   * every 200 ms, and, when given, to `onBytes` too (each message as received, after the
   * receiver counted it: a player's feed).
   */
  async open(params: string, timeoutMs = 5_000, onBytes?: (bytes: Uint8Array) => void): Promise<StreamReceiver> {
    const openedAt = performance.now();
    const ok = await this.request({ op: 'open', params }, timeoutMs);
    if (ok.op !== 'ok' || ok.stream === undefined || ok.label === undefined) {
      throw new IvError('IV_ERR_PROTOCOL', 'open answered without a stream');
    }
    const { stream, label } = ok;
    const dc = this.dataChannels.get(label) ?? await new Promise<RTCDataChannel>((resolve, reject) => {
      const t = setTimeout(() => reject(new IvError('IV_ERR_TIMEOUT', `stream channel ${label} did not open`)), timeoutMs);
      this.channelWaiters.set(label, (d) => {
        clearTimeout(t);
        resolve(d);
      });
    });
    this.dataChannels.delete(label);
    const receiver = new StreamReceiver(stream, false, () => performance.now(), openedAt);
    dc.addEventListener('message', (e: MessageEvent<string | ArrayBuffer>) => {
      const bytes = messageBytes(e.data);
      receiver.push(bytes);
      onBytes?.(bytes);
    });
    const timer = setInterval(() => {
      const control = this.control.open;
      if (control && dc.readyState === 'open' && this.streams.get(stream)?.acking !== false) {
        control.sendMessageBinary(encodeControl({ op: 'ack', stream, bytes: receiver.stats.bytes, echo: this.control.lastProbe }));
      }
    }, 200);
    this.streams.set(stream, { receiver, timer, acking: true });
    const origin = this.pendingOrigins.get(stream);
    if (origin !== undefined) {
      this.pendingOrigins.delete(stream);
      receiver.setOrigin(origin, this.clockOffsetMs);
    }
    return receiver;
  }

  /** Stop (or resume) acking a stream: its backlog on the device grows until the watermarks pause it (tests). */
  setAcking(stream: number, on: boolean): void {
    const s = this.streams.get(stream);
    if (s) {
      s.acking = on;
    }
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

  /**
   * The ICE candidate pair in use, from getStats: `local <type> <address> → remote <type>
   * <address>` (a browser's local candidate is usually `prflx`: the device learned it from
   * the browser's checks, its mDNS name was never resolved).
   */
  async selectedPath(): Promise<string> {
    const stats = await this.pc.getStats();
    const all = new Map<string, Record<string, unknown>>();
    stats.forEach((v: Record<string, unknown>) => all.set(v.id as string, v));
    const pair = [...all.values()].find((v) => v.type === 'candidate-pair' && v.nominated === true && v.state === 'succeeded');
    const side = (id: unknown): string => {
      const c = all.get(id as string);
      return c ? `${String(c.candidateType)} ${String(c.address ?? c.ip ?? '?')}:${String(c.port)}` : '?';
    };
    return pair ? `local ${side(pair.localCandidateId)} → remote ${side(pair.remoteCandidateId)}` : 'none';
  }

  /** Round trip on the control channel; `offsetMs` ≈ device clock − local clock. */
  async ping(): Promise<{ rttMs: number; offsetMs: number }> {
    const t = Date.now();
    const pong = await this.request({ op: 'ping', t });
    const now = Date.now();
    return { rttMs: now - t, offsetMs: pong.op === 'pong' ? pong.deviceTime - (t + now) / 2 : 0 };
  }

  /** The device's clock offset from the ping with the smallest round trip of `samples`. */
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

  private removeStream(stream: number): void {
    const s = this.streams.get(stream);
    if (s) {
      clearInterval(s.timer);
      this.streams.delete(stream);
    }
  }

  private lost(reason: string): void {
    if (this.failConnect) {
      this.failConnect(new IvError('IV_ERR_P2P_CONNECT_FAIL', `${reason} before the control channel opened`));
      return;
    }
    if (!this.closed) {
      this.close();
      this.onClosed?.(reason);
    }
  }

  /** Leave: bye on signaling, the peer connection closed (the device notices at once). */
  close(): void {
    if (this.closed) {
      return;
    }
    this.closed = true;
    for (const s of this.streams.keys()) {
      this.removeStream(s);
    }
    this.control.closeAll();
    this.signaling?.bye();
    this.pc.close();
    this.signaling?.end();
  }
}
