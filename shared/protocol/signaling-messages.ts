/**
 * signaling-messages — the MQTT signaling of docs/PROTOCOL.md §2 as types: the topics,
 * what an app publishes on `iv/<deviceId>/peer/<peerId>/up` and what the device answers
 * on `.../down`, each parsed and shape-checked once here for the end that receives it.
 * Browser-safe (no node: imports; bytes are Uint8Array).
 * Owns: the message types, the topic names, the size limit and the peer id rule, both
 * parsers. Must never: throw on anything the other end sends, verify tokens or replays
 * (signaling.ts does, with access-token.ts), or import from actors/ or client/.
 */
import { isIvErrorCode, type IvErrorCode } from '../../runtime/errors.js';

/** The largest signaling message either end accepts. */
export const MAX_SIGNAL_BYTES = 64 * 1024;
/** Larger messages are not even parsed (no requestId to answer): dropped. */
const MAX_PARSED_BYTES = 1024 * 1024;
/** What a peer id (the topic's `<peerId>`) may look like. */
export const PEER_ID = /^[A-Za-z0-9_.:-]{1,64}$/;

/** `iv/<deviceId>/peer/`: every topic of one device's apps starts with this. */
export function peerTopicPrefix(deviceId: string): string {
  return `iv/${deviceId}/peer/`;
}

export function upTopic(deviceId: string, peer: string): string {
  return `${peerTopicPrefix(deviceId)}${peer}/up`;
}

export function downTopic(deviceId: string, peer: string): string {
  return `${peerTopicPrefix(deviceId)}${peer}/down`;
}

/** App → device, as the app sends it. */
export type AppSignal =
  | { type: 'offer'; peer: string; token: string; requestId: string; ts: number; sdp: string }
  | { type: 'answer'; peer: string; token: string; requestId: string; sdp: string }
  | { type: 'candidate'; peer: string; requestId?: string; candidate: string; mid: string }
  | { type: 'bye'; peer: string; requestId?: string };

/**
 * App → device, as the device receives it: the shape is checked; the token, request id and
 * request time of an offer are checked next by signaling (their refusals carry their own
 * codes), so they stay unknown here.
 */
export type AppSignalIn =
  | { type: 'offer'; requestId: unknown; ts: unknown; token: unknown; sdp: string }
  | { type: 'answer'; requestId: string; token: unknown; sdp: string }
  | { type: 'candidate'; candidate: string; mid: string }
  | { type: 'bye' };

/**
 * Device → app. A `refused` without a request id is never sent (nothing to match it to).
 * `requestId` on a candidate or a bye names the connection it belongs to (the offer that
 * made it), so that several connections under one peer id can be told apart (v2).
 */
export type DeviceSignal =
  | { type: 'answer'; requestId: string; sdp: string }
  | { type: 'candidate'; requestId?: string; candidate: string; mid: string }
  | { type: 'offer'; requestId: string; sdp: string; iceRestart: boolean }
  | { type: 'refused'; requestId?: string; code: IvErrorCode; reason: string }
  | { type: 'bye'; requestId?: string; reason: string };

export function encodeSignal(msg: AppSignal | DeviceSignal): string {
  return JSON.stringify(msg.type === 'candidate' ? { ...msg, candidate: candidateLine(msg.candidate) } : msg);
}

/**
 * A candidate as §2 writes it, `candidate:…`: node-datachannel reports `a=candidate:…`
 * (the SDP attribute line); both forms are accepted on arrival, this one is sent.
 */
export function candidateLine(candidate: string): string {
  return candidate.startsWith('a=') ? candidate.slice(2) : candidate;
}

/** A message the device refuses (IV_ERR_INVALID_PARAM); `requestId` when the message had one. */
export type SignalProblem = { ok: false; requestId: string | undefined; reason: string };

type Raw = Record<string, unknown>;

const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

function parseObject(payload: Uint8Array | string): Raw | 'not JSON' | 'not a JSON object' {
  let raw: unknown;
  try {
    raw = JSON.parse(typeof payload === 'string' ? payload : utf8.decode(payload));
  } catch {
    return 'not JSON';
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return 'not a JSON object';
  }
  return raw as Raw;
}

