/**
 * peer-events — the one definition of what happens to an app's connection and streams,
 * as a peer actor reports it (P2P_PEER_EVENT) and the p2p service passes it on (its
 * `peer` event; `respawned` is the service's own, `stream-origin` it keeps to itself).
 * Owns: the `PeerEvent` type and the typed emit of it. Must never: carry transport
 * objects (events cross threads).
 */
import type { ActorContext } from '../../runtime/actor.js';
import type { WatermarkEvent } from './watermark.js';

export type PeerEvent =
  | { type: 'connected' }
  /** `state`: the connection's state, or why it ended (bye, connect-timeout, restart-failed, closed-by-command-reply). */
  | { type: 'closed'; detail: { state: string; reason?: string; attempts?: number; timeoutMs?: number } }
  | { type: 'stream-open'; stream: number; detail: { params: string; resumed?: true } }
  | { type: 'stream-close'; stream: number; detail: { reason: string } }
  | { type: 'watermark'; stream: number; detail: { level: WatermarkEvent } }
  /** A live stream's FLV time origin (device-clock unix ms), kept for a restarted actor. */
  | { type: 'stream-origin'; stream: number; detail: { originMs: number } }
  | { type: 'restarting'; detail: { reason: string } }
  | { type: 'restarted'; detail: { reason: string; ms: number; attempts: number } }
  /** The service replaced the app's peer actor by one that took over its session. */
  | { type: 'respawned'; detail: { reason: string; ms: number; streams: number } };

/** A peer actor reports an event to the p2p service. */
export function emitPeerEvent(ctx: ActorContext, e: Exclude<PeerEvent, { type: 'respawned' }>): void {
  ctx.emit('P2P_PEER_EVENT', e);
}
