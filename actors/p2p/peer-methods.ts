/**
 * peer-methods — the messages of the peer actor (one app's peer connection) and of the
 * io actors (the user's onCommand and intercom callbacks), with bodies and results.
 * Must never: import actor code or node-datachannel (the main thread imports this).
 */
import { any, arr, bytes, empty, int, num, obj, oneOf, opt, str, type Check } from '../../runtime/checks.js';
import { notice, request, returns, tell } from '../../runtime/schema.js';
import { RIGHTS } from '../../shared/protocol/rights.js';
import type { SendStats } from './send-accounting.js';
import type { WatermarkEvent } from './watermark.js';

/** What happens to an app's connection and streams (the P2P_PEER_EVENT body; `respawned` is the p2p service's own). */
export type PeerEvent =
  /** `connectMs`: offer received → connection up (added by the p2p service, which saw the offer). */
  | { type: 'connected'; detail?: { connectMs: number } }
  /** `state`: the connection's state, or why it ended (bye, connect-timeout, restart-failed, closed-by-command-reply). */
  | { type: 'closed'; detail: { state: string; reason?: string; attempts?: number; timeoutMs?: number } }
  | { type: 'stream-open'; stream: number; detail: { params: string; resumed?: true } }
  | { type: 'stream-close'; stream: number; detail: { reason: string } }
  | { type: 'watermark'; stream: number; detail: { level: WatermarkEvent } }
  /** A live stream's FLV time origin (device-clock unix ms), kept for a restarted actor; `firstFrameMs`: stream open → its first frame sent. */
  | { type: 'stream-origin'; stream: number; detail: { originMs: number; firstFrameMs?: number } }
  | { type: 'restarting'; detail: { reason: string } }
  | { type: 'restarted'; detail: { reason: string; ms: number; attempts: number } }
  /** The service replaced the app's peer actor by one that took over its session. */
  | { type: 'respawned'; detail: { reason: string; ms: number; streams: number } };


const right = oneOf(...RIGHTS);

export const PEER_METHODS = {
  /** A verified offer from signaling; answers with the device's SDP answer. */
  P2P_PEER_OFFER: request(obj({ requestId: str, sdp: str, rights: arr(right, 4), expires: num(0) }), returns<{ sdp: string }>()),
  /** A remote ICE candidate from signaling. */
  P2P_PEER_REMOTE_CANDIDATE: tell(obj({ candidate: str, mid: str })),
  /** A local ICE candidate for signaling to send. */
  P2P_PEER_LOCAL_CANDIDATE: notice(obj({ candidate: str, mid: str })),
  /** Connection and stream life: connected, closed, stream-open, stream-close, watermark, restarting/restarted (ICE restart), stream-origin (a live stream's time origin, kept for a restarted actor). */
  P2P_PEER_EVENT: notice(obj({
    type: oneOf('connected', 'closed', 'stream-open', 'stream-close', 'watermark', 'restarting', 'restarted', 'stream-origin'),
    stream: opt(int(0)),
    detail: opt(any),
  }) as Check<unknown> as Check<Exclude<PeerEvent, { type: 'respawned' }>>),
  /** Renegotiate the app's connection (ICE restart: a new transport, the app's session and streams kept). */
  P2P_PEER_RESTART: request(obj({ reason: str }), returns<{ restarted: boolean }>()),
  /** The device's offer of a restart, for signaling to send to the app (`offer` with iceRestart). */
  P2P_PEER_SIGNAL_OFFER: notice(obj({ requestId: str, sdp: str })),
  /** The app's answer to the device's restart offer (checked by signaling). */
  P2P_PEER_ANSWER: request(obj({ requestId: str, sdp: str }), returns<Record<string, never>>()),
  /** Is this app's connection alive: connected, restarting, ms since the app was last heard, open streams. */
  P2P_PEER_HEALTH: request(empty, returns<{ established: boolean; connected: boolean; restarting: boolean; silentMs: number; streams: number }>()),
  /** Bytes from the user's onSendGet for a custom stream (the built-in FLV path never uses this). */
  P2P_PEER_SEND: tell(obj({ stream: int(1), data: bytes })),
  /** An app's command, to be answered by the user's onCommand (via the command actor). */
  P2P_PEER_COMMAND: notice(obj({ id: int(0), data: bytes })),
  /** The answer to P2P_PEER_COMMAND; an empty reply closes the app's connection (SDK note). */
  P2P_PEER_REPLY: tell(obj({ id: int(0), data: opt(bytes), code: opt(str), message: opt(str) })),
  /** Intercom: start (params), one audio frame, or the end of the app's voice. */
  P2P_PEER_VOICE: notice(obj({ type: oneOf('start', 'frame', 'end'), params: opt(str), data: opt(bytes) })),
  /** Per-stream send statistics of this peer. */
  P2P_PEER_STATS: request(empty, returns<{ peer: string; connected: boolean; streams: (SendStats & { stream: number })[] }>()),
  /** The global watermarks changed (iv_avt_p2p_set_buf_watermark). */
  P2P_SET_WATERMARK: request(obj({ low: int(0), warn: int(0), high: int(0) }), returns<Record<string, never>>()),
} as const;

export const COMMAND_METHODS = {
  /** Run the user's onCommand with a deadline; `data` empty = the SDK's "close the channel". */
  COMMAND_RUN: request(obj({ callback: str, peer: str, data: bytes, deadlineMs: int(1, 60_000) }), returns<{ data: Uint8Array }>()),
} as const;

export const VOICE_METHODS = {
  /** Deliver intercom audio to the user's callbacks, in order per app. */
  VOICE_START: request(obj({ callback: str, peer: str, params: str }), returns<Record<string, never>>()),
  VOICE_FRAME: request(obj({ callback: str, peer: str, data: bytes }), returns<Record<string, never>>()),
  VOICE_END: request(obj({ callback: str, peer: str }), returns<Record<string, never>>()),
} as const;

export type PeerMethods = typeof PEER_METHODS;
export type CommandMethods = typeof COMMAND_METHODS;
export type VoiceMethods = typeof VOICE_METHODS;