/** Device side: parse and shape-check one message from app `peer` (the topic's peer id). */
export function parseAppSignal(payload: Uint8Array, peer: string): { ok: true; msg: AppSignalIn; requestId: string | undefined } | SignalProblem {
  if (payload.byteLength > MAX_SIGNAL_BYTES) {
    // refused, but still answered when it says which request it was (read up to 1 MiB)
    const big = payload.byteLength <= MAX_PARSED_BYTES ? parseObject(payload) : undefined;
    const requestId = typeof big === 'object' && typeof big.requestId === 'string' ? big.requestId : undefined;
    return { ok: false, requestId, reason: `message of ${payload.byteLength} bytes exceeds ${MAX_SIGNAL_BYTES}` };
  }
  const msg = parseObject(payload);
  if (typeof msg === 'string') {
    return { ok: false, requestId: undefined, reason: `message is ${msg}` };
  }
  const requestId = typeof msg.requestId === 'string' ? msg.requestId : undefined;
  const bad = (field: string, why: string): SignalProblem => ({ ok: false, requestId, reason: `${field}: ${why}` });
  if (msg.peer !== peer) {
    return bad('peer', 'does not match the topic');
  }
  switch (msg.type) {
    case 'offer':
      if (typeof msg.sdp !== 'string' || !msg.sdp.startsWith('v=0')) {
        return bad('sdp', 'expected an SDP offer');
      }
      return { ok: true, requestId, msg: { type: 'offer', requestId: msg.requestId, ts: msg.ts, token: msg.token, sdp: msg.sdp } };
    case 'answer':
      if (typeof msg.requestId !== 'string') {
        return bad('requestId', 'missing');
      }
      if (typeof msg.sdp !== 'string' || !msg.sdp.startsWith('v=0')) {
        return bad('sdp', 'expected an SDP answer');
      }
      return { ok: true, requestId, msg: { type: 'answer', requestId: msg.requestId, token: msg.token, sdp: msg.sdp } };
    case 'candidate':
      if (typeof msg.candidate !== 'string' || typeof msg.mid !== 'string') {
        return bad(typeof msg.candidate !== 'string' ? 'candidate' : 'mid', 'expected a string');
      }
      return { ok: true, requestId, msg: { type: 'candidate', candidate: candidateLine(msg.candidate), mid: msg.mid } };
    case 'bye':
      return { ok: true, requestId, msg: { type: 'bye' } };
    default:
      return bad('type', `unknown message type ${JSON.stringify(msg.type)}`);
  }
}

/** App side: parse one message from the device; anything malformed is ignored (undefined). */
export function parseDeviceSignal(payload: Uint8Array | string): DeviceSignal | undefined {
  const msg = parseObject(payload);
  if (typeof msg === 'string') {
    return undefined;
  }
  switch (msg.type) {
    case 'answer':
      return typeof msg.sdp === 'string' && typeof msg.requestId === 'string' ? { type: 'answer', requestId: msg.requestId, sdp: msg.sdp } : undefined;
    case 'offer':
      return typeof msg.sdp === 'string' && typeof msg.requestId === 'string' ? { type: 'offer', requestId: msg.requestId, sdp: msg.sdp, iceRestart: msg.iceRestart === true } : undefined;
    case 'candidate': {
      if (typeof msg.candidate !== 'string' || typeof msg.mid !== 'string') {
        return undefined;
      }
      const candidate = candidateLine(msg.candidate);
      return typeof msg.requestId === 'string' ? { type: 'candidate', requestId: msg.requestId, candidate, mid: msg.mid } : { type: 'candidate', candidate, mid: msg.mid };
    }
    case 'refused': {
      const refused: DeviceSignal = { type: 'refused', code: isIvErrorCode(msg.code) ? msg.code : 'IV_ERR_INTERNAL', reason: typeof msg.reason === 'string' ? msg.reason : '' };
      if (typeof msg.requestId === 'string') {
        refused.requestId = msg.requestId;
      }
      return refused;
    }
    case 'bye': {
      const reason = typeof msg.reason === 'string' ? msg.reason : '';
      return typeof msg.requestId === 'string' ? { type: 'bye', requestId: msg.requestId, reason } : { type: 'bye', reason };
    }
    default:
      return undefined;
  }
}
