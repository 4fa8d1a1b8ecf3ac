/**
 * token-claims — what an app can read of its own access token without the device secret
 * (docs/PROTOCOL.md §1): the claims part, unverified. The broker answers a refused
 * connect only with "bad user name or password" (CONNACK 4/5); an app that reads the
 * claims can tell its user which it was: an expired token, one for another device or
 * peer, or one that is no iv1 token at all. Browser-safe (atob, TextDecoder).
 * Owns: the claims reader and that explanation. Must never: be taken for verification
 * (only the device, with the secret, can say a token is valid: access-token.ts).
 */
import type { IvErrorCode } from '../../runtime/errors.js';
import { isRight, type Right } from './rights.js';

export interface UnverifiedClaims {
  deviceId: string;
  peerId: string;
  /** Unix seconds. */
  expires: number;
  rights: Right[];
}

/** The claims of an `iv1.<claims>.<mac>` token, or undefined when it is not one. */
export function readTokenClaims(token: string): UnverifiedClaims | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== 'iv1' || !/^[A-Za-z0-9_-]+$/.test(parts[1] ?? '')) {
    return undefined;
  }
  try {
    const b64 = (parts[1] as string).replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0));
    const raw = JSON.parse(new TextDecoder().decode(bytes)) as { d?: unknown; p?: unknown; e?: unknown; r?: unknown };
    if (typeof raw.d !== 'string' || typeof raw.p !== 'string' || typeof raw.e !== 'number' || !Array.isArray(raw.r) || !raw.r.every(isRight)) {
      return undefined;
    }
    return { deviceId: raw.d, peerId: raw.p, expires: raw.e, rights: raw.r };
  } catch {
    return undefined;
  }
}

/**
 * What is wrong with `token` for this device and peer as far as its claims show (the
 * signature is not checked), or undefined when nothing shows.
 */
export function tokenProblem(token: string, expect: { deviceId: string; peerId: string }, nowS = Date.now() / 1000): { code: IvErrorCode; reason: string } | undefined {
  const c = readTokenClaims(token);
  if (!c) {
    return { code: 'IV_ERR_AUTH_INVALID', reason: token === '' ? 'no access token' : 'not an iv1 access token' };
  }
  if (c.expires <= nowS) {
    return { code: 'IV_ERR_AUTH_EXPIRED', reason: `the access token expired ${Math.floor(nowS - c.expires)} s ago` };
  }
  if (c.deviceId !== expect.deviceId) {
    return { code: 'IV_ERR_AUTH_WRONG_PEER', reason: `the access token is for device ${c.deviceId}, not ${expect.deviceId}` };
  }
  if (c.peerId !== expect.peerId) {
    return { code: 'IV_ERR_AUTH_WRONG_PEER', reason: `the access token is for peer ${c.peerId}, not ${expect.peerId}` };
  }
  return undefined;
}
