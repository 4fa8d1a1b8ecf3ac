/**
 * probe-methods — the messages of the diagnostic actors (tests and benchmarks only):
 * the fault-injection probe and the FrameRing producer/consumer probe.
 * Must never: be part of a production configuration, or import actor code.
 */
import { any, arr, bool, empty, int, num, obj, oneOf, opt, sharedBuffer, str } from '../../runtime/checks.js';
import { notice, request, returns } from '../../runtime/schema.js';

export interface ConsumeResult {
  frames: number;
  bytes: number;
  laps: number;
  lostFrames: number;
  errors: string[];
  seqs: number[];
  /** Seq of each frame that followed a lap. */
  resyncs: { seq: number; keyframe: boolean }[];
  firstSeq: number;
  lastSeq: number;
  ms: number;
  /** From the first frame received to the last one. */
  activeMs: number;
  timedOut: boolean;
}

export const PROBE_METHODS = {
  PROBE_ECHO: request(obj({ payload: any }), returns<unknown>()),
  PROBE_STATE: request(empty, returns<{ counter: number; startedAt: number; generation: number }>()),
  PROBE_INCR: request(empty, returns<{ counter: number }>()),
  PROBE_SLEEP: request(obj({ ms: int(0, 600_000) }), returns<{ slept: number }>()),
  PROBE_TICKS: request(obj({ count: int(0, 100_000), intervalMs: int(0, 60_000) }), returns<{ scheduled: number }>()),
  PROBE_TICK: notice(obj({ n: int(0), generation: int(0) })),
  PROBE_CALL_BACK: request(obj({ name: str, args: arr(any, 64) }), returns<unknown>()),
  PROBE_REJECT: request(obj({ field: str }), returns<never>()),
  PROBE_CRASH: request(obj({ message: str }), returns<never>()),
  PROBE_CRASH_LATER: request(obj({ afterMs: int(0, 60_000) }), returns<{ armed: number }>()),
  PROBE_HANG: request(empty, returns<never>()),
  PROBE_BLOCK: request(obj({ ms: int(0, 600_000) }), returns<{ blocked: number }>()),
  PROBE_EXIT: request(obj({ code: int(0, 255) }), returns<never>()),
  PROBE_THROW_UNCAUGHT: request(obj({ message: str }), returns<{ armed: boolean }>()),
  PROBE_REJECT_UNHANDLED: request(obj({ message: str }), returns<{ armed: boolean }>()),
  PROBE_ALLOCATE: request(obj({ mb: int(1, 1 << 16) }), returns<{ kept: number }>()),
  PROBE_GARBAGE: request(obj({ what: oneOf('unknown-method', 'not-msgpack', 'bad-version') }), returns<{ sent: boolean }>()),
} as const;

export const RING_PROBE_METHODS = {
  RINGPROBE_PRODUCE: request(obj({
    ring: sharedBuffer,
    frames: arr(obj({ size: int(0), key: bool, stream: int(0, 255) }), 1 << 20),
    repeat: int(1),
    fill: oneOf('pattern', 'none'),
    /** false: the writer copies with V8, not with iv_mem's memcpy (bench ring's A/B). */
    nativeCopy: opt(bool),
    intervalMs: num(0),
    durationMs: opt(num(0)),
    stopFlag: opt(sharedBuffer),
  }), returns<{ frames: number; bytes: number; ms: number }>()),
  RINGPROBE_CONSUME: request(obj({
    ring: sharedBuffer,
    start: oneOf('latest-keyframe', 'next', 'oldest'),
    mode: oneOf('copy', 'view'),
    verify: bool,
    untilSeq: num(-1),
    timeoutMs: int(0),
    recordSeqs: bool,
    stopFlag: opt(sharedBuffer),
    /** Poll every pollMs instead of waiting on the ring's futex (the 10 ms tick model). */
    pollMs: opt(num(0, 1_000)),
  }), returns<ConsumeResult>()),
} as const;

export type ProbeMethods = typeof PROBE_METHODS;
export type RingProbeMethods = typeof RING_PROBE_METHODS;
