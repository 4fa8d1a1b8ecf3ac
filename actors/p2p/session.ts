/**
 * session — an app's session on this device, in the one shape every part of p2p keeps it
 * in: the grant of its access token (rights until `expires`) and the streams it has open.
 * It outlives the app's transport (an ICE restart moves it to a new PeerConnection) and
 * its peer actor: the p2p service keeps it from the actor's events and hands it to a
 * restarted actor as `resume`.
 * Owns: the type and the service's bookkeeping of it (stream opened, time origin known,
 * stream closed). Must never: hold transport objects or anything that cannot cross threads.
 */
import type { Grant } from '../../shared/protocol/rights.js';

/** An open stream: its params and, for a live one, its FLV time origin (device-clock unix ms). */
export interface SessionStream {
  stream: number;
  params: string;
  originMs?: number;
}

export interface AppSession extends Grant {
  /** Open streams, in the order they were opened; a live one resumes under its number (numbers of closed streams are reused). */
  streams: SessionStream[];
}

/** The part of a session a peer actor keeps itself (its streams are its stream senders). */
export type PeerSession = Omit<AppSession, 'streams'>;

/** What a restarted peer actor takes over, and why the old one went. */
export interface SessionResume extends AppSession {
  reason: string;
}

export function newSession(grant: Grant): AppSession {
  return { rights: grant.rights, expires: grant.expires, streams: [] };
}

/** A stream opened (or resumed): its params are recorded, a known origin kept. */
export function streamOpened(session: AppSession, stream: number, params: string): void {
  const known = session.streams.find((s) => s.stream === stream);
  if (known) {
    known.params = params;
  } else {
    session.streams.push({ stream, params });
  }
}

export function streamOrigin(session: AppSession, stream: number, originMs: number): void {
  const known = session.streams.find((s) => s.stream === stream);
  if (known) {
    known.originMs = originMs;
  }
}

export function streamClosed(session: AppSession, stream: number): void {
  const i = session.streams.findIndex((s) => s.stream === stream);
  if (i >= 0) {
    session.streams.splice(i, 1);
  }
}
