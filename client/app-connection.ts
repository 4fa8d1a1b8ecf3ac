/**
 * app-connection — the app's peer connection to the device (node-datachannel) and its
 * replacement on the device's ICE restart (docs/PROTOCOL.md §3.1): the app's offer
 * (`a=setup:actpass`: the device is the DTLS client; candidates after their description
 * through the candidate gate), the
 * device's restart offer answered with a new peer connection (the old one and its
 * channels closed), and the wait for that offer when a connection that was up drops
 * because its path failed (`restartWaitMs`).
 * node-datachannel is loaded on the first connect (`loadRtc`), never by importing this
 * file: the entry points import the client, and a gateway's main thread must never load
 * it (its p2p worker does; two threads of one process loading it crash).
 * Owns: the current PeerConnection, every DataChannel of it, the restart bookkeeping
 * (`restarting`, `restarts`, `restartOffers`). Must never: act on events of a replaced
 * peer connection, or decide what a channel carries (the owner's `onChannel` does).
 */
import type nodeDataChannel from 'node-datachannel';
import type { DataChannel, PeerConnection } from 'node-datachannel';
import { CandidateGate } from '../shared/protocol/candidate-gate.js';
import { rtcConfig, setUpTransport, type RtcConfig } from '../shared/protocol/node-transport.js';
import type { AppSignal } from '../shared/protocol/signaling-messages.js';
import { CONTROL_LABEL, candidateOnBind, pathFailed } from '../shared/protocol/transport-rules.js';

type Rtc = typeof nodeDataChannel;
let rtc: Promise<Rtc> | undefined;
let loaded: Rtc | undefined;

/** node-datachannel, loaded (and set up) on first use in this thread. */
export function loadRtc(): Promise<Rtc> {
  rtc ??= import('node-datachannel').then((m) => (loaded = setUpTransport(m.default)));
  return rtc;
}

/** node-datachannel if this thread loaded it, else undefined. */
export function loadedRtc(): Rtc | undefined {
  return loaded;
}

export interface ConnectionHooks {
  publish(msg: AppSignal): void;
  /** A channel the device opened (control after a restart, `s<n>` streams). */
  onChannel(dc: DataChannel): void;
  /** The connection is gone (closed, failed before it was up, or no restart came). */
  lost(reason: string): void;
}

export class AppConnection {
  pc!: PeerConnection;
  private rtc!: Rtc;
  private config!: RtcConfig;
  /** Every channel of the current peer connection (an unreferenced one is collected and closes). */
  readonly channels = new Set<DataChannel>();
  /** Each peer connection's candidate gate (shared/protocol/candidate-gate.ts). */
  private readonly gates = new WeakMap<PeerConnection, CandidateGate>();
  /** Between the device's restart offer and the new control channel opening. */
  restarting: { startedAt: number; wantVoice: boolean } | undefined;
  /** The connection dropped after it was up: waiting for the device's restart offer. */
  private restartWait: NodeJS.Timeout | undefined;
  /** The control channel opened once: a later drop waits for the device's restart. */
  wasUp = false;
  /** Device-initiated ICE restarts this connection went through: how long each took (offer → control open). */
  readonly restarts: { ms: number }[] = [];
  /** Restart offers received from the device (each answered; a retry replaces the previous one). */
  restartOffers = 0;
  /** The `requestId` of the current peer connection (its offer's, or the restart offer's it answered). */
  requestId: string | undefined;
  /** performance.now() when the app's offer was published (-1 before). */
  offerSentAt = -1;
  private closed = false;

  constructor(private readonly opts: { peerId: string; token: string; bindAddress?: string; iceServers?: string[]; restartWaitMs?: number }, private readonly hooks: ConnectionHooks) {}

  /** Waiting for the device's restart offer after a drop. */
  get awaitingRestart(): boolean {
    return this.restartWait !== undefined;
  }

  /** The app's offer with its `control` channel (returned, not yet open); `requestId` names it; `ndc` from loadRtc(). */
  offer(requestId: string, ndc: Rtc): DataChannel {
    this.rtc = ndc;
    this.config = rtcConfig({ iceServers: this.opts.iceServers ?? [], bindAddress: this.opts.bindAddress });
    const pc = this.createPc(requestId);
    this.pc = pc;
    pc.onLocalDescription((sdp, type) => {
      if (type.toLowerCase() === 'offer') {
        this.publishDescription(pc, { type: 'offer', peer: this.opts.peerId, token: this.opts.token, requestId, ts: Date.now(), sdp });
      }
    });
    return this.createChannel(CONTROL_LABEL);
  }

