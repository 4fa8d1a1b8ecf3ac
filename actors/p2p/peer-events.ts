/**
 * peer-events — the one definition of what happens to an app's connection and streams,
 * as a peer actor reports it (P2P_PEER_EVENT) and the p2p service passes it on (its
 * `peer` event; `respawned` is the service's own, `stream-origin` it keeps to itself).
 * Owns: the typed emit of a `PeerEvent` (the type is the P2P_PEER_EVENT body, peer-methods.ts). Must never: carry transport
 * objects (events cross threads).
 */
import type { ActorContext } from '../../runtime/actor.js';
import type { PeerEvent, PeerMethods } from './peer-methods.js';

export type { PeerEvent } from './peer-methods.js';


/** A peer actor reports an event to the p2p service. */
export function emitPeerEvent(ctx: ActorContext<PeerMethods>, e: Exclude<PeerEvent, { type: 'respawned' }>): void {
  ctx.emit('P2P_PEER_EVENT', e);
}
