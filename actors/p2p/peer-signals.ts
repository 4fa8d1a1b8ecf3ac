/**
 * peer-signals — what the p2p service does with one app's signals (docs/PROTOCOL.md §2):
 * the handler table the signaling server calls. An offer (rate limit, shutdown, admission,
 * the app's peer actor spawned or reused, the answer sent, the connection it replaces
 * told bye), the app's answer to the device's restart offer, and candidates and byes,
 * which act only when the requestId they name is the app's current connection. Every
 * signal runs in its peer's arrival order (the service's queue, `inOrder`).
 *
 * Owns: what each signal does, and the rule of which connection a requestId names.
 * Must never: spawn, despawn or forget a peer actor itself (the service's `spawnPeer`
 * and `drop` do, handed in), or let a candidate or bye naming a replaced connection
 * reach or end the app's current one (an answer's requestId the peer actor checks).
 */
import type { ActorRef } from '../../runtime/actor-ref.js';
import { isIvError, isIvErrorCode } from '../../runtime/errors.js';
import type { TokenClaims } from '../../shared/protocol/access-token.js';
import type { Grant } from '../../shared/protocol/rights.js';
import type { OfferLimiter } from './offer-limiter.js';
import type { PeerEvent } from './peer-events.js';
import type { PeerMethods } from './peer-methods.js';
import { newSession, type AppSession } from './session.js';
import type { SignalingHandler, SignalingServer } from './signaling.js';

/** What the table works with, all of it the service's (p2p-service.ts). */
export interface PeerSignalsDeps {
  /** The server this table is handed to (created with it, hence a function): refusals, answers, byes. */
  signaling: () => Pick<SignalingServer, 'refuse' | 'sendAnswer' | 'bye'>;
  /** Offers per peer and device-wide, checked before anything is queued or built (offer-limiter.ts). */
  offers: Pick<OfferLimiter, 'check'>;
  /** Apps beyond this many are refused (admission.maxApps). */
  maxApps: number;
  /** Each app's peer actor; only spawnPeer and drop change it. */
  peers: ReadonlyMap<string, ActorRef<PeerMethods>>;
  /** The requestId of each app's current connection: an accepted offer makes its own the current one. */
  connections: Map<string, string>;
  /** Each connected app's session: an offer starts a new one from its grant. */
  sessions: Map<string, AppSession>;
  /** When each app's pending offer arrived (performance.now()), for its connect time. */
  offerAt: Map<string, number>;
  /** Is the service shutting down? */
  closed: () => boolean;
  /** Run `fn` after everything queued for `peer` before it. */
  inOrder: (peer: string, fn: () => Promise<void>) => void;
  /** A fresh peer actor for `peer`, its notifications wired. */
  spawnPeer: (peer: string) => Promise<ActorRef<PeerMethods>>;
  /** Forget an app; given `ref`, only if that actor still serves it. */
  drop: (peer: string, ref?: ActorRef<PeerMethods>) => Promise<void>;
  /** Report an app's connection event (the service's `peer` event). */
  report: (peer: string, event: Exclude<PeerEvent, { type: 'stream-origin' }>) => void;
}

export class PeerSignals implements SignalingHandler {
  constructor(private readonly deps: PeerSignalsDeps) {}

  offer(peer: string, m: { requestId: string; sdp: string; claims: TokenClaims }): void {
    const limited = this.deps.offers.check(peer); // before anything is queued or built (offer-limiter.ts)
    if (limited) {
      this.deps.signaling().refuse(peer, m.requestId, 'IV_ERR_BUSY', limited);
      return;
    }
    this.deps.inOrder(peer, () => this.onOffer(peer, m.requestId, m.sdp, m.claims));
  }

  candidate(peer: string, candidate: string, mid: string, requestId: string | undefined): void {
    this.deps.inOrder(peer, async () => {
      if (this.current(peer, requestId)) {
        this.deps.peers.get(peer)?.notify('P2P_PEER_REMOTE_CANDIDATE', { candidate, mid });
      }
    });
  }

  answer(peer: string, m: { requestId: string; sdp: string }): void {
    this.deps.inOrder(peer, () => this.onAnswer(peer, m.requestId, m.sdp));
  }

  bye(peer: string, requestId: string | undefined): void {
    this.deps.inOrder(peer, async () => {
      if (!this.current(peer, requestId)) {
        return; // that connection was already replaced: the peer id's newer one stays
      }
      if (this.deps.peers.has(peer)) {
        this.deps.report(peer, { type: 'closed', detail: { state: 'bye' } });
      }
      await this.deps.drop(peer);
    });
  }

  /**
   * A candidate or bye naming `requestId` concerns the peer's current connection (PROTOCOL.md
   * §2.1): one naming a replaced connection (another app under the same peer id, a late
   * message of an earlier attempt) is dropped, so it can neither fill the current
   * connection's candidate table nor end it. Without a requestId (a v1 app): the current one.
   */
  private current(peer: string, requestId: string | undefined): boolean {
    return requestId === undefined || this.deps.connections.get(peer) === requestId;
  }

  private async onAnswer(peer: string, requestId: string, sdp: string): Promise<void> {
    const ref = this.deps.peers.get(peer);
    if (!ref) {
      this.deps.signaling().refuse(peer, requestId, 'IV_ERR_INVALID_PARAM', 'requestId: no device offer is waiting for an answer from this app');
      return;
    }
    try {
      await ref.call('P2P_PEER_ANSWER', { requestId, sdp }, { timeoutMs: 5_000 });
    } catch (err) {
      const code = isIvError(err) && isIvErrorCode(err.code) ? err.code : 'IV_ERR_INTERNAL';
      this.deps.signaling().refuse(peer, requestId, code, (err as Error).message);
    }
  }

  private async onOffer(peer: string, requestId: string, sdp: string, grant: Grant): Promise<void> {
    const { peers, connections, signaling } = this.deps;
    if (this.deps.closed()) {
      signaling().refuse(peer, requestId, 'IV_ERR_CLOSED', 'the device is shutting down');
      return;
    }
    let ref = peers.get(peer);
    if (!ref && peers.size >= this.deps.maxApps) {
      signaling().refuse(peer, requestId, 'IV_ERR_BUSY', `admission: the device already serves ${peers.size} apps (its limit is ${this.deps.maxApps}); try again later`);
      return;
    }
    if (ref?.exitError) {
      await this.deps.drop(peer, ref); // its actor is gone (the crash is handled in order before this): start afresh
      ref = undefined;
    }
    this.deps.offerAt.set(peer, performance.now());
    try {
      ref ??= await this.deps.spawnPeer(peer);
      this.deps.sessions.set(peer, newSession(grant));
      const replaced = connections.get(peer);
      connections.set(peer, requestId);
      const answer = await ref.call('P2P_PEER_OFFER', { requestId, sdp, rights: grant.rights, expires: grant.expires }, { timeoutMs: 10_000 });
      signaling().sendAnswer(peer, requestId, answer.sdp);
      if (replaced !== undefined && replaced !== requestId) {
        // the same peer id offered again: the earlier connection is gone, say so at once
        signaling().bye(peer, `replaced by a newer offer (${requestId}) under the same peer id`, replaced);
      }
    } catch (err) {
      const code = isIvError(err) && isIvErrorCode(err.code) ? err.code : 'IV_ERR_INTERNAL';
      signaling().refuse(peer, requestId, code, (err as Error).message);
      await this.deps.drop(peer);
    }
  }
}
