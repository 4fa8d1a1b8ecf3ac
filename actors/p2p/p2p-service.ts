/**
 * p2p-service — the main thread's half of the P2P module: runs signaling, spawns one
 * PeerActor per app on the pinned p2p worker, relays SDP and ICE candidates, and
 * removes a peer's actor when the app leaves or its connection closes.
 *
 * Admission: an offer from a new app beyond `admission.maxApps` is refused at signaling
 * (IV_ERR_BUSY with the reason); the stream budget is shared with the peer actors.
 *
 * Keep-alive and recovery (the SDK's p2p_keep_alive_cfg, keep-alive.ts): on an address
 * change signaling reconnects from the new address, then every app's connection is
 * ICE-restarted; when a whole round of probes is lost (keep-alive off: when the broker
 * connection is lost), or a peer actor crashes, the peers whose connection is gone are
 * respawned (peer actors are `temporary`), each taking over
 * its app's session: peer-recovery.ts.
 * An app's signals (offer, answer, candidates, bye) are handled by peer-signals.ts, in
 * the order this service keeps; commands and voice go on to the device's callbacks
 * through app-requests.ts.
 * Events: `peer` (peer-events.ts), `network` (keep-alive results), `refused` (a signaling
 * request refused, with its code), `first-frame`, `listenererror`.
 * Owns: the signaling server, the keep-alive prober, each app's session (session.ts), the
 * per-peer request order (an offer, then the candidates that follow it, are handled in
 * arrival order even though spawning is async).
 * Must never: let one app's failure reach another app's actor.
 */
import type { ActorRef } from '../../runtime/actor-ref.js';
import { TrimAfterLeave } from '../../runtime/allocator.js';
import { releaseHeap } from '../../runtime/heap.js';
import type { PeerMethods } from './peer-methods.js';
import type { ActorSystem } from '../../runtime/actor-system.js';
import type { IvErrorCode } from '../../runtime/errors.js';
import { AppRequests } from './app-requests.js';
import { TypedEmitter } from '../../runtime/typed-emitter.js';
import { PEER_ACTOR } from './index.js';
import type { PeerEvent } from './peer-events.js';
import type { CameraChannel, PeerArgs } from './peer-state.js';
import { streamClosed, streamOpened, streamOrigin, type AppSession, type SessionResume } from './session.js';
import { PeerRecovery } from './peer-recovery.js';
import { KeepAlive, type NetworkEvent } from './keep-alive.js';
import { DEFAULT_ADMISSION, StreamBudget, type AdmissionLimits } from './admission.js';
import { createStatsBlock, readSlot, type SlotReading } from './send-stats-block.js';
import { SignalingServer, type SignalingOptions } from './signaling.js';
import { OfferLimiter, type OfferLimits } from './offer-limiter.js';
import { PeerSignals } from './peer-signals.js';
import type { Watermarks } from './watermark.js';

export interface P2pServiceOptions {
  system: ActorSystem;
  /** The pinned worker that hosts node-datachannel. */
  worker: string;
  deviceId: string;
  secret: string | Buffer;
  brokerUrl: string;
  /** MQTT credentials/TLS and the start-up retry report for an external broker (signaling.ts). */
  broker?: Pick<SignalingOptions, 'connectOptions' | 'onConnectError'>;
  cameras: CameraChannel[];
  ice: PeerArgs['ice'];
  watermarks?: Watermarks;
  /** Streams carry bytes from `send()` (the SDK's onSendGet) instead of the built-in FLV. */
  customSource?: boolean;
  /** Actor ids of the command and voice actors; without them commands/voice are refused. */
  commandActor?: string;
  voiceActor?: string;
  commandDeadlineMs?: number;
  /** Refuse apps and streams beyond these (default DEFAULT_ADMISSION). */
  admission?: AdmissionLimits;
  /** Offer rate limits (default DEFAULT_OFFER_LIMITS). */
  offerLimits?: OfferLimits;
  /** This long after a burst of departures, the p2p worker and this thread collect, then freed native memory goes back to the system (runtime/allocator.ts); 0: never. Default 2000 ms. */
  trimAfterLeaveMs?: number;
  /** Probe the STUN server (p2p_keep_alive_cfg); absent: no keep-alive. */
  keepAlive?: { server: string; timeInterS: number; maxAttemptNum: number; bindAddress?: string };
}

