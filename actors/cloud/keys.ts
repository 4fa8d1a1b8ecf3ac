/**
 * keys — the cloud key layout, in one place (documented in actors/cloud/README.md):
 *
 *   <device>/plan.json                                        the plan ("balance")
 *   <device>/<channel>/<YYYY-MM-DD>/<session>/init.mp4         fMP4 init segment
 *   <device>/<channel>/<YYYY-MM-DD>/<session>/seg-000000.m4s   GOP-aligned media segments
 *   <device>/<channel>/<YYYY-MM-DD>/<session>/index.m3u8       the session's HLS playlist
 *   <device>/<channel>/<YYYY-MM-DD>/<session>/event-<uid>.m3u8 one event's HLS playlist
 *   <device>/<channel>/events/<YYYY-MM-DD>/<uid>.json          the event record
 *   <device>/<channel>/events/<YYYY-MM-DD>/<uid>.jpg           the event snapshot
 *
 * Dates are UTC; a session is named by its start (`20261121T074326123Z`); an event uid is
 * `<start ms>-e<id>`. Must never: produce a key outside the object-store key alphabet.
 */

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

export const planKey = (device: string): string => `${device}/plan.json`;
export const sessionDir = (device: string, channel: number, startMs: number, name: string): string => `${device}/${channel}/${utcDate(startMs)}/${name}`;
export const segmentFile = (index: number): string => `seg-${pad(index, 6)}.m4s`;
export const eventUid = (startMs: number, eventId: number): string => `${Math.round(startMs)}-e${eventId}`;
export const eventPlaylistFile = (uid: string): string => `event-${uid}.m3u8`;
export const eventBase = (device: string, channel: number, startMs: number, uid: string): string => `${device}/${channel}/events/${utcDate(startMs)}/${uid}`;
