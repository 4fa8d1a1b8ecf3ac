/**
 * p2p-service — the main thread's half of the P2P module: runs signaling, spawns one
 * PeerActor per app on the pinned p2p worker, relays SDP and ICE candidates, and
 * removes a peer's actor when the app leaves or its connection closes.
 *
 * Admission: an offer from a new app beyond `admission.maxApps` is refused at signaling
 * (IV_ERR_BUSY with the reason); the stream budget is shared with the peer actors.
 * Owns: the signaling server, the per-peer request order (an offer, then the candidates
 * that follow it, are handled in arrival order even though spawning is async).
 * Must never: let one app's failure reach another app's actor.
 */
import type { ActorRef } from '../../runtime/actor-ref.js';
import type { ActorSystem } from '../../runtime/actor-system.js';
import { isIvError, isIvErrorCode } from '../../runtime/errors.js';
import type { Right } from './access-token.js';
import { PEER_ACTOR } from './index.js';
import type { CameraChannel, PeerArgs } from './PeerActor.js';
import { DEFAULT_ADMISSION, StreamBudget, type AdmissionLimits } from './admission.js';
import { createStatsBlock, readSlot, type SlotReading } from './send-stats-block.js';
import { SignalingServer } from './signaling.js';
import type { Watermarks } from './watermark.js';

export interface P2pServiceOptions {
  system: ActorSystem;
  /** The pinned worker that hosts node-datachannel. */
  worker: string;
  deviceId: string;
  secret: string | Buffer;
  brokerUrl: string;
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
  onPeerEvent?: (peer: string, event: { type: string; stream?: number; detail?: unknown }) => void;
}

export class P2pService {
  private readonly signaling: SignalingServer;
  private readonly peers = new Map<string, ActorRef>();
  private readonly statsBlocks = new Map<string, Float64Array>();
  private readonly order = new Map<string, Promise<void>>();
  private watermarks: Watermarks;
  private closed = false;
  private readonly admission: AdmissionLimits;
  /** Open streams over all apps of this device, shared with their peer actors. */
  readonly streamBudget: StreamBudget;

  private constructor(private readonly opts: P2pServiceOptions) {
    this.watermarks = opts.watermarks ?? { low: 0, warn: 0, high: 0 };
    this.admission = opts.admission ?? DEFAULT_ADMISSION;
    this.streamBudget = StreamBudget.create(this.admission.maxStreams);
    this.signaling = new SignalingServer({
      url: opts.brokerUrl,
      deviceId: opts.deviceId,
      secret: opts.secret,
      handler: {
        offer: (peer, m) => this.inOrder(peer, () => this.onOffer(peer, m.requestId, m.sdp, m.claims.rights, m.claims.expires)),
        candidate: (peer, candidate, mid) => this.inOrder(peer, async () => {
          this.peers.get(peer)?.notify('P2P_PEER_REMOTE_CANDIDATE', { candidate, mid });
        }),
        answer: () => undefined,
        bye: (peer) => this.inOrder(peer, () => this.drop(peer)),
      },
    });
  }

  static async start(opts: P2pServiceOptions): Promise<P2pService> {
    const service = new P2pService(opts);
    await service.signaling.whenReady();
    return service;
  }

  /** Peer actors are named per device, so devices can share one p2p worker. */
  private actorId(peer: string): string {
    return `peer:${this.opts.deviceId}:${peer}`;
  }

  /** Ids of the apps currently connected (or connecting). */
  get peerIds(): string[] {
    return [...this.peers.keys()];
  }

