/**
 * rights — what an access token may grant an app (docs/PROTOCOL.md §2): the one list of
 * rights and the one check of a grant. Browser-safe.
 * Owns: `RIGHTS`, `Right`, and `grants` (a right, not yet expired).
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

/** Does the grant allow `right` now? (Every request after the offer is checked here.) */
export function grants(grant: Grant, right: Right): boolean {
  return grant.rights.includes(right) && grant.expires > Date.now() / 1000;
}