/** What the service reports; a listener that throws is reported on `listenererror`. */
export type P2pServiceEvents = {
  /** An app's connection or stream changed (peer-events.ts); `stream-origin` stays inside. */
  peer: [peer: string, event: Exclude<PeerEvent, { type: 'stream-origin' }>];
  /** Keep-alive results, as they happen (the restarts they cause follow as `peer` events). */
  network: [event: NetworkEvent];
  /** A signaling request refused (bad token, replay, rate limit, admission…): the reason, never the token. */
  refused: [peer: string, code: IvErrorCode, reason: string];
  /** A live stream's first frame went out `ms` after the stream opened. */
  'first-frame': [peer: string, stream: number, ms: number];
};

/** One app as the operator sees it (`/api/status`). */
export interface AppSnapshot {
  peer: string;
  rights: string[];
  streams: { stream: number; params: string; sent: number; acked: number; backlog: number; rateKbps: number }[];
}

export class P2pService extends TypedEmitter<P2pServiceEvents> {
  private readonly signaling: SignalingServer;
  private readonly peers = new Map<string, ActorRef<PeerMethods>>();
  private readonly statsBlocks = new Map<string, Float64Array>();
  private readonly order = new Map<string, Promise<void>>();
  /** Each connected app's session (session.ts): it survives the app's peer actor. */
  private readonly sessions = new Map<string, AppSession>();
  /** The requestId of each app's current connection (its offer, or the device's restart offer): named on down candidates and byes. */
  private readonly connections = new Map<string, string>();
  /** When each app's pending offer arrived (performance.now()), for its connect time. */
  private readonly offerAt = new Map<string, number>();
  private keepAlive: KeepAlive | undefined;
  private watermarks: Watermarks;
  private closed = false;
  private readonly admission: AdmissionLimits;
  /** Open streams over all apps of this device, shared with their peer actors. */
  readonly streamBudget: StreamBudget;
  /** Offers per peer and device-wide. */
  readonly offers: OfferLimiter;
  /** After a burst of departures, the isolates that held the apps collect, then one malloc_trim: what their connections took goes back (bench weak-network). */
  readonly trim: TrimAfterLeave;
  /** Commands and voice on their way to the device's callbacks (app-requests.ts). */
  private readonly requests: AppRequests;
  /** ICE restarts and respawns (peer-recovery.ts). */
  private readonly recovery: PeerRecovery;

  private constructor(private readonly opts: P2pServiceOptions) {
    super();
    this.trim = new TrimAfterLeave(opts.trimAfterLeaveMs ?? 2_000, () => this.releaseMemory());
    this.requests = new AppRequests(opts);
    this.watermarks = opts.watermarks ?? { low: 0, warn: 0, high: 0 };
    this.admission = opts.admission ?? DEFAULT_ADMISSION;
    this.streamBudget = StreamBudget.create(this.admission.maxStreams);
    this.offers = new OfferLimiter(opts.offerLimits);
    this.recovery = new PeerRecovery({
      system: opts.system,
      peers: this.peers,
      sessions: this.sessions,
      connections: this.connections,
      customSource: opts.customSource === true,
      closed: () => this.closed,
      actorId: (peer) => this.actorId(peer),
      spawnPeer: (peer, resume) => this.spawnPeer(peer, resume),
      drop: (peer, ref) => this.drop(peer, ref),
      report: (peer, event) => this.emit('peer', peer, event),
    });
    this.signaling = new SignalingServer({
      url: opts.brokerUrl,
      ...opts.broker,
      onRefused: (peer, code, reason) => this.emit('refused', peer, code, reason),
      deviceId: opts.deviceId,
      secret: opts.secret,
      handler: new PeerSignals({
        signaling: () => this.signaling,
        offers: this.offers,
        maxApps: this.admission.maxApps,
        peers: this.peers,
        connections: this.connections,
        sessions: this.sessions,
        offerAt: this.offerAt,
        closed: () => this.closed,
        inOrder: (peer, fn) => this.inOrder(peer, fn),
        spawnPeer: (peer) => this.spawnPeer(peer, undefined),
        drop: (peer, ref) => this.drop(peer, ref),
        report: (peer, event) => this.emit('peer', peer, event),
      }),
    });
  }

