/**
 * keys — the local recording's key layout, in one place (documented in recording/README.md);
 * the same keys name the objects in the cloud store:
 *
 *   <device>/<channel>/<YYYY-MM-DD>/<session>/init.mp4         fMP4 init segment
 *   <device>/<channel>/<YYYY-MM-DD>/<session>/seg-000000.m4s   GOP-aligned media segments
 *   <device>/<channel>/<YYYY-MM-DD>/<session>/index.m3u8       the session's HLS playlist
 *   <device>/<channel>/<YYYY-MM-DD>/<session>/event-<uid>.m3u8 one event's HLS playlist
 *   <device>/<channel>/events/<YYYY-MM-DD>/<uid>.json          the event record
 *   <device>/<channel>/events/<YYYY-MM-DD>/<uid>.jpg           the event snapshot
 *
 * Dates are UTC; a session is named by its start (`20261121T074326123Z`); an event uid is
 * `<start ms>-e<id>`.
 * Owns: the key names and the key alphabet (`checkKey`). Must never: produce a key
 * outside that alphabet.
 */
import { invalidParam } from '../runtime/errors.js';

const KEY_RE = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;

/** Throws IV_ERR_INVALID_PARAM for keys that are not plain relative paths. */
export function checkKey(key: string, field = 'key'): void {
  if (key.length === 0 || key.length > 1024 || !KEY_RE.test(key) || key.split('/').some((p) => p === '.' || p === '..')) {
    throw invalidParam(field, `expected a relative key of [A-Za-z0-9_.-] parts separated by '/', got ${JSON.stringify(key)}`);
  }
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

export function utcDate(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

export function sessionName(ms: number, counter: number): string {
  const d = new Date(ms);
  const base = `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}${pad(d.getUTCMilliseconds(), 3)}Z`;
  return counter === 0 ? base : `${base}-${counter}`;
}

export const sessionDir = (device: string, channel: number, startMs: number, name: string): string => `${device}/${channel}/${utcDate(startMs)}/${name}`;
export const segmentFile = (index: number): string => `seg-${pad(index, 6)}.m4s`;
export const eventUid = (startMs: number, eventId: number): string => `${Math.round(startMs)}-e${eventId}`;
export const eventPlaylistFile = (uid: string): string => `event-${uid}.m3u8`;
export const eventBase = (device: string, channel: number, startMs: number, uid: string): string => `${device}/${channel}/events/${utcDate(startMs)}/${uid}`;
