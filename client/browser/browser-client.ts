/**
 * browser-client — an app in a web browser (docs/PROTOCOL.md §3.2): the browser's own
 * RTCPeerConnection and mqtt.js's browser build over WebSocket, on the same
 * transport-neutral core as the Node `AppClient`: the signaling client and router
 * (request ids, certificate pin), the control channel (its requests: command, channels,
 * ping), StreamReceiver, the candidate gate, the token's claims for refusal reasons; the
 * browser's channels and connection seen through rtc-links.ts.
 * Nothing Node-only: bundled by esbuild for the page (bin/build-web.ts).
 * Connect: the offer is sent as created (`a=setup:actpass`: the device answers active and
 * is the DTLS client), the browser's candidates (mDNS `.local` host names) are sent once
 * the device's answer is set, the device's candidates added after it (PROTOCOL.md §3).
 * The device's ICE restart (§3.1): its offer is answered with a new RTCPeerConnection (the
 * old one closed), its `control` replaces the old one, every open stream continues on its
 * new `s<n>` (stream-set.ts, shared with the Node client), an intercom session gets its `voice` channel back. A
 * connection whose path fails after it was up waits `restartWaitMs` for that offer; one
 * the device closed on purpose (ICE still up) ends at once.
 * Owns: the current peer connection and its candidate gate, the restart bookkeeping.
 * Must never: act on events of a replaced peer connection, or leave a request pending or
 * a timer running after close().
 */
import { IvError } from '../../runtime/errors.js';
import { CandidateGate } from '../../shared/protocol/candidate-gate.js';
import type { ChannelInfo, DeviceToApp } from '../../shared/protocol/control.js';
import type { DeviceSignal } from '../../shared/protocol/signaling-messages.js';
import { CONTROL_LABEL } from '../../shared/protocol/transport-rules.js';
import { ControlChannel, type RequestBody } from '../control-channel.js';
import { SignalRouter } from '../signal-router.js';
import { SignalingClient } from '../signaling-client.js';
import type { StreamReceiver } from '../stream-receiver.js';
import { StreamSet, type StreamLink } from '../stream-set.js';
import { BrowserVoice } from './browser-voice.js';
import { iceUp, rtcLink, rtcStreamLink, selectedPath } from './rtc-links.js';

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
  /** After a connection that was up drops: how long to wait for the device's restart offer (default 30 000 ms). */
  restartWaitMs?: number;
}

export class BrowserClient {
  /** ms from connect() to the control channel opening. */
  connectMs = 0;
  /** Called once when the connection ends without close(). */
  onClosed: ((reason: string) => void) | undefined;
  /** Every device event (stream_closed, watermark, stream_time). */
  onEvent: ((msg: DeviceToApp) => void) | undefined;
  /** A device-initiated ICE restart finished (its offer → the new control channel open). */
  onRestart: ((info: { ms: number }) => void) | undefined;
  /** The connection dropped (its path failed): waiting for the device's restart offer. */
  onInterrupted: ((reason: string) => void) | undefined;
  /** Device-initiated ICE restarts this client went through: how long each took. */
  readonly restarts: { ms: number }[] = [];
  /** Restart offers received (a retry replaces the previous one). */
  restartOffers = 0;
  readonly voice: BrowserVoice;
  private current: RTCPeerConnection;
  /** Each peer connection's `requestId` (this app's offer, or the device's restart offer): its candidates and bye name it. */
  private readonly requestIds = new WeakMap<RTCPeerConnection, string>();
  private gate: CandidateGate;
  private readonly router: SignalRouter;
  private readonly control: ControlChannel;
  private readonly streams: StreamSet<StreamLink>;
  private signaling: SignalingClient | undefined;
  private wasUp = false;
  private closed = false;
  private restarting: { startedAt: number } | undefined;
  private restartWait: ReturnType<typeof setTimeout> | undefined;
  private failConnect: ((err: Error) => void) | undefined;
  private onControlOpen: (() => void) | undefined;

