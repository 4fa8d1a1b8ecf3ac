/**
 * peer-recovery — how the p2p service brings apps' connections back (the SDK's
 * p2p_keep_alive_cfg events, keep-alive.ts): on an address change every app's connection
 * is ICE-restarted (the peer actor offers a new transport, the app's streams go on); when
 * a round of probes is lost, or a peer actor crashes, the peers whose connection is gone
 * (not connected, streaming but silent, or not answering) are respawned: the actor is
 * replaced by a fresh one that takes over the app's session (rights, live streams by
 * number; playback streams are told `stream_closed` and their numbers freed).
 *
 * Owns: the health rule (what counts as gone) and the respawn's hand-over of a session.
 * Must never: touch a healthy app's connection, act on an actor that was already replaced,
 * or spawn and forget peer actors itself (the service's `spawnPeer` and `drop` do).
 */
import type { ActorRef } from '../../runtime/actor-ref.js';
import type { ActorSystem } from '../../runtime/actor-system.js';
import { isLiveStream } from '../../shared/protocol/stream-params.js';
import type { PeerEvent } from './peer-events.js';
import type { PeerMethods } from './peer-methods.js';
import { streamClosed, type AppSession, type SessionResume } from './session.js';

/** A peer not heard for this long while streaming (it acks every 100..250 ms) has lost its connection. */
export const SILENT_MS = 1_500;

/** What recovery works with, all of it the service's (p2p-service.ts). */
export interface PeerRecoveryDeps {
  system: Pick<ActorSystem, 'despawn'>;
  /** Each app's peer actor; only spawnPeer and drop change it (and a respawn's removal of the old one). */
  peers: Map<string, ActorRef<PeerMethods>>;
  /** Each connected app's session: what a fresh actor takes over. */
  sessions: ReadonlyMap<string, AppSession>;
  /** The requestId of each app's current connection: an app without one never connected. */
  connections: ReadonlyMap<string, string>;
  /** Every stream is the firmware's own bytes (onSendGet): all of them resume, none is playback. */
  customSource: boolean;
  closed: () => boolean;
  actorId: (peer: string) => string;
  /** A peer actor for `peer` that takes over `resume`, its notifications wired. */
  spawnPeer: (peer: string, resume: SessionResume) => Promise<ActorRef<PeerMethods>>;
  drop: (peer: string, ref?: ActorRef<PeerMethods>) => Promise<void>;
  report: (peer: string, event: Exclude<PeerEvent, { type: 'stream-origin' }>) => void;
}

export class PeerRecovery {
  constructor(private readonly d: PeerRecoveryDeps) {}

  /** ICE-restart every connected app (PEER_ADDR_CHANGED); an actor that does not answer is replaced. */
  async restartAll(reason: string): Promise<void> {
    await Promise.all([...this.d.peers.keys()].map(async (peer) => {
      try {
        await this.d.peers.get(peer)?.call('P2P_PEER_RESTART', { reason }, { timeoutMs: 2_000 });
      } catch {
        await this.respawn(peer, reason);
      }
    }));
  }

  /**
   * PEER_ERROR: replace the peer actors whose established connection is gone — not connected, or
   * streaming and silent for SILENT_MS, or not answering — with fresh ones that take
   * over the app's session. Healthy peers are left alone. Judged SILENT_MS after the
   * error, so that a path that broke with the probes has had time to fall silent.
   */
  async restartAffected(reason: string, settleMs = SILENT_MS): Promise<void> {
    await new Promise((r) => setTimeout(r, settleMs));
    if (this.d.closed()) {
      return;
    }
    await Promise.all([...this.d.peers.keys()].map(async (peer) => {
      let healthy = false;
      try {
        const h = await this.d.peers.get(peer)?.call('P2P_PEER_HEALTH', {}, { timeoutMs: 1_000 });
        // a connection still being set up has its own connect timeout and retry (the app's)
        healthy = h !== undefined && (!h.established || (h.connected && (h.streams === 0 || h.silentMs < SILENT_MS)));
      } catch {
        healthy = false;
      }
      if (!healthy) {
        await this.respawn(peer, reason);
      }
    }));
  }

  /**
   * The app's peer actor crashed: a connected app's session goes on in a fresh actor that
   * offers it a new connection (as after PEER_ERROR); one not yet connected is dropped, and
   * its next offer starts afresh. Never acts on an actor that was already replaced.
   */
  async onCrash(peer: string, ref: ActorRef<PeerMethods>, reason: string): Promise<void> {
    if (this.d.peers.get(peer) !== ref || this.d.closed()) {
      return;
    }
    if (this.d.sessions.has(peer) && this.d.connections.has(peer)) {
      await this.respawn(peer, reason);
      return;
    }
    this.d.report(peer, { type: 'closed', detail: { state: 'actor-exited', reason } });
    await this.d.drop(peer, ref);
  }

  /** The supervisor's restart of one app's channel actor: a fresh actor resumes the session and offers the app a new connection. */
  private async respawn(peer: string, reason: string): Promise<void> {
    const session = this.d.sessions.get(peer);
    if (!session || !this.d.peers.has(peer) || this.d.closed()) {
      return;
    }
    const t0 = performance.now();
    this.d.peers.delete(peer);
    await this.d.system.despawn(this.d.actorId(peer)).catch(() => undefined);
    const streams: SessionResume['streams'] = [];
    let resumed = 0;
    for (const { stream, params, originMs } of [...session.streams]) {
      streams.push(originMs === undefined ? { stream, params } : { stream, params, originMs });
      if (this.d.customSource || isLiveStream(params)) {
        resumed++;
      } else {
        // the new actor tells the app (`stream_closed`, resumeStreams); the number is free again
        streamClosed(session, stream);
        this.d.report(peer, { type: 'stream-close', stream, detail: { reason: 'the device restarted the connection' } });
      }
    }
    try {
      const ref = await this.d.spawnPeer(peer, { rights: session.rights, expires: session.expires, streams, reason });
      await ref.call('P2P_PEER_RESTART', { reason }, { timeoutMs: 2_000 });
      this.d.report(peer, { type: 'respawned', detail: { reason, ms: Math.round(performance.now() - t0), streams: resumed } });
    } catch (err) {
      this.d.report(peer, { type: 'closed', detail: { state: 'restart-failed', reason: (err as Error).message } });
      await this.d.drop(peer);
    }
  }
}
