/**
 * access-token — who may talk to this device, and what they may do.
 *
 * A token is `iv1.<claims>.<mac>`: claims are base64url JSON `{d: deviceId, p: peerId,
 * e: expiry (unix s), r: rights[], n: nonce}`, mac is base64url HMAC-SHA256 over
 * `iv1.<claims>` with the device secret. Rights: live, playback, voice, command.
 * `RequestGuard` refuses a signaling request whose id was seen before or whose
 * timestamp is outside the window (replays).
 *
 * Owns: minting, verification (constant-time), the bounded replay window.
 * Must never: accept a token it cannot verify, or let a refusal reach user callbacks.
 * Node-only (node:crypto); the browser-safe protocol modules never import it, only
 * `rights.ts`.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { IvError, type IvErrorCode } from '../../runtime/errors.js';
import { RIGHTS, isRight, type Grant, type Right } from './rights.js';

/** A token's claims: whose it is, and its grant (rights until `expires`, unix seconds). */
export interface TokenClaims extends Grant {
  deviceId: string;
  peerId: string;
}

const PREFIX = 'iv1';

function b64url(buf: Buffer): string {
  return buf.toString('base64url');
}

function mac(secret: string | Buffer, data: string): Buffer {
  return createHmac('sha256', secret).update(data).digest();
}

/** Mint a token for one peer. */
export function mintToken(secret: string | Buffer, claims: TokenClaims): string {
  if (!claims.deviceId || !claims.peerId) {
    throw new IvError('IV_ERR_INVALID_PARAM', 'a token needs a device id and a peer id', { field: claims.deviceId ? 'peerId' : 'deviceId' });
  }
  const bad = claims.rights.find((r) => !isRight(r));
  if (bad !== undefined || claims.rights.length === 0) {
    throw new IvError('IV_ERR_INVALID_PARAM', `rights must be some of ${RIGHTS.join(', ')}${bad ? `; got ${JSON.stringify(bad)}` : ''}`, { field: 'rights' });
  }
  if (!Number.isInteger(claims.expires) || claims.expires <= 0) {
    throw new IvError('IV_ERR_INVALID_PARAM', 'expires must be a unix time in seconds', { field: 'expires' });
  }
  const payload = b64url(Buffer.from(JSON.stringify({ d: claims.deviceId, p: claims.peerId, e: claims.expires, r: claims.rights, n: b64url(randomBytes(9)) })));
  const signed = `${PREFIX}.${payload}`;
  return `${signed}.${b64url(mac(secret, signed))}`;
}

/** A refusal for rights only (the token is this device's and this peer's, signed, not expired) carries its claims. */
export type TokenVerdict = { ok: true; claims: TokenClaims } | { ok: false; code: IvErrorCode; reason: string; claims?: TokenClaims };

const refuse = (code: IvErrorCode, reason: string): TokenVerdict => ({ ok: false, code, reason });

/** Verify a token for this device, this peer and one right. */
export function verifyToken(secret: string | Buffer, token: unknown, expect: { deviceId: string; peerId: string; right: Right; nowS?: number }): TokenVerdict {
  if (typeof token !== 'string' || token.length === 0) {
    return refuse('IV_ERR_AUTH_MISSING', 'no access token');
  }
  if (token.length > 2048) {
    return refuse('IV_ERR_AUTH_INVALID', 'access token too long');
  }
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX) {
    return refuse('IV_ERR_AUTH_INVALID', 'not an iv1 access token');
  }
  const signed = `${parts[0]}.${parts[1]}`;
  // compare the canonical text: a MAC whose unused padding bits differ is not the same token
  const given = Buffer.from(parts[2] as string, 'utf8');
  const want = Buffer.from(b64url(mac(secret, signed)), 'utf8');
  if (given.length !== want.length || !timingSafeEqual(given, want)) {
    return refuse('IV_ERR_AUTH_INVALID', 'access token signature does not match this device');
  }
  let raw: { d?: unknown; p?: unknown; e?: unknown; r?: unknown };
  try {
    raw = JSON.parse(Buffer.from(parts[1] as string, 'base64url').toString('utf8')) as typeof raw;
  } catch {
    return refuse('IV_ERR_AUTH_INVALID', 'access token claims are not JSON');
  }
  if (typeof raw.d !== 'string' || typeof raw.p !== 'string' || typeof raw.e !== 'number' || !Array.isArray(raw.r) || !raw.r.every(isRight)) {
    return refuse('IV_ERR_AUTH_INVALID', 'access token claims are incomplete');
  }
  const claims: TokenClaims = { deviceId: raw.d, peerId: raw.p, expires: raw.e, rights: raw.r };
  const now = expect.nowS ?? Math.floor(Date.now() / 1000);
  if (claims.expires <= now) {
    return refuse('IV_ERR_AUTH_EXPIRED', `access token expired ${now - claims.expires} s ago`);
  }
  if (claims.deviceId !== expect.deviceId) {
    return refuse('IV_ERR_AUTH_WRONG_PEER', 'access token is for another device');
  }
  if (claims.peerId !== expect.peerId) {
    return refuse('IV_ERR_AUTH_WRONG_PEER', `access token is for peer ${claims.peerId}, not ${expect.peerId}`);
  }
  if (claims.rights.length === 0) {
    return { ...refuse('IV_ERR_AUTH_RIGHTS', 'access token grants no rights'), claims };
  }
  if (!claims.rights.includes(expect.right)) {
    return { ...refuse('IV_ERR_AUTH_RIGHTS', `access token does not grant ${expect.right} (grants ${claims.rights.join(', ')})`), claims };
  }
  return { ok: true, claims };
}

/**
 * Refuses replayed signaling requests: a request id seen in the window, or a request
 * timestamp further than windowMs/2 from now. Memory is bounded by `maxIds`.
 */
export class RequestGuard {
  private readonly seen = new Map<string, number>();

  constructor(private readonly windowMs = 120_000, private readonly maxIds = 100_000, private readonly now: () => number = Date.now) {}

  check(requestId: unknown, ts: unknown): { ok: true } | { ok: false; code: IvErrorCode; reason: string } {
    if (typeof requestId !== 'string' || requestId.length < 8 || requestId.length > 128) {
      return { ok: false, code: 'IV_ERR_INVALID_PARAM', reason: 'requestId must be a unique string of 8..128 characters' };
    }
    if (typeof ts !== 'number' || !Number.isFinite(ts)) {
      return { ok: false, code: 'IV_ERR_INVALID_PARAM', reason: 'ts must be the request time in unix milliseconds' };
    }
    const now = this.now();
    if (Math.abs(now - ts) > this.windowMs / 2) {
      return { ok: false, code: 'IV_ERR_AUTH_REPLAYED', reason: `request time is ${Math.round((now - ts) / 1000)} s off the device clock (window ±${this.windowMs / 2000} s)` };
    }
    this.expire(now);
    if (this.seen.has(requestId)) {
      return { ok: false, code: 'IV_ERR_AUTH_REPLAYED', reason: `request ${requestId} was already used` };
    }
    if (this.seen.size >= this.maxIds) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) {
        this.seen.delete(oldest);
      }
    }
    this.seen.set(requestId, now);
    return { ok: true };
  }

  private expire(now: number): void {
    for (const [id, at] of this.seen) {
      if (now - at <= this.windowMs) {
        break;
      }
      this.seen.delete(id);
    }
  }
}
