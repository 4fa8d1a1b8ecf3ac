/**
 * app-client — an app talking to a gateway (docs/PROTOCOL.md) from Node: `AppClient`
 * puts together the MQTT signaling (signaling-client.ts), the peer connection and its
 * ICE restarts (app-connection.ts), the control channel (control-channel.ts), the open
 * streams (stream-set.ts) and the intercom (app-voice.ts), and offers the app's API on
 * them: connect (with retries), requests, streams, pings and the clock offset,
 * commands, voice. Used by `ivgw view`, `ivgw load` and the end-to-end tests.
 *
 * node-datachannel may be loaded by one thread per process only: use one process per
 * simulated app thread group (the load tester spreads apps over processes). It is loaded
 * on the first connect, not when this file is imported (app-connection.ts, loadRtc).
 * Survives the device's ICE restart (PROTOCOL.md §3.1): takes the new `control` and
 * `s<n>` channels, re-opens `voice`, and sends what it queued meanwhile.
 * Events: `event` (every device event and unsolicited message), `closed` (the connection
 * ended without close()), `restart` (a device restart finished), `listenererror`.
 * Owns: those parts and the order they are set up and closed in.
 * Must never: leave a request pending after close (every pending request is rejected).
 */
import type { DataChannel, PeerConnection } from 'node-datachannel';
import { IvError } from '../runtime/errors.js';
import type { ChannelInfo, DeviceToApp } from '../shared/protocol/control.js';
import type { DeviceSignal } from '../shared/protocol/signaling-messages.js';
import { CONTROL_LABEL } from '../shared/protocol/transport-rules.js';
import { TypedEmitter } from '../runtime/typed-emitter.js';
import { AppConnection, loadRtc, loadedRtc } from './app-connection.js';
import { StreamSet } from './stream-set.js';
import { AppVoice } from './app-voice.js';
import { ControlChannel, type RequestBody } from './control-channel.js';
import { SignalingClient } from './signaling-client.js';
import { SignalRouter } from './signal-router.js';
import type { StreamReceiver } from './stream-receiver.js';

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
  /** The device's DTLS certificate fingerprint (`sha-256 AB:…`): descriptions naming another are ignored (shared/protocol/fingerprint-pin.ts). */
  fingerprint?: string;
}

export type AppClientEvents = {
  /** A message from the device that answers no request (events; probes stay inside). */
  event: [msg: DeviceToApp];
  /** The connection ended without close() being called (the device left, ICE failed). */
  closed: [reason: string];
  /** A device-initiated ICE restart finished: offer → new control channel open. */
  restart: [info: { ms: number }];
};

export class AppClient extends TypedEmitter<AppClientEvents> {
  /** The device's messages sorted for this client: its own request ids, the certificate pin (signal-router.ts). */
  private readonly router: SignalRouter;

  /** Descriptions ignored because their certificate is not the pinned one. */
  get pinRefusals(): number {
    return this.router.pinRefusals;
  }
  private signaling: SignalingClient | undefined;
  private readonly connection: AppConnection;
  private readonly streams: StreamSet<DataChannel>;
  private readonly control: ControlChannel;
  private onControlOpen: (() => void) | undefined;
  private closed = false;
  /** ms from connect() to the control channel opening (over every attempt). */
  connectMs = 0;
  /** Attempts that failed before this connection came up (see connectAttempts). */
  connectRetries = 0;
  private failConnect: ((reason: string) => void) | undefined;
  /** Device clock − local clock, ms (syncClock() measures it; 0 until then). */
  get clockOffsetMs(): number {
    return this.control.clockOffsetMs;
  }
  private readonly voice: AppVoice;

  private constructor(private readonly opts: AppClientOptions) {
    super();
    this.router = new SignalRouter(opts.fingerprint);
    this.connection = new AppConnection(opts, {
      publish: (msg) => this.signaling?.publish(msg),
      onChannel: (dc) => this.onChannel(dc),
      lost: (reason) => this.lost(reason),
    });
    this.control = new ControlChannel(opts.deviceId, {
      opened: () => this.controlOpened(),
      closed: () => {
        if (!this.connection.restarting && !this.connection.awaitingRestart) {
          this.lost('the control channel closed');
        }
      },
      message: (msg) => {
        if (msg.op === 'event') {
          this.streams.onEvent(msg);
        }
        this.emit('event', msg);
      },
    });
    this.streams = new StreamSet<DataChannel>({
      openControl: () => this.control.open,
      lastProbe: () => this.control.lastProbe,
      clockOffsetMs: () => this.clockOffsetMs,
    });
    this.voice = new AppVoice(this.connection, (msg) => this.request(msg));
  }

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

