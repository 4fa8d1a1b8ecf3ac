/**
 * app-client — an app talking to a gateway (docs/PROTOCOL.md) from Node: MQTT signaling
 * with an access token, one peer connection (node-datachannel), the control channel,
 * streams, acks, pings. Used by `ivgw view`, `ivgw load` and the end-to-end tests.
 *
 * node-datachannel may be loaded by one thread per process only: use one process per
 * simulated app thread group (the load tester spreads apps over processes).
 * Survives the device's ICE restart (PROTOCOL.md §3): on the device's `offer` with
 * `iceRestart` it answers with a new peer connection, takes the new `control` and
 * `s<n>` channels for its open streams (each receiver drops the old channel's
 * unfinished tag and expects the pause), re-opens `voice`, and sends what it queued
 * meanwhile. A connection that drops after it was up waits `restartWaitMs` for that
 * offer before it counts as lost.
 * Owns: its MQTT connection, peer connection and channels. Must never: leave a
 * request pending after close (every pending request is rejected).
 */
import { randomBytes } from 'node:crypto';
import { connect, type MqttClient } from 'mqtt';
import nodeDataChannel from 'node-datachannel';
import { traceTransport } from '../shared/transport-trace.js';
import type { DataChannel, PeerConnection } from 'node-datachannel';
import { IvError, isIvErrorCode } from '../runtime/errors.js';
import { decodeFromDevice, encodeControl, type AppToDevice, type DeviceToApp } from '../actors/p2p/control-protocol.js';
import { StreamReceiver } from './stream-receiver.js';
import { CandidateGate } from '../shared/candidate-gate.js';
import { pinProblem } from './fingerprint-pin.js';

export interface AppClientOptions {
  url: string;
  deviceId: string;
  peerId: string;
  token: string;
  /** Bind ICE to this address (127.0.0.1 for tests on one machine). */
  bindAddress?: string;
  iceServers?: string[];
  /** Per attempt, ms (default 10 000). */
  timeoutMs?: number;
  /**
   * Attempts when the peer connection fails before it is up (ICE or DTLS failure,
   * IV_ERR_P2P_CONNECT_FAIL), each with a fresh connection; default 3. Refusals and
   * timeouts are not retried.
   */
  connectAttempts?: number;
  /** After a connection that was up drops: how long to wait for the device's restart offer (default 30 000 ms). */
  restartWaitMs?: number;
  /** The device's DTLS certificate fingerprint (`sha-256 AB:…`): descriptions naming another are ignored (fingerprint-pin.ts). */
  fingerprint?: string;
}

type StreamEntry = { receiver: StreamReceiver; dc: DataChannel | undefined; ackTimer: NodeJS.Timeout; ackBase: number };

/** Omit that keeps a union a union. */
type RequestBody = Extract<AppToDevice, { id: number }> extends infer T ? (T extends unknown ? Omit<T, 'id'> : never) : never;