  /** Start signaling (and the keep-alive); `listen` attaches listeners before any event can fire. */
  static async start(opts: P2pServiceOptions, listen?: (service: P2pService) => void): Promise<P2pService> {
    const service = new P2pService(opts);
    listen?.(service);
    await service.signaling.whenReady();
    if (opts.keepAlive) {
      service.keepAlive = new KeepAlive({ ...opts.keepAlive, onEvent: (e) => void service.onNetwork(e) });
      service.keepAlive.start();
    } else {
      // keep-alive off: the broker connection (its MQTT keep-alive) judges the network, as the SDK does
      service.signaling.onLink((up) => {
        if (!service.closed) {
          void service.onNetwork(up ? { type: 'ready' } : { type: 'error', reason: 'the connection to the broker was lost (keep-alive off: the MQTT keep-alive judges the network)' });
        }
      });
    }
    return service;
  }

  /** The keep-alive's view: `up` once a probe round was answered (`address` is the mapped one). */
  get network(): { status: string; address: string | undefined } | undefined {
    return this.keepAlive && { status: this.keepAlive.status, address: this.keepAlive.address };
  }

  /** The event first (the user hears of it at once), then what it calls for; each restart is a peer event. */
  private async onNetwork(e: NetworkEvent): Promise<void> {
    this.emit('network', e);
    if (e.type === 'addr-changed') {
      // the broker connection left from the old address: renew it before the offers go out
      await this.signaling.reconnect().catch(() => undefined);
      await this.restartAll(`address changed from ${e.from} to ${e.to}`);
    } else if (e.type === 'error') {
      await this.restartAffected(`network error: ${e.reason}`);
    }
  }

  /** ICE-restart every connected app (PEER_ADDR_CHANGED); an actor that does not answer is replaced. */
  restartAll(reason: string): Promise<void> {
    return this.recovery.restartAll(reason);
  }

  /** PEER_ERROR: replace the peer actors whose connection is gone (peer-recovery.ts); healthy ones are left alone. */
  restartAffected(reason: string, settleMs?: number): Promise<void> {
    return this.recovery.restartAffected(reason, settleMs);
  }

  /** Peer actors are named per device, so devices can share one p2p worker. */
  private actorId(peer: string): string {
    return `peer:${this.opts.deviceId}:${peer}`;
  }

  /** Is the device connected to its broker now (apps can reach it)? */
  get signalingConnected(): boolean {
    return this.signaling.connected;
  }

  /** Every app with its open streams and their send statistics (shared memory; synchronous). */
  snapshot(): AppSnapshot[] {
    return [...this.peers.keys()].map((peer) => {
      const session = this.sessions.get(peer);
      const block = this.statsBlocks.get(peer);
      return {
        peer,
        rights: [...(session?.rights ?? [])],
        streams: (session?.streams ?? []).map(({ stream, params }) => {
          const r = block ? readSlot(block, stream) : undefined;
          return { stream, params, sent: r?.sent ?? 0, acked: r?.sumSentAcked ?? 0, backlog: r?.backlog ?? 0, rateKbps: Math.round(((r?.aveSentRate ?? 0) * 8) / 1000) };
        }),
      };
    });
  }

  /** Bytes sent, acknowledged and in flight over every open stream (for metrics). */
  sendTotals(): { sent: number; acked: number; backlog: number } {
    const t = { sent: 0, acked: 0, backlog: 0 };
    for (const app of this.snapshot()) {
      for (const st of app.streams) {
        t.sent += st.sent;
        t.acked += st.acked;
        t.backlog += st.backlog;
      }
    }
    return t;
  }

  /** Ids of the apps currently connected (or connecting). */
  get peerIds(): string[] {
    return [...this.peers.keys()];
  }

  peer(id: string): ActorRef<PeerMethods> | undefined {
    return this.peers.get(id);
  }

  private inOrder(peer: string, fn: () => Promise<void>): void {
    const next = (this.order.get(peer) ?? Promise.resolve()).then(fn).catch(() => undefined);
    this.order.set(peer, next);
    void next.then(() => {
      if (this.order.get(peer) === next) {
        this.order.delete(peer);
      }
    });
  }