  /** performance.now() when this client's offer went to the broker (-1 before): the start of its connect as the device sees it. */
  get offerSentAt(): number {
    return this.connection.offerSentAt;
  }

  /** Device-initiated ICE restarts this client went through: how long each took (offer → control open). */
  get restarts(): readonly { ms: number }[] {
    return this.connection.restarts;
  }

  /** Restart offers received from the device (each answered; a retry replaces the previous one). */
  get restartOffers(): number {
    return this.connection.restartOffers;
  }

  /** Voice frames dropped because a restart was under way. */
  get voiceDropped(): number {
    return this.voice.dropped;
  }

  /** The current peer connection (tests drop it to play a failed path). */
  get pc(): PeerConnection {
    return this.connection.pc;
  }

  private async start(): Promise<void> {
    const ndc = await loadRtc();
    const failed = new Promise<never>((_, reject) => {
      this.failConnect = (reason) => reject(new IvError('IV_ERR_P2P_CONNECT_FAIL', `${reason} before the control channel opened`));
    });
    failed.catch(() => undefined);
    const timeoutMs = this.opts.timeoutMs ?? 10_000;
    this.signaling = await SignalingClient.connect({ url: this.opts.url, deviceId: this.opts.deviceId, peerId: this.opts.peerId, token: this.opts.token, timeoutMs });
    const requestId = this.router.newOffer();
    const refused = new Promise<never>((_, reject) => {
      this.signaling?.onMessage((msg) => this.onSignal(msg, requestId, reject));
    });
    refused.catch(() => undefined);
    const opened = new Promise<void>((resolve) => (this.onControlOpen = resolve));
    this.control.bind(this.connection.offer(requestId, ndc));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      opened,
      refused,
      failed,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(this.router.timeoutError(this.opts.deviceId, timeoutMs)), timeoutMs);
      }),
    ]).finally(() => {
      clearTimeout(timer);
      this.failConnect = undefined;
    });
  }

  /**
   * One message from the device's signaling (sorted by the router: another connection's
   * candidates and byes, and descriptions without the pinned certificate, are dropped
   * there); `refuse` fails the connect while it runs.
   */
  private onSignal(msg: DeviceSignal, requestId: string, refuse: (err: Error) => void): void {
    const a = this.router.route(msg, requestId);
    switch (a?.kind) {
      case undefined:
        return;
      case 'answer':
        if (!this.connection.wasUp) {
          this.connection.takeAnswer(a.sdp);
        }
        return;
      case 'restart':
        this.restartFromOffer(a.requestId, a.sdp);
        return;
      case 'candidate':
        this.connection.remoteCandidate({ candidate: a.candidate, mid: a.mid });
        return;
      case 'refused':
        if (a.own || this.failConnect) {
          refuse(new IvError(a.code, `device refused: ${a.reason}`));
        }
        return;
      case 'bye':
        if (this.failConnect) {
          // replaced or shut down while connecting: not a failed path to retry
          refuse(new IvError('IV_ERR_CLOSED', `device said bye: ${a.reason}`));
          return;
        }
        this.lost(`the device said bye${a.reason ? `: ${a.reason}` : ''}`);
        return;
    }
  }

  /**
   * The device's ICE-restart offer: the connection answers it with a new peer connection;
   * the streams' channels and voice are finished until their new ones open.
   */
  private restartFromOffer(requestId: string, sdp: string): void {
    if (this.closed || this.failConnect) {
      return; // while connecting the app is the offerer
    }
    const wantVoice = this.voice.channelReplaced();
    this.streams.channelsReplaced();
    this.control.drop();
    this.connection.restartFromOffer(requestId, sdp, wantVoice);
  }

  private onChannel(dc: DataChannel): void {
    const label = dc.getLabel();
    if (label === CONTROL_LABEL) {
      this.control.bind(dc); // the device's channel after an ICE restart
      return;
    }
    this.streams.onChannel(label, dc);
  }

  /** The control channel opened (and sent what was queued): connected, or a restart finished. */
  private controlOpened(): void {
    const restarted = this.connection.controlOpened();
    this.onControlOpen?.();
    this.onControlOpen = undefined;
    if (restarted) {
      if (restarted.wantVoice) {
        void this.voice.openChannel().catch(() => undefined);
      }
      this.emit('restart', { ms: restarted.ms });
    }
  }

  /** Measure the device's clock offset: the ping with the smallest round trip of `samples`. */
  syncClock(samples = 3): Promise<{ rttMs: number; offsetMs: number }> {
    return this.control.syncClock(samples);
  }

  /** Send a request on the control channel and wait for its answer. */
  request(msg: RequestBody, timeoutMs = 5_000): Promise<DeviceToApp> {
    return this.control.request(msg, timeoutMs);
  }

  /** Send raw bytes on the control channel (tests of the device's input checks). */
  sendRaw(bytes: Uint8Array): void {
    this.control.send(bytes);
  }

  /** Open a stream (`action=live&channel=0`); the receiver acks automatically unless told not to. */
  async open(params: string, opts: { record?: boolean; ack?: boolean; timeoutMs?: number } = {}): Promise<StreamReceiver> {
    const openedAt = performance.now();
    const ok = await this.request({ op: 'open', params }, opts.timeoutMs) as Extract<DeviceToApp, { op: 'ok' }>;
    if (ok.stream === undefined || ok.label === undefined) {
      throw new IvError('IV_ERR_PROTOCOL', 'open answered without a stream');
    }
    return this.streams.attach(ok.stream, ok.label, opts, openedAt);
  }

  /** Stop or restart acking a stream (a stalled app, for tests and the load tester). */
  setAcking(stream: number, on: boolean): void {
    this.streams.setAcking(stream, on);
  }

  async closeStream(stream: number): Promise<void> {
    await this.request({ op: 'close', stream });
    this.streams.remove(stream);
  }

  /** Send a command; resolves with the device's reply (empty: the device closed the channel). */
  command(data: Uint8Array | string, timeoutMs = 5_000): Promise<Uint8Array> {
    return this.control.command(data, timeoutMs);
  }

  /** The device's channels: codecs, picture size and rate, and (with the playback right) the recorded ranges. */
  channels(timeoutMs = 5_000): Promise<ChannelInfo[]> {
    return this.control.channels(timeoutMs);
  }

  /** Start intercom: the device calls onRecvInit(params, peer). */
  startVoice(params = 'action=voice'): Promise<void> {
    return this.voice.start(params);
  }

  /** One audio frame; the device hands it to onRecvVoice in order. Dropped (counted) while a restart is under way. */
  sendVoice(frame: Uint8Array): void {
    this.voice.send(frame);
  }

  /** End intercom: an empty message on `voice` marks the end after the last frame. */
  stopVoice(): Promise<void> {
    return this.voice.stop();
  }

  /** Round trip on the control channel; `offsetMs` ≈ device clock − local clock. */
  ping(): Promise<{ rttMs: number; offsetMs: number }> {
    return this.control.ping();
  }

  private lost(reason: string): void {
    if (this.failConnect) {
      this.failConnect(reason);
      return;
    }
    if (!this.closed) {
      this.close();
      this.emit('closed', reason);
    }
  }

  close(): void {
    if (this.closed) {
      return;
    }
    this.closed = true;
    this.streams.close();
    this.control.closeAll();
    this.signaling?.bye(this.connection.requestId);
    this.connection.close();
    this.signaling?.end();
  }

  /**
   * Release node-datachannel's threads once every client of this process is closed.
   * Waits for close callbacks already queued by the native side to run first: calling
   * cleanup() under them aborts the process.
   */
  static async shutdownTransport(settleMs = 250): Promise<void> {
    const ndc = loadedRtc();
    if (!ndc) {
      return; // never loaded in this thread: nothing to release
    }
    await new Promise((r) => setTimeout(r, settleMs));
    ndc.cleanup();
  }
}
