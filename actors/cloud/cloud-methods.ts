/**
 * cloud-methods — the messages of the cloud actor (one channel's recording, spool and
 * upload), with their bodies and results.
 * Must never: import actor code (the main thread imports this to talk to the actor).
 */
import { bool, bytes, empty, int, num, obj, oneOf, opt, str } from '../../runtime/checks.js';
import { notice, request, returns } from '../../runtime/schema.js';
import type { Recorder } from './recorder.js';
import type { UploadStats } from './uploader.js';

export type CloudStats = Recorder['stats'] & {
  wanted: boolean;
  recording: boolean;
  paused: boolean;
  runningEvents: number[];
  readerLaps: number;
  upload: UploadStats;
};

export const CLOUD_METHODS = {
  /** The full-time plan became valid (on) or lapsed (off). */
  CLOUD_FULL_TIME: request(obj({ on: bool }), returns<{ recording: boolean }>()),
  /** Start event `eventId` (1-16); times are wall-clock ms; the picture is a validated JPEG. */
  CLOUD_EVENT_START: request(
    obj({ eventId: int(1, 16), eventStartMs: num(0), streamStartMs: num(0), picture: opt(bytes) }),
    returns<{ uid: string; pictureKey: string | undefined }>(),
  ),
  CLOUD_EVENT_STOP: request(obj({ eventId: int(1, 16), eventStopMs: num(0), streamStopMs: num(0) }), returns<{ uid: string }>()),
  /** iv_cs_set_trans_time: per-request upload timeout and reply timeout, ms (> 0). */
  CLOUD_SET_TRANS_TIME: request(obj({ uploadMs: int(1, 3_600_000), replyMs: int(1, 3_600_000) }), returns<Record<string, never>>()),
  /** Recording and upload statistics. */
  CLOUD_STATS: request(empty, returns<CloudStats>()),
  /** End the running session (segments into the spool) and wait up to drainMs for uploads. */
  CLOUD_CLOSE: request(obj({ drainMs: int(0, 3_600_000) }), returns<{ drained: boolean; pending: number }>()),
  /** Something the owner should know: a snapshot's upload result, sessions, uploads (with their latency) and upload failures, overruns. */
  CLOUD_NOTICE: notice(obj({
    type: oneOf('picture', 'session', 'upload-failed', 'overrun', 'uploaded'),
    key: opt(str),
    code: opt(str),
    message: opt(str),
    what: opt(str),
    /** `uploaded`: ms from the object's acceptance into the local recording to the store's confirmation. */
    ms: opt(num(0)),
  })),
} as const;

export type CloudMethods = typeof CLOUD_METHODS;
