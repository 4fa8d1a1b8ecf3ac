/**
 * capture-methods — the messages of the capture actor (one camera stream into one
 * FrameRing), with their bodies and results.
 * Must never: import actor code (the main thread imports this to talk to the actor).
 */
import { any, bool, bytes, empty, int, num, obj, oneOf, opt, str } from '../../runtime/checks.js';
import { notice, request, returns } from '../../runtime/schema.js';
import type { IngestStats } from './ingest.js';

export const CAPTURE_METHODS = {
  /** Push one frame (the SDK's push API): video = one Annex-B access unit, audio = one spec audio frame. */
  CAPTURE_PUSH: request(obj({ stream: oneOf('video', 'audio'), data: bytes, pts: opt(num(0)), keyframe: opt(bool) }), returns<{ seq: number }>()),
  /** Stream statistics: fps, bitrate, GOP, keyframe interval, refusals by code, ring position. */
  CAPTURE_STATS: request(empty, returns<IngestStats & { camera: string; source: string }>()),
  /** Something the owner should know: a refused frame, the source exiting/restarting, the format. */
  CAPTURE_EVENT: notice(obj({
    camera: str,
    type: oneOf('rejected', 'source-exit', 'source-restart', 'source-ended', 'source-up', 'format', 'ring-tight'),
    code: opt(str),
    message: opt(str),
    frame: opt(int(0)),
    detail: opt(any),
  })),
} as const;

export type CaptureMethods = typeof CAPTURE_METHODS;