  private constructor(private readonly opts: BrowserClientOptions) {
    this.router = new SignalRouter(opts.fingerprint);
    this.control = new ControlChannel(opts.deviceId, {
      opened: () => this.controlOpened(),
      closed: () => {
        // closed with ICE up: the device ended the connection; with the path down: its restart follows
        if (iceUp(this.current) && !this.restarting) {
          this.lost('the control channel closed');
        } else {
          this.awaitRestart('the control channel closed');
        }
      },
      message: (msg) => {
        if (msg.op === 'event') {
          this.streams.onEvent(msg);
        }
        this.onEvent?.(msg);
      },
    });
    this.streams = new StreamSet<StreamLink>({ openControl: () => this.control.open, lastProbe: () => this.control.lastProbe, clockOffsetMs: () => this.control.clockOffsetMs });
    this.voice = new BrowserVoice(() => this.current, (msg) => this.request(msg));
    this.current = this.createPc();
    this.gate = this.gateFor(this.current);
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

  /** The current peer connection (a restart replaces it). */
  get pc(): RTCPeerConnection {
    return this.current;
  }

  /** Device clock − local clock, ms (syncClock()). */
  get clockOffsetMs(): number {
    return this.control.clockOffsetMs;
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
      this.requestIds.set(this.current, requestId);
      this.signaling.onMessage((msg) => this.onSignal(msg, requestId));
      this.control.bind(rtcLink(this.current.createDataChannel(CONTROL_LABEL)));
      const offer = await this.current.createOffer();
      await this.current.setLocalDescription(offer);
      // sent as created; its candidates wait for the device's answer (PROTOCOL.md §3)
      this.signaling.publish({ type: 'offer', peer: this.opts.peerId, token: this.opts.token, requestId, ts: Date.now(), sdp: offer.sdp ?? '' });
      await Promise.race([opened, failed, deadline]);
    } finally {
      clearTimeout(timer);
      this.failConnect = undefined;
    }
  }

  private onSignal(msg: DeviceSignal, requestId: string): void {
    const a = this.router.route(msg, requestId);
    switch (a?.kind) {
      case 'answer': {
        const pc = this.current;
        if (!this.wasUp && pc.signalingState === 'have-local-offer') {
          pc.setRemoteDescription({ type: 'answer', sdp: a.sdp }).then(() => {
            this.gate.remoteDescribed();
            this.gate.described(); // the offer's candidates go out now that the answer is set (§3)
          }, (err: Error) => this.failConnect?.(new IvError('IV_ERR_PROTOCOL', `the device's answer was unusable: ${err.message}`)));
        }
        return;
      }
      case 'restart':
        void this.restartFromOffer(a.requestId, a.sdp);
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
      case undefined:
        return;
    }
  }

  /** A peer connection whose events count only while it is the current one. */
  private createPc(): RTCPeerConnection {
    const pc = new RTCPeerConnection({ iceServers: this.opts.iceServers ?? [] });
    pc.addEventListener('icecandidate', (e) => {
      if (pc === this.current && e.candidate?.candidate) {
        this.gate.local({ candidate: e.candidate.candidate, mid: e.candidate.sdpMid ?? '0' });
      }
    });
    pc.addEventListener('datachannel', (e) => {
      if (pc !== this.current) {
        e.channel.close();
      } else if (e.channel.label === CONTROL_LABEL) {
        this.control.bind(rtcLink(e.channel)); // the device's control channel after its restart
      } else {
        this.streams.onChannel(e.channel.label, rtcStreamLink(e.channel));
      }
    });
    pc.addEventListener('connectionstatechange', () => {
      if (pc !== this.current) {
        return;
      }
      const state = pc.connectionState;
      if (state === 'connected') {
        clearTimeout(this.restartWait);
        this.restartWait = undefined;
      } else if (state === 'closed' || (state === 'failed' && !this.wasUp)) {
        this.lost(`peer connection ${state}`);
      } else if ((state === 'failed' || state === 'disconnected') && this.wasUp && !this.restarting) {
        this.awaitRestart(`peer connection ${state}`); // the device restarts a failed path (§3.1)
      }
    });
    return pc;
  }

  private gateFor(pc: RTCPeerConnection): CandidateGate {
    return new CandidateGate({
      remoteDescription: () => pc.remoteDescription,
      addRemoteCandidate: (candidate, mid) => void pc.addIceCandidate({ candidate, sdpMid: mid }).catch(() => undefined),
    }, (c) => {
      const requestId = this.requestIds.get(pc); // set before its description, which the gate waits for
      this.signaling?.publish(requestId === undefined ? { type: 'candidate', peer: this.opts.peerId, ...c } : { type: 'candidate', peer: this.opts.peerId, requestId, ...c });
    });
  }