type Pending = { resolve: (m: DeviceToApp) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

let sctpSet = false;

export class AppClient {
  private mqtt!: MqttClient;
  private pc!: PeerConnection;
  private control: DataChannel | undefined;
  private config!: ConstructorParameters<typeof nodeDataChannel.PeerConnection>[1];
  /** Between the device's restart offer and the new control channel opening. */
  private restarting: { startedAt: number; wantVoice: boolean } | undefined;
  /** The connection dropped after it was up: waiting for the device's restart offer. */
  private restartWait: NodeJS.Timeout | undefined;
  private wasUp = false;
  private onControlOpen: (() => void) | undefined;
  /** Control messages sent while no control channel is open (a restart); bounded. */
  private readonly controlQueue: Uint8Array[] = [];
  /** Device-initiated ICE restarts this client went through: how long each took (offer → control open). */
  readonly restarts: { ms: number }[] = [];
  /** Restart offers received from the device (each answered; a retry replaces the previous one). */
  restartOffers = 0;
  /** Voice frames dropped because a restart was under way. */
  voiceDropped = 0;
  onRestart: ((info: { ms: number }) => void) | undefined;
  private readonly channels = new Set<DataChannel>();
  private readonly pending = new Map<number, Pending>();
  private readonly streamWaiters = new Map<string, (dc: DataChannel) => void>();
  private readonly orphanChannels = new Map<string, DataChannel>();
  private readonly receivers = new Map<number, StreamEntry>();
  private nextId = 1;
  private lastProbe = 0;
  private closed = false;
  /** ms from connect() to the control channel opening (over every attempt). */
  connectMs = 0;
  /** Attempts that failed before this connection came up (see connectAttempts). */
  connectRetries = 0;
  private failConnect: ((reason: string) => void) | undefined;
  onEvent: ((e: DeviceToApp) => void) | undefined;
  /** The connection ended without close() being called (the device left, ICE failed). */
  onClosed: ((reason: string) => void) | undefined;

  private constructor(private readonly opts: AppClientOptions) {}

  static async connect(opts: AppClientOptions): Promise<AppClient> {
    const t0 = performance.now();
    const attempts = Math.max(1, opts.connectAttempts ?? 3);
    for (let attempt = 1; ; attempt++) {
      const c = new AppClient(opts);
      try {
        await c.start();
        c.connectMs = performance.now() - t0;
        c.connectRetries = attempt - 1;
        return c;
      } catch (err) {
        c.close();
        if (!(err instanceof IvError && err.code === 'IV_ERR_P2P_CONNECT_FAIL') || attempt >= attempts) {
          throw err;
        }
      }
    }
  }

  private get up(): string {
    return `iv/${this.opts.deviceId}/peer/${this.opts.peerId}/up`;
  }

  private async start(): Promise<void> {
    const failed = new Promise<never>((_, reject) => {
      this.failConnect = (reason) => reject(new IvError('IV_ERR_P2P_CONNECT_FAIL', `${reason} before the control channel opened`));
    });
    failed.catch(() => undefined);
    const timeoutMs = this.opts.timeoutMs ?? 10_000;
    // credentials: the embedded broker (and a broker set up per docs/DEPLOY.md) admits an app by peer id + token
    this.mqtt = connect(this.opts.url, { clientId: `app-${this.opts.peerId}-${randomBytes(4).toString('hex')}`, reconnectPeriod: 0, connectTimeout: timeoutMs, username: this.opts.peerId, password: this.opts.token });
    await new Promise<void>((resolve, reject) => {
      this.mqtt.once('connect', () => resolve());
      this.mqtt.once('error', (err: Error & { code?: unknown }) => reject(err.code === 4 || err.code === 5
        ? new IvError('IV_ERR_AUTH_INVALID', `the broker refused this app (user name = peer id ${this.opts.peerId}, password = its token): ${err.message}`) : err));
    });
    await this.mqtt.subscribeAsync(`iv/${this.opts.deviceId}/peer/${this.opts.peerId}/down`, { qos: 1 });
    if (!sctpSet) {
      sctpSet = true;
      nodeDataChannel.setSctpSettings({ sendBufferSize: 262_144, recvBufferSize: 262_144 });
      traceTransport(nodeDataChannel);
    }
    this.config = { iceServers: this.opts.iceServers ?? [], maxMessageSize: 262_144 };
    if (this.opts.bindAddress) {
      this.config.bindAddress = this.opts.bindAddress;
    }
    this.pc = this.createPc();
    const requestId = `r-${randomBytes(8).toString('hex')}`;
    const refused = new Promise<never>((_, reject) => {
      this.mqtt.on('message', (_topic, payload) => {
        let msg: { type?: string; requestId?: string; sdp?: string; candidate?: string; mid?: string; code?: string; reason?: string; iceRestart?: boolean };
        try {
          msg = JSON.parse(payload.toString()) as typeof msg;
        } catch {
          return;
        }
        if ((msg.type === 'answer' || msg.type === 'offer') && typeof msg.sdp === 'string' && this.refusedByPin(msg.sdp)) {
          return;
        }
        if (msg.type === 'answer' && typeof msg.sdp === 'string' && msg.requestId === requestId && !this.wasUp) {
          this.setRemote(msg.sdp, 'answer');
        } else if (msg.type === 'offer' && msg.iceRestart === true && typeof msg.sdp === 'string' && typeof msg.requestId === 'string') {
          this.restartFromOffer(msg.requestId, msg.sdp);
        } else if (msg.type === 'candidate' && typeof msg.candidate === 'string' && typeof msg.mid === 'string') {
          this.gates.get(this.pc)?.remote({ candidate: msg.candidate, mid: msg.mid });
        } else if (msg.type === 'refused') {
          if (msg.requestId === requestId || this.failConnect) {
            reject(new IvError(isIvErrorCode(msg.code) ? msg.code : 'IV_ERR_INTERNAL', `device refused: ${msg.reason ?? ''}`));
          }
        } else if (msg.type === 'bye') {
          this.lost('the device said bye');
        }
      });
    });
    refused.catch(() => undefined);
    const pc = this.pc;
    pc.onLocalDescription((sdp, type) => {
      if (type.toLowerCase() === 'offer') {
        // The app takes the DTLS client role (the device answers passive): its first
        // ClientHello reaches a device whose ICE is already up. The other way round the
        // device's ClientHello often arrives before the app's ICE is ready, is dropped and
        // waits for DTLS's 1 s retransmission (bench ttff: p99 1268 ms → 309 ms).
        this.publishDescription(pc, { type: 'offer', peer: this.opts.peerId, token: this.opts.token, requestId, ts: Date.now(), sdp: sdp.replaceAll('a=setup:actpass', 'a=setup:active') });
      }
    });
    const opened = new Promise<void>((resolve) => (this.onControlOpen = resolve));
    const control = pc.createDataChannel('control');
    this.channels.add(control);
    this.bindControl(control);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      opened,
      refused,
      failed,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(this.pinRefusal ? new IvError('IV_ERR_AUTH_INVALID', `no answer from ${this.opts.deviceId} within ${timeoutMs} ms with the pinned certificate; ignored: ${this.pinRefusal}`)
          : new IvError('IV_ERR_TIMEOUT', `no connection to ${this.opts.deviceId} within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]).finally(() => {
      clearTimeout(timer);
      this.failConnect = undefined;
    });
  }

  /** Descriptions ignored because their certificate is not the pinned one, and the last reason. */
  pinRefusals = 0;
  private pinRefusal: string | undefined;

  private refusedByPin(sdp: string): boolean {
    const problem = pinProblem(sdp, this.opts.fingerprint);
    if (problem) {
      this.pinRefusals++;
      this.pinRefusal = problem;
    }
    return problem !== undefined;
  }

  /** Each peer connection's candidate gate (shared/candidate-gate.ts). */
  private readonly gates = new WeakMap<PeerConnection, CandidateGate>();

  /** Publish a description, then the local candidates that waited for it. */
  private publishDescription(pc: PeerConnection, msg: Record<string, unknown>): void {
    this.publish(msg);
    this.gates.get(pc)?.described();
  }

  private setRemote(sdp: string, type: 'offer' | 'answer'): void {
    this.pc.setRemoteDescription(sdp, type as never);
    this.gates.get(this.pc)?.remoteDescribed();
  }

  /** A peer connection with the callbacks every one needs; events of a replaced one are ignored. */
  private createPc(): PeerConnection {
    const pc = new nodeDataChannel.PeerConnection(this.opts.peerId, this.config);
    const gate = new CandidateGate(pc, (c) => this.publish({ type: 'candidate', peer: this.opts.peerId, ...c }));
    this.gates.set(pc, gate);
    pc.onLocalCandidate((candidate, mid) => {
      if (pc === this.pc && (!this.opts.bindAddress || candidate.includes(` ${this.opts.bindAddress} `))) {
        gate.local({ candidate, mid });
      }
    });
    pc.onDataChannel((dc) => {
      if (pc !== this.pc) {
        dc.close();
        return;
      }
      this.onChannel(dc);
    });
    pc.onStateChange((state) => {
      if (pc !== this.pc) {
        return;
      }
      if (state === 'connected') {
        clearTimeout(this.restartWait);
        this.restartWait = undefined;
      } else if (state === 'closed' || (state === 'failed' && !this.wasUp)) {
        this.lost(`peer connection ${state}`);
      } else if ((state === 'failed' || state === 'disconnected') && this.wasUp && !this.restarting) {
        // the path failed (ICE down): the device restarts it; ICE fine: the device closed it
        const ice = pc.iceState();
        if (ice === 'disconnected' || ice === 'failed' || ice === 'checking') {
          this.awaitRestart(`peer connection ${state}`);
        } else {
          this.lost(`peer connection ${state}`);
        }
      }
    });
    return pc;
  }

  /** A connection that was up dropped: the device restarts it (its keep-alive) unless it is gone. */
  private awaitRestart(reason: string): void {
    if (this.restartWait || this.closed) {
      return;
    }
    const waitMs = this.opts.restartWaitMs ?? 30_000;
    this.restartWait = setTimeout(() => {
      this.restartWait = undefined;
      this.lost(`${reason}; the device did not restart it within ${waitMs} ms`);
    }, waitMs);
  }

  private onChannel(dc: DataChannel): void {
    this.channels.add(dc);
    const label = dc.getLabel();
    if (label === 'control') {
      this.bindControl(dc); // the device's channel after an ICE restart
      return;
    }
    const entry = /^s\d+$/.test(label) ? this.receivers.get(Number(label.slice(1))) : undefined;
    if (entry) {
      this.bindStream(entry, dc);
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

  private bindControl(dc: DataChannel): void {
    this.control = dc;
    dc.onMessage((m) => {
      if (this.control === dc) {
        this.onControl(typeof m === 'string' ? Buffer.from(m) : Buffer.from(m as Buffer));
      }
    });
    dc.onClosed(() => {
      if (this.control === dc && !this.restarting && !this.restartWait) {
        this.lost('the control channel closed');
      }
    });
    if (dc.isOpen()) {
      this.controlOpened(dc);
    } else {
      dc.onOpen(() => this.controlOpened(dc));
    }
  }

  private controlOpened(dc: DataChannel): void {
    if (this.control !== dc) {
      return;
    }
    this.wasUp = true;
    for (const m of this.controlQueue.splice(0)) {
      dc.sendMessageBinary(m);
    }
    this.onControlOpen?.();
    this.onControlOpen = undefined;
    const r = this.restarting;
    if (r) {
      this.restarting = undefined;
      const info = { ms: Math.round(performance.now() - r.startedAt) };
      this.restarts.push(info);
      if (r.wantVoice) {
        void this.openVoiceChannel().catch(() => undefined);
      }
      this.onRestart?.(info);
    }
  }

  private bindStream(entry: StreamEntry, dc: DataChannel): void {
    entry.dc = dc;
    dc.onMessage((m) => {
      if (entry.dc === dc) {
        entry.receiver.push(typeof m === 'string' ? Buffer.from(m) : (m as Buffer));
      }
    });
  }

  /**
   * The device's ICE-restart offer: answer it with a new peer connection; the old one
   * and everything it still carried are finished (receivers drop an unfinished tag).
   */
  private restartFromOffer(requestId: string, sdp: string): void {
    if (this.closed || this.failConnect) {
      return; // while connecting the app is the offerer
    }
    this.restartOffers++;
    clearTimeout(this.restartWait);
    this.restartWait = undefined;
    this.restarting = { startedAt: performance.now(), wantVoice: this.restarting?.wantVoice ?? this.voiceDc !== undefined };
    for (const entry of this.receivers.values()) {
      if (entry.dc) {
        entry.dc = undefined;
        entry.ackBase = entry.receiver.stats.bytes; // acks count per channel (PROTOCOL.md §4)
        entry.receiver.channelReplaced();
      }
    }
    this.voiceDc = undefined;
    const old = { pc: this.pc, channels: [...this.channels] };
    this.channels.clear();
    this.control = undefined;
    const pc = this.createPc();
    this.pc = pc;
    pc.onLocalDescription((answer, type) => {
      if (pc === this.pc && type.toLowerCase() === 'answer') {
        this.publishDescription(pc, { type: 'answer', peer: this.opts.peerId, token: this.opts.token, requestId, sdp: answer });
      }
    });
    try {
      this.setRemote(sdp, 'offer');
    } catch (err) {
      this.lost(`the device's restart offer was unusable: ${(err as Error).message}`);
    }
    for (const dc of old.channels) {
      dc.close();
    }
    old.pc.close();
  }

  /** Send on the control channel, or queue (bounded) while a restart replaces it. */
  private sendControl(bytes: Uint8Array): void {
    if (this.control?.isOpen()) {
      this.control.sendMessageBinary(bytes);
    } else if (this.controlQueue.length < 256) {
      this.controlQueue.push(bytes);
    }
  }

  private publish(msg: Record<string, unknown>): void {
    this.mqtt.publish(this.up, JSON.stringify(msg), { qos: 1 });
  }

  private onControl(bytes: Uint8Array): void {
    const msg = decodeFromDevice(bytes);
    if (!msg) {
      return;
    }
    if (msg.op === 'probe') {
      this.lastProbe = msg.t;
      return;
    }
    if ('id' in msg && (msg.op === 'ok' || msg.op === 'error' || msg.op === 'reply' || msg.op === 'pong')) {
      const p = this.pending.get(msg.id);
      if (p) {
        this.pending.delete(msg.id);
        clearTimeout(p.timer);
        if (msg.op === 'error') {
          p.reject(new IvError(isIvErrorCode(msg.code) ? msg.code : 'IV_ERR_INTERNAL', msg.message));
        } else {
          p.resolve(msg);
        }
      }
      return;
    }
    if (msg.op === 'event') {
      this.routeStreamEvent(msg);
    }
    this.onEvent?.(msg);
  }

  /** Stream events the receivers need: the time origin (latency) and announced pauses (gaps). */
  private routeStreamEvent(msg: Extract<DeviceToApp, { op: 'event' }>): void {
    const receiver = this.receivers.get(msg.stream)?.receiver;
    if (msg.event === 'stream_time' && typeof msg.originMs === 'number') {
      if (receiver) {
        receiver.setOrigin(msg.originMs, this.clockOffsetMs);
      } else {
        this.pendingOrigins.set(msg.stream, msg.originMs);
      }
    } else if (msg.event === 'watermark' && msg.level === 'high') {
      receiver?.expectPause();
    }
  }

  private readonly pendingOrigins = new Map<number, number>();
  /** Device clock − local clock, ms (syncClock() measures it; 0 until then). */
  clockOffsetMs = 0;

  /** Measure the device's clock offset: the ping with the smallest round trip of `samples`. */
  async syncClock(samples = 3): Promise<{ rttMs: number; offsetMs: number }> {
    let best: { rttMs: number; offsetMs: number } | undefined;
    for (let i = 0; i < samples; i++) {
      const p = await this.ping();
      if (!best || p.rttMs < best.rttMs) {
        best = p;
      }
    }
    this.clockOffsetMs = (best as { offsetMs: number }).offsetMs;
    return best as { rttMs: number; offsetMs: number };
  }

  /** Send a request on the control channel and wait for its answer. */
  request(msg: RequestBody, timeoutMs = 5_000): Promise<DeviceToApp> {
    if (this.closed) {
      return Promise.reject(new IvError('IV_ERR_CLOSED', 'the client is closed'));
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new IvError('IV_ERR_TIMEOUT', `${msg.op} #${id}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.sendControl(encodeControl({ ...msg, id } as AppToDevice));
    });
  }

  /** Send raw bytes on the control channel (tests of the device's input checks). */
  sendRaw(bytes: Uint8Array): void {
    this.sendControl(bytes);
  }

  /** Open a stream (`action=live&channel=0`); the receiver acks automatically unless told not to. */
  async open(params: string, opts: { record?: boolean; ack?: boolean; timeoutMs?: number } = {}): Promise<StreamReceiver> {
    const openedAt = performance.now();
    const ok = await this.request({ op: 'open', params }, opts.timeoutMs) as Extract<DeviceToApp, { op: 'ok' }>;
    if (ok.stream === undefined || ok.label === undefined) {
      throw new IvError('IV_ERR_PROTOCOL', 'open answered without a stream');
    }
    const label = ok.label;
    const dc = this.orphanChannels.get(label) ?? await new Promise<DataChannel>((resolve, reject) => {
      const timer = setTimeout(() => reject(new IvError('IV_ERR_TIMEOUT', `stream channel ${label} did not open`)), opts.timeoutMs ?? 5_000);
      this.streamWaiters.set(label, (d) => {
        clearTimeout(timer);
        resolve(d);
      });
    });
    this.orphanChannels.delete(label);
    const receiver = new StreamReceiver(ok.stream, opts.record === true, () => performance.now(), openedAt);
    const stream = ok.stream;
    const entry: StreamEntry = { receiver, dc: undefined, ackBase: 0, ackTimer: setInterval(() => {
      if (this.ackEnabled.get(stream) !== false && entry.dc?.isOpen() && this.control?.isOpen()) {
        this.control.sendMessageBinary(encodeControl({ op: 'ack', stream, bytes: receiver.stats.bytes - entry.ackBase, echo: this.lastProbe }));
      }
    }, 200) };
    this.bindStream(entry, dc);
    this.ackEnabled.set(stream, opts.ack !== false);
    this.receivers.set(stream, entry);
    const origin = this.pendingOrigins.get(stream);
    if (origin !== undefined) {
      this.pendingOrigins.delete(stream);
      receiver.setOrigin(origin, this.clockOffsetMs);
    }
    return receiver;
  }

  private readonly ackEnabled = new Map<number, boolean>();

  /** Stop or restart acking a stream (a stalled app, for tests and the load tester). */
  setAcking(stream: number, on: boolean): void {
    this.ackEnabled.set(stream, on);
  }

  async closeStream(stream: number): Promise<void> {
    await this.request({ op: 'close', stream });
    const r = this.receivers.get(stream);
    if (r) {
      clearInterval(r.ackTimer);
      this.receivers.delete(stream);
    }
  }

  /** Send a command; resolves with the device's reply (empty: the device closed the channel). */
  async command(data: Uint8Array | string, timeoutMs = 5_000): Promise<Uint8Array> {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    const r = await this.request({ op: 'command', data: bytes }, timeoutMs) as Extract<DeviceToApp, { op: 'reply' }>;
    return r.data;
  }

  private voiceDc: DataChannel | undefined;

  /** Start intercom: the device calls onRecvInit(params, peer). */
  async startVoice(params = 'action=voice'): Promise<void> {
    if (!this.voiceDc) {
      await this.openVoiceChannel();
    }
    await this.request({ op: 'voice_start', params });
  }

  private async openVoiceChannel(): Promise<void> {
    const pc = this.pc;
    const dc = pc.createDataChannel('voice');
    this.channels.add(dc);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new IvError('IV_ERR_TIMEOUT', 'voice channel did not open')), 5_000);
      dc.onOpen(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    if (pc === this.pc) {
      this.voiceDc = dc;
    }
  }

  /** One audio frame; the device hands it to onRecvVoice in order. Dropped (counted) while a restart is under way. */
  sendVoice(frame: Uint8Array): void {
    if (this.voiceDc && frame.byteLength > 0) {
      this.voiceDc.sendMessageBinary(frame);
    } else if (this.restarting?.wantVoice && frame.byteLength > 0) {
      this.voiceDropped++;
    } else {
      throw new IvError('IV_ERR_INVALID_PARAM', this.voiceDc ? 'a voice frame cannot be empty (empty marks the end)' : 'call startVoice() first', { field: 'frame' });
    }
  }

  /** End intercom: an empty message on `voice` marks the end after the last frame. */
  async stopVoice(): Promise<void> {
    this.voiceDc?.sendMessageBinary(new Uint8Array(0));
    await this.request({ op: 'voice_stop' });
  }

  /** Round trip on the control channel; `offsetMs` ≈ device clock − local clock. */
  async ping(): Promise<{ rttMs: number; offsetMs: number }> {
    const t = Date.now();
    const pong = await this.request({ op: 'ping', t }) as Extract<DeviceToApp, { op: 'pong' }>;
    const now = Date.now();
    return { rttMs: now - t, offsetMs: pong.deviceTime - (t + now) / 2 };
  }

  private lost(reason: string): void {
    if (this.failConnect) {
      this.failConnect(reason);
      return;
    }
    if (!this.closed) {
      this.close();
      this.onClosed?.(reason);
    }
  }

  close(): void {
    if (this.closed) {
      return;
    }
    this.closed = true;
    clearTimeout(this.restartWait);
    for (const [, r] of this.receivers) {
      clearInterval(r.ackTimer);
    }
    this.receivers.clear();
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new IvError('IV_ERR_CLOSED', `request #${id}: the client closed`));
    }
    this.pending.clear();
    try {
      this.mqtt?.publish(this.up, JSON.stringify({ type: 'bye', peer: this.opts.peerId }), { qos: 0 });
    } catch {
      // broker gone
    }
    for (const dc of this.channels) {
      dc.close();
    }
    this.channels.clear();
    this.pc?.close();
    this.mqtt?.end(true);
  }

  /**
   * Release node-datachannel's threads once every client of this process is closed.
   * Waits for close callbacks already queued by the native side to run first: calling
   * cleanup() under them aborts the process.
   */
  static async shutdownTransport(settleMs = 250): Promise<void> {
    await new Promise((r) => setTimeout(r, settleMs));
    nodeDataChannel.cleanup();
  }
}
