/**
 * rtc-links — the browser's RTCDataChannel and RTCPeerConnection as the transport-neutral
 * client core sees them: a channel as the control channel's link or a stream's link, a
 * connection's ICE state, and the candidate pair it uses (from getStats).
 * Owns nothing: adapters only. Must never: keep a channel or a connection alive.
 */
import type { ControlLink } from '../control-channel.js';
import type { StreamLink } from '../stream-set.js';

/** An RTCDataChannel as the control channel's link. */
export function rtcLink(dc: RTCDataChannel): ControlLink {
  dc.binaryType = 'arraybuffer';
  return {
    isOpen: () => dc.readyState === 'open',
    sendMessageBinary: (bytes) => dc.send(bytes as Uint8Array<ArrayBuffer>),
    onMessage: (cb) => dc.addEventListener('message', (e: MessageEvent<string | ArrayBuffer>) => cb(e.data)),
    onOpen: (cb) => dc.addEventListener('open', () => cb()),
    onClosed: (cb) => dc.addEventListener('close', () => cb()),
  };
}

/** An RTCDataChannel as a stream's link. */
export function rtcStreamLink(dc: RTCDataChannel): StreamLink {
  dc.binaryType = 'arraybuffer';
  return {
    isOpen: () => dc.readyState === 'open',
    onMessage: (cb) => dc.addEventListener('message', (e: MessageEvent<string | ArrayBuffer>) => cb(e.data)),
  };
}

/** ICE holds a working path. */
export const iceUp = (pc: RTCPeerConnection): boolean => pc.iceConnectionState === 'connected' || pc.iceConnectionState === 'completed';

/**
 * The ICE candidate pair in use, from getStats: `local <type> <address> → remote <type>
 * <address>`, or `none` (no pair selected yet). The transport's `selectedCandidatePairId`
 * names it; a succeeded, nominated pair stands in where a browser does not report that.
 */
export async function selectedPath(pc: RTCPeerConnection): Promise<string> {
  const stats = await pc.getStats();
  const all = new Map<string, Record<string, unknown>>();
  stats.forEach((v: Record<string, unknown>) => all.set(v.id as string, v));
  const selected = [...all.values()].find((v) => v.type === 'transport' && typeof v.selectedCandidatePairId === 'string')?.selectedCandidatePairId;
  const pair = all.get(selected as string) ?? [...all.values()].find((v) => v.type === 'candidate-pair' && v.nominated === true && v.state === 'succeeded');
  const side = (id: unknown): string => {
    const c = all.get(id as string);
    return c ? `${String(c.candidateType)} ${String(c.address ?? c.ip ?? '?')}:${String(c.port)}` : '?';
  };
  return pair ? `local ${side(pair.localCandidateId)} → remote ${side(pair.remoteCandidateId)}` : 'none';
}