  /** The device's ICE-restart offer: answered by a new peer connection; the old one and its channels are finished. */
  private async restartFromOffer(requestId: string, sdp: string): Promise<void> {
    if (this.closed || this.failConnect) {
      return; // while connecting the app is the offerer
    }
    this.restartOffers++;
    clearTimeout(this.restartWait);
    this.restartWait = undefined;
    this.restarting ??= { startedAt: performance.now() };
    this.streams.channelsReplaced();
    this.voice.channelReplaced();
    this.control.drop();
    const old = this.current;
    const pc = this.createPc();
    this.current = pc;
    this.requestIds.set(pc, requestId);
    this.gate = this.gateFor(pc);
    old.close();
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp });
      this.gate.remoteDescribed();
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      if (pc !== this.current || this.closed) {
        return;
      }
      this.signaling?.publish({ type: 'answer', peer: this.opts.peerId, token: this.opts.token, requestId, sdp: answer.sdp ?? '' });
      this.gate.described();
    } catch (err) {
      if (pc === this.current) {
        this.lost(`the device's restart offer was unusable: ${(err as Error).message}`);
      }
    }
  }

  /** The control channel opened (and sent what was queued): connected, or a restart finished. */
  private controlOpened(): void {
    this.wasUp = true;
    this.onControlOpen?.();
    this.onControlOpen = undefined;
    const r = this.restarting;
    if (r) {
      this.restarting = undefined;
      const info = { ms: Math.round(performance.now() - r.startedAt) };
      this.restarts.push(info);
      this.voice.restarted();
      this.onRestart?.(info);
    }
  }

  /** A connection that was up dropped: the device restarts it unless it is gone. */
  private awaitRestart(reason: string): void {
    if (this.restartWait || this.closed || this.restarting) {
      return;
    }
    if (!this.wasUp) {
      this.lost(reason);
      return;
    }
    const waitMs = this.opts.restartWaitMs ?? 30_000;
    this.onInterrupted?.(reason);
    this.restartWait = setTimeout(() => {
      this.restartWait = undefined;
      this.lost(`${reason}; the device did not restart it within ${waitMs} ms`);
    }, waitMs);
  }

  /** Send a request on the control channel and wait for its answer (`error` rejects with its code). */
  request(msg: RequestBody, timeoutMs = 5_000): Promise<DeviceToApp> {
    return this.control.request(msg, timeoutMs);
  }

  /**
   * Open a stream (`action=live&channel=0`, `action=playback&…`): its bytes go to the
   * returned receiver, acked every 200 ms, and, when given, to `onBytes` as whole FLV
   * units (a player's feed; a tag cut by a restart never reaches it). `onEnded`: the device
   * ended the stream (`stream_closed`, e.g. `end of recording`).
   */
  async open(params: string, timeoutMs = 5_000, onBytes?: (bytes: Uint8Array) => void, onEnded?: (reason: string) => void): Promise<StreamReceiver> {
    const openedAt = performance.now();
    const ok = await this.request({ op: 'open', params }, timeoutMs);
    if (ok.op !== 'ok' || ok.stream === undefined || ok.label === undefined) {
      throw new IvError('IV_ERR_PROTOCOL', 'open answered without a stream');
    }
    return this.streams.attach(ok.stream, ok.label, { timeoutMs, ...(onBytes ? { onBytes } : {}), ...(onEnded ? { onEnded } : {}) }, openedAt);
  }

  /** Close a stream the app opened. */
  async closeStream(stream: number): Promise<void> {
    this.streams.remove(stream);
    await this.request({ op: 'close', stream });
  }

  /** Stop (or resume) acking a stream: its backlog on the device grows until the watermarks pause it (tests). */
  setAcking(stream: number, on: boolean): void {
    this.streams.setAcking(stream, on);
  }

  /** Send a command (`command`, the `command` right); resolves with the device's reply (empty: the device closed the channel). */
  command(data: Uint8Array | string, timeoutMs = 5_000): Promise<Uint8Array> {
    return this.control.command(data, timeoutMs);
  }

  /** The device's channels: codecs, picture size and rate, and (with the playback right) the recorded ranges. */
  channels(timeoutMs = 5_000): Promise<ChannelInfo[]> {
    return this.control.channels(timeoutMs);
  }

  /** The device's clock offset from the ping with the smallest round trip of `samples`. */
  syncClock(samples = 3): Promise<{ rttMs: number; offsetMs: number }> {
    return this.control.syncClock(samples);
  }

  /**
   * The ICE candidate pair in use, from getStats: `local <type> <address> → remote <type>
   * <address>` (a browser's local candidate is usually `prflx`: the device learned it from
   * the browser's checks, its mDNS name was never resolved).
   */
  selectedPath(): Promise<string> {
    return selectedPath(this.current);
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
    clearTimeout(this.restartWait);
    this.streams.close();
    this.voice.close();
    this.control.closeAll();
    this.signaling?.bye(this.requestIds.get(this.current));
    this.current.close();
    this.signaling?.end();
  }
}
