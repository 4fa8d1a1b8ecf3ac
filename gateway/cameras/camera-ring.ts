/**
 * camera-ring — the geometry of a gateway camera's FrameRing: `cameras[i].ring` bytes of
 * frame data (default 8 MiB: 32 s of a 2 Mbit/s camera, 4 s of a 16 Mbit/s one), 2048
 * frame slots, 64 keyframes indexed. A stream whose 2048 frames take less than half of
 * its data starts its laps early (runtime/frame-ring.ts), so a low bitrate holds only
 * what it uses. The ring should hold two of the camera's GOPs: the capture actor warns
 * when one takes more than half of it (ingest.ts).
 * Owns: those numbers. Must never: create a ring smaller than MIN_RING_BYTES.
 */
import { FrameRing } from '../../runtime/frame-ring.js';

export const DEFAULT_RING_BYTES = 8 * 1024 * 1024;
export const MIN_RING_BYTES = 1024 * 1024;
export const MAX_RING_BYTES = 1024 * 1024 * 1024;
const SLOTS = 2048;
const KEYS = 64;

/** A camera's ring of `dataBytes` (clamped to MIN..MAX) as the SharedArrayBuffer its actors share. */
export function createCameraRing(dataBytes = DEFAULT_RING_BYTES): SharedArrayBuffer {
  const bytes = Math.min(MAX_RING_BYTES, Math.max(MIN_RING_BYTES, Math.floor(dataBytes)));
  return FrameRing.create({ dataBytes: bytes, slots: SLOTS, keys: KEYS }).buffer;
}