  /** A channel the app opens on the current peer connection. */
  createChannel(label: string): DataChannel {
    const dc = this.pc.createDataChannel(label);
    this.channels.add(dc);
    return dc;
  }

  /** The device's answer to the app's offer. */
  takeAnswer(sdp: string): void {
    this.setRemote(sdp, 'answer');
  }

  remoteCandidate(c: { candidate: string; mid: string }): void {
    this.gates.get(this.pc)?.remote(c);
  }

  /**
   * The device's ICE-restart offer: answer it with a new peer connection; the old one
   * and everything it still carried are finished. `wantVoice`: voice was open.
   */
  restartFromOffer(requestId: string, sdp: string, wantVoice: boolean): void {
    this.restartOffers++;
    clearTimeout(this.restartWait);
    this.restartWait = undefined;
    this.restarting = { startedAt: performance.now(), wantVoice: this.restarting?.wantVoice ?? wantVoice };
    const old = { pc: this.pc, channels: [...this.channels] };
    this.channels.clear();
    const pc = this.createPc(requestId);
    this.pc = pc;
    pc.onLocalDescription((answer, type) => {
      if (pc === this.pc && type.toLowerCase() === 'answer') {
        this.publishDescription(pc, { type: 'answer', peer: this.opts.peerId, token: this.opts.token, requestId, sdp: answer });
      }
    });
    try {
      this.setRemote(sdp, 'offer');
    } catch (err) {
      this.hooks.lost(`the device's restart offer was unusable: ${(err as Error).message}`);
    }
    for (const dc of old.channels) {
      dc.close();
    }
    old.pc.close();
  }

  /** The control channel opened: the connection is up; a restart under way is finished (returned). */
  controlOpened(): { ms: number; wantVoice: boolean } | undefined {
    this.wasUp = true;
    const r = this.restarting;
    if (!r) {
      return undefined;
    }
    this.restarting = undefined;
    const info = { ms: Math.round(performance.now() - r.startedAt) };
    this.restarts.push(info);
    return { ...info, wantVoice: r.wantVoice };
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.restartWait);
    for (const dc of this.channels) {
      dc.close();
    }
    this.channels.clear();
    this.pc?.close();
  }

  /**
   * Publish a description; after an answer, the local candidates that waited for it. An
   * offer's candidates wait for the device's answer (PROTOCOL.md §3): set in takeAnswer.
   */
  private publishDescription(pc: PeerConnection, msg: AppSignal): void {
    if (msg.type === 'offer') {
      this.offerSentAt = performance.now();
    }
    this.hooks.publish(msg);
    if (msg.type === 'answer') {
      this.gates.get(pc)?.described();
    }
  }

  private setRemote(sdp: string, type: 'offer' | 'answer'): void {
    this.pc.setRemoteDescription(sdp, type);
    const gate = this.gates.get(this.pc);
    gate?.remoteDescribed();
    if (type === 'answer') {
      gate?.described(); // the offer's candidates go out now that the answer is set (§3)
    }
  }

  /**
   * A peer connection with the callbacks every one needs; events of a replaced one are
   * ignored. `requestId` names it (the app's offer, the device's restart offer): its
   * candidates carry it (PROTOCOL.md §2).
   */
  private createPc(requestId: string): PeerConnection {
    const pc = new this.rtc.PeerConnection(this.opts.peerId, this.config);
    this.requestId = requestId;
    const gate = new CandidateGate(pc, (c) => this.hooks.publish({ type: 'candidate', peer: this.opts.peerId, requestId, ...c }));
    this.gates.set(pc, gate);
    pc.onLocalCandidate((candidate, mid) => {
      if (pc === this.pc && candidateOnBind(candidate, this.opts.bindAddress)) {
        gate.local({ candidate, mid });
      }
    });
    pc.onDataChannel((dc) => {
      if (pc !== this.pc) {
        dc.close();
        return;
      }
      this.channels.add(dc);
      this.hooks.onChannel(dc);
    });
    pc.onStateChange((state) => {
      if (pc !== this.pc) {
        return;
      }
      if (state === 'connected') {
        clearTimeout(this.restartWait);
        this.restartWait = undefined;
      } else if (state === 'closed' || (state === 'failed' && !this.wasUp)) {
        this.hooks.lost(`peer connection ${state}`);
      } else if ((state === 'failed' || state === 'disconnected') && this.wasUp && !this.restarting) {
        // the path failed (ICE down): the device restarts it; ICE fine: the device closed it
        if (pathFailed(pc.iceState())) {
          this.awaitRestart(`peer connection ${state}`);
        } else {
          this.hooks.lost(`peer connection ${state}`);
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
      this.hooks.lost(`${reason}; the device did not restart it within ${waitMs} ms`);
    }, waitMs);
  }
}