  peer(id: string): ActorRef | undefined {
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

  private async onOffer(peer: string, requestId: string, sdp: string, rights: Right[], expires: number): Promise<void> {
    if (this.closed) {
      this.signaling.refuse(peer, requestId, 'IV_ERR_CLOSED', 'the device is shutting down');
      return;
    }
    let ref = this.peers.get(peer);
    if (!ref && this.peers.size >= this.admission.maxApps) {
      this.signaling.refuse(peer, requestId, 'IV_ERR_BUSY', `admission: the device already serves ${this.peers.size} apps (its limit is ${this.admission.maxApps}); try again later`);
      return;
    }
    try {
      if (!ref) {
        const stats = createStatsBlock();
        this.statsBlocks.set(peer, new Float64Array(stats));
        const args: PeerArgs = { peer, stats, cameras: this.opts.cameras, ice: this.opts.ice, watermarks: this.watermarks, customSource: this.opts.customSource === true, streamBudget: { buffer: this.streamBudget.buffer, limit: this.streamBudget.limit } };
        ref = await this.opts.system.spawn(this.opts.worker, { id: this.actorId(peer), module: PEER_ACTOR, args, restart: 'temporary', handlerTimeoutMs: 10_000 });
        this.peers.set(peer, ref);
        ref.onNotification('P2P_PEER_LOCAL_CANDIDATE', (b) => {
          const c = b as { candidate: string; mid: string };
          this.signaling.sendCandidate(peer, c.candidate, c.mid);
        });
        const peerRef = ref;
        ref.onNotification('P2P_PEER_COMMAND', (b) => {
          const c = b as { id: number; data: Uint8Array };
          void this.runCommand(peer, peerRef, c.id, c.data);
        });
        ref.onNotification('P2P_PEER_VOICE', (b) => {
          this.inVoiceOrder(peer, b as { type: 'start' | 'frame' | 'end'; params?: string; data?: Uint8Array });
        });
        ref.onNotification('P2P_PEER_EVENT', (b) => {
          const e = b as { type: string; stream?: number; detail?: unknown };
          this.opts.onPeerEvent?.(peer, e);
          if (e.type === 'closed') {
            this.inOrder(peer, () => this.drop(peer));
          }
        });
      }
      const answer = await ref.call('P2P_PEER_OFFER', { requestId, sdp, rights, expires }, { timeoutMs: 10_000 }) as { sdp: string };
      this.signaling.sendAnswer(peer, requestId, answer.sdp);
    } catch (err) {
      const code = isIvError(err) && isIvErrorCode(err.code) ? err.code : 'IV_ERR_INTERNAL';
      this.signaling.refuse(peer, requestId, code, (err as Error).message);
      await this.drop(peer);
    }
  }

  private async runCommand(peer: string, ref: ActorRef, id: number, data: Uint8Array): Promise<void> {
    if (!this.opts.commandActor) {
      ref.notify('P2P_PEER_REPLY', { id, code: 'IV_ERR_NOT_SUPPORTED', message: 'this device takes no commands (no onCommand)' });
      return;
    }
    const deadlineMs = this.opts.commandDeadlineMs ?? 2_000;
    try {
      const r = await this.opts.system.ref(this.opts.commandActor).call('COMMAND_RUN', { callback: `onCommand:${this.opts.deviceId}`, peer, data, deadlineMs }, { timeoutMs: deadlineMs + 500 }) as { data: Uint8Array };
      ref.notify('P2P_PEER_REPLY', { id, data: r.data });
    } catch (err) {
      const code = isIvError(err) ? (err.code === 'IV_ERR_REQUEST_TIMEOUT' ? 'IV_ERR_TIMEOUT' : err.code) : 'IV_ERR_INTERNAL';
      ref.notify('P2P_PEER_REPLY', { id, code, message: `onCommand failed: ${(err as Error).message}` });
    }
  }

  private readonly voiceOrder = new Map<string, Promise<void>>();

  /** Voice frames of one app reach the voice actor in the order they arrived. */
  private inVoiceOrder(peer: string, ev: { type: 'start' | 'frame' | 'end'; params?: string; data?: Uint8Array }): void {
    const actor = this.opts.voiceActor;
    if (!actor) {
      return;
    }
    const ref = this.opts.system.ref(actor);
    const next = (this.voiceOrder.get(peer) ?? Promise.resolve()).then(async () => {
      const callback = this.opts.deviceId;
      if (ev.type === 'start') {
        await ref.call('VOICE_START', { callback, peer, params: ev.params ?? '' });
      } else if (ev.type === 'frame' && ev.data) {
        await ref.call('VOICE_FRAME', { callback, peer, data: ev.data });
      } else if (ev.type === 'end') {
        await ref.call('VOICE_END', { callback, peer });
      }
    }).catch(() => undefined);
    this.voiceOrder.set(peer, next);
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

  private async drop(peer: string): Promise<void> {
    if (this.voiceOrder.has(peer)) {
      this.inVoiceOrder(peer, { type: 'end' });
      this.voiceOrder.delete(peer);
    }
    this.statsBlocks.delete(peer);
    if (this.peers.delete(peer)) {
      await this.opts.system.despawn(this.actorId(peer)).catch(() => undefined);
    }
  }

  /** iv_avt_p2p_set_buf_watermark: global, applied to every stream of every app. */
  async setWatermarks(w: Watermarks): Promise<void> {
    this.watermarks = w;
    await Promise.all([...this.peers.values()].map((ref) => ref.call('P2P_SET_WATERMARK', w).catch(() => undefined)));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const peer of [...this.peers.keys()]) {
      this.signaling.bye(peer, 'device shutting down');
      await this.drop(peer);
    }
    await this.signaling.close();
  }
}
