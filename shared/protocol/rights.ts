/**
 * rights — what an access token may grant an app (docs/PROTOCOL.md §2): the one list of
 * rights and the one check of a grant. Browser-safe.
 * Owns: `RIGHTS`, `Right`, `grants` (a right, not yet expired), `refusal` (why not, as
 * the typed answer an app gets) and `expiry` (the same answer for requests that need no right).
 * Must never: read anything but its arguments and the clock.
 */

export const RIGHTS = ['live', 'playback', 'voice', 'command'] as const;
export type Right = (typeof RIGHTS)[number];

export function isRight(r: unknown): r is Right {
  return typeof r === 'string' && (RIGHTS as readonly string[]).includes(r);
}

/** What a verified token granted: its rights until `expires` (unix seconds). */
export interface Grant {
  rights: Right[];
  expires: number;
}

/** Does the grant allow `right` now? (Every request that needs a right is checked here; `expiry` for the others.) */
export function grants(grant: Grant, right: Right): boolean {
  return refusal(grant, right) === undefined;
}

/** The refusal of a grant that has expired (any request that needs no right but a valid token), or undefined. */
export function expiry(grant: Grant, nowS = Date.now() / 1000): { code: 'IV_ERR_AUTH_EXPIRED'; message: string } | undefined {
  return grant.expires <= nowS ? { code: 'IV_ERR_AUTH_EXPIRED', message: `the access token expired ${Math.floor(nowS - grant.expires)} s ago` } : undefined;
}

/** Why the grant does not allow `right` now: expired first (a renewed token helps), then the right. */
export function refusal(grant: Grant, right: Right, nowS = Date.now() / 1000): { code: 'IV_ERR_AUTH_EXPIRED' | 'IV_ERR_AUTH_RIGHTS'; message: string } | undefined {
  const expired = expiry(grant, nowS);
  if (expired) {
    return expired;
  }
  if (!grant.rights.includes(right)) {
    return { code: 'IV_ERR_AUTH_RIGHTS', message: `the access token does not grant ${right} (${grant.rights.length === 0 ? 'it grants no rights' : `it grants ${grant.rights.join(', ')}`})` };
  }
  return undefined;
}
