/**
 * transport-rules — what both ends of docs/PROTOCOL.md §3–4 do the same way with their
 * WebRTC transport: the data channel labels, the SCTP buffer and message sizes, the
 * DTLS role of the device's restart offer (`a=setup:active`), which local candidates go out, and how a
 * dropped connection is told from a closed one. Browser-safe (plain values and strings).
 * Owns: those rules, once. Must never: touch a peer connection itself (the callers do),
 * or import from actors/ or client/.
 */

/** The control channel (opened by whoever offers). */
export const CONTROL_LABEL = 'control';
/** The app's intercom channel (opened by the app). */
export const VOICE_LABEL = 'voice';

/** A stream's channel: `s<n>` (opened by the device). */
export function streamLabel(stream: number): string {
  return `s${stream}`;
}

/** The stream number of an `s<n>` label, or undefined. */
export function streamOfLabel(label: string): number | undefined {
  return /^s\d+$/.test(label) ? Number(label.slice(1)) : undefined;
}

/** SCTP send and receive buffers of every data channel transport, bytes. */
export const SCTP_BUFFER_BYTES = 262_144;
/** The largest data channel message either end sends or takes, bytes. */
export const MAX_MESSAGE_BYTES = 262_144;

/**
 * The device's ICE-restart offer takes the DTLS client role (the app answers passive),
 * and its candidates follow the offer at once. An app's own offer stays `actpass` (the
 * device answers active) and the app sends its candidates once the answer is set:
 * PROTOCOL.md §3 and §3.1, where the measurements of both directions are.
 */
export function offerAsDtlsClient(sdp: string): string {
  return sdp.replaceAll('a=setup:actpass', 'a=setup:active');
}

/** A local candidate goes out only when ICE is bound to no address or it is on that address. */
export function candidateOnBind(candidate: string, bindAddress: string | undefined): boolean {
  return !bindAddress || candidate.includes(` ${bindAddress} `);
}

/**
 * Did a connection that was up drop because the path failed (ICE `disconnected`,
 * `failed` or back to `checking`: restart it) rather than because the other end closed
 * it (DTLS/SCTP ended over a working path, ICE then `closed`, `connected` or
 * `completed`: a goodbye)?
 */
export function pathFailed(iceState: string): boolean {
  return iceState === 'disconnected' || iceState === 'failed' || iceState === 'checking';
}