  /** Spawn an app's peer actor (fresh, or taking over `resume`) and wire its notifications. */
  private async spawnPeer(peer: string, resume: SessionResume | undefined): Promise<ActorRef<PeerMethods>> {
    let stats = this.statsBlocks.get(peer)?.buffer as SharedArrayBuffer | undefined;
    if (!stats) {
      stats = createStatsBlock();
      this.statsBlocks.set(peer, new Float64Array(stats));
    }
    const args: PeerArgs = { peer, stats, cameras: this.opts.cameras, ice: this.opts.ice, watermarks: this.watermarks, customSource: this.opts.customSource === true, streamBudget: { buffer: this.streamBudget.buffer, limit: this.streamBudget.limit } };
    if (resume) {
      args.resume = resume;
    }
    const ref = await this.opts.system.spawn(this.opts.worker, { id: this.actorId(peer), module: PEER_ACTOR, args, restart: 'temporary', handlerTimeoutMs: 10_000 });
    this.peers.set(peer, ref);
    ref.onExit((err) => this.inOrder(peer, () => this.recovery.onCrash(peer, ref, err.message)));
    ref.onNotification('P2P_PEER_LOCAL_CANDIDATE', (b) => {
      this.signaling.sendCandidate(peer, this.connections.get(peer), b.candidate, b.mid);
    });
    ref.onNotification('P2P_PEER_SIGNAL_OFFER', (b) => {
      this.connections.set(peer, b.requestId);
      this.signaling.sendOffer(peer, b.requestId, b.sdp, true);
    });
    ref.onNotification('P2P_PEER_COMMAND', (b) => {
      void this.requests.command(peer, ref, b.id, b.data);
    });
    ref.onNotification('P2P_PEER_VOICE', (b) => {
      this.requests.voice(peer, b);
    });
    ref.onNotification('P2P_PEER_EVENT', (b) => {
      const e = b;
      const session = this.sessions.get(peer);
      if (e.type === 'stream-open' && session) {
        streamOpened(session, e.stream, e.detail.params);
      } else if (e.type === 'stream-origin') {
        if (session) {
          streamOrigin(session, e.stream, e.detail.originMs);
        }
        if (e.detail.firstFrameMs !== undefined) {
          this.emit('first-frame', peer, e.stream, e.detail.firstFrameMs);
        }
        return; // bookkeeping only
      } else if (e.type === 'stream-close' && session) {
        streamClosed(session, e.stream);
      }
      const offered = e.type === 'connected' ? this.offerAt.get(peer) : undefined;
      if (offered !== undefined) {
        this.offerAt.delete(peer);
        this.emit('peer', peer, { type: 'connected', detail: { connectMs: performance.now() - offered } });
      } else {
        this.emit('peer', peer, e);
      }
      if (e.type === 'closed') {
        this.inOrder(peer, () => this.drop(peer, ref));
      }
    });
    return ref;
  }

  /** Bytes for a custom stream (the SDK's onSendGet output). */
  send(peer: string, stream: number, data: Uint8Array): boolean {
    return this.peers.get(peer)?.notify('P2P_PEER_SEND', { stream, data }) ?? false;
  }

  /** The latest send statistics of one stream, read from shared memory (synchronous). */
  streamStats(peer: string, stream: number): SlotReading | undefined {
    const block = this.statsBlocks.get(peer);
    return block ? readSlot(block, stream) : undefined;
  }

  /** Forget an app (its session, its actor); given `ref`, only if that actor still serves it. */
  private async drop(peer: string, ref?: ActorRef<PeerMethods>): Promise<void> {
    if (ref !== undefined && this.peers.get(peer) !== ref) {
      return; // an event of an actor already replaced (respawned, or a newer offer's)
    }
    this.requests.left(peer);
    this.statsBlocks.delete(peer);
    this.offerAt.delete(peer);
    this.sessions.delete(peer);
    this.connections.delete(peer);
    if (this.peers.delete(peer)) {
      await this.opts.system.despawn(this.actorId(peer)).catch(() => undefined);
      this.trim.left();
    }
  }

  /** iv_avt_p2p_set_buf_watermark: global, applied to every stream of every app. */
  async setWatermarks(w: Watermarks): Promise<void> {
    this.watermarks = w;
    await Promise.all([...this.peers.values()].map((ref) => ref.call('P2P_SET_WATERMARK', w).catch(() => undefined)));
  }

  /**
   * What the trim after departures asks first: V8's low-memory notification on the p2p
   * worker (the peers' actors and their node-datachannel wrappers, freed natively by their
   * finalizers) and on this thread (the signaling's sessions and sockets).
   */
  private async releaseMemory(): Promise<void> {
    await this.opts.system.worker(this.opts.worker)?.request('sys', 'SYS_RELEASE_MEMORY', {}, 10_000);
    await releaseHeap();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.keepAlive?.stop();
    this.trim.close();
    for (const peer of [...this.peers.keys()]) {
      this.signaling.bye(peer, 'device shutting down', this.connections.get(peer));
      await this.drop(peer);
    }
    await this.signaling.close();
  }
}
