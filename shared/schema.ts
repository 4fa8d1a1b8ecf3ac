/**
 * schema — every message that crosses a thread, in one place, versioned.
 *
 * Owns: the envelope `{v, id, kind, method, target, body, error?}`, PROTOCOL_VERSION,
 * the documented worker exit codes, and the table of methods (`ACTOR_VERB`) with
 * their kind (req = request expecting a res, ntf = notification), the side that may
 * send them and a validator for their body.
 *
 * Must never: accept a method that is not in `METHODS` (that is a fault, reported and
 * answered, never ignored), or change a method's meaning without bumping
 * PROTOCOL_VERSION.
 *
 * Envelope rules:
 * - `id` is per sender, a positive int32 that wraps; a `res` carries its `req`'s id,
 *   a `ntf` carries id 0.
 * - `target` is `sys` for the worker host itself, otherwise an actor id.
 * - `body` is msgpack; SharedArrayBuffers and MessagePorts may appear within six
 *   levels of plain objects (they travel beside the msgpack bytes, see runtime/wire).
 */
import { IvError, type WireError } from '../runtime/errors.js';
import { any, arr, bool, bytes, int, num, obj, oneOf, opt, sharedBuffer, str, type Check } from './checks.js';

export const PROTOCOL_VERSION = 1;

/** The process exit codes a worker thread uses; anything else is a crash. */
export const WORKER_EXIT = {
  /** Asked to shut down and did so cleanly. */
  OK: 0,
  /** An uncaught exception or unhandled rejection (reported as SYS_FAULT first). */
  FAULT: 70,
  /** workerData named a protocol version this build does not speak. */
  VERSION_MISMATCH: 76,
  /** workerData was malformed. */
  BAD_START: 78,
} as const;

export type EnvelopeKind = 'req' | 'res' | 'ntf';

export interface Envelope {
  v: number;
  id: number;
  kind: EnvelopeKind;
  method: string;
  target: string;
  body: unknown;
  error?: WireError;
}

/** Who may send a method: the parent (main thread) to a worker, or a worker to its parent. */
export type Direction = 'toWorker' | 'toParent';

export interface MethodSpec {
  kind: 'req' | 'ntf';
  direction: Direction;
  body: Check;
}

const wireError = obj({ name: str, code: str, message: str, field: opt(str) });

const empty = obj({});

export const METHODS = {
  // ---- worker host (target "sys") ----
  /** Worker → parent once at start-up: the version handshake. */
  SYS_HELLO: { kind: 'ntf', direction: 'toParent', body: obj({ version: int(0), threadId: int(0), name: str }) },
  /** Worker → parent every heartbeat interval; missing ones mean the worker hangs. */
  SYS_HEARTBEAT: { kind: 'ntf', direction: 'toParent', body: obj({ seq: int(0), heapUsed: num(0), actors: int(0) }) },
  /** Worker → parent: an actor incarnation ended by itself (crash, hang, or normal stop). */
  SYS_ACTOR_EXIT: {
    kind: 'ntf',
    direction: 'toParent',
    body: obj({ actorId: str, generation: int(0), reason: oneOf('crash', 'hang', 'normal'), error: opt(wireError) }),
  },
  /** Worker → parent: the worker is about to die (uncaught exception) or saw a protocol fault. */
  SYS_FAULT: {
    kind: 'ntf',
    direction: 'toParent',
    body: obj({ origin: oneOf('uncaughtException', 'unhandledRejection', 'protocol'), error: wireError }),
  },
  /** Parent → worker: start one actor incarnation from an actor module. */
  SYS_ACTOR_START: {
    kind: 'req',
    direction: 'toWorker',
    body: obj({
      actorId: str,
      generation: int(0),
      module: str,
      args: any,
      mailboxCapacity: int(1, 1 << 20),
      handlerTimeoutMs: int(1),
    }),
  },
  /** Parent → worker: stop one actor incarnation (its terminate hook runs, timers are cleared). */
  SYS_ACTOR_STOP: { kind: 'req', direction: 'toWorker', body: obj({ actorId: str, generation: int(0), timeoutMs: int(0) }) },
  /** Parent → worker: stop every actor, then the worker exits with WORKER_EXIT.OK. */
  SYS_SHUTDOWN: { kind: 'req', direction: 'toWorker', body: obj({ timeoutMs: int(0) }) },
  /** Parent → worker: round trip to the worker host itself. */
  SYS_PING: { kind: 'req', direction: 'toWorker', body: obj({ t: num() }) },

  // ---- probe actor (actors/probe): diagnostics and fault injection ----
  PROBE_ECHO: { kind: 'req', direction: 'toWorker', body: obj({ payload: any }) },
  PROBE_STATE: { kind: 'req', direction: 'toWorker', body: empty },
  PROBE_INCR: { kind: 'req', direction: 'toWorker', body: empty },
  PROBE_SLEEP: { kind: 'req', direction: 'toWorker', body: obj({ ms: int(0, 600_000) }) },
  PROBE_TICKS: { kind: 'req', direction: 'toWorker', body: obj({ count: int(0, 100_000), intervalMs: int(0, 60_000) }) },
  PROBE_TICK: { kind: 'ntf', direction: 'toParent', body: obj({ n: int(0), generation: int(0) }) },
  PROBE_CALL_BACK: { kind: 'req', direction: 'toWorker', body: obj({ name: str, args: arr(any, 64) }) },
  PROBE_REJECT: { kind: 'req', direction: 'toWorker', body: obj({ field: str }) },
  PROBE_CRASH: { kind: 'req', direction: 'toWorker', body: obj({ message: str }) },
  PROBE_CRASH_LATER: { kind: 'req', direction: 'toWorker', body: obj({ afterMs: int(0, 60_000) }) },
  PROBE_HANG: { kind: 'req', direction: 'toWorker', body: empty },
  PROBE_BLOCK: { kind: 'req', direction: 'toWorker', body: obj({ ms: int(0, 600_000) }) },
  PROBE_EXIT: { kind: 'req', direction: 'toWorker', body: obj({ code: int(0, 255) }) },
  PROBE_THROW_UNCAUGHT: { kind: 'req', direction: 'toWorker', body: obj({ message: str }) },
  PROBE_REJECT_UNHANDLED: { kind: 'req', direction: 'toWorker', body: obj({ message: str }) },
  PROBE_ALLOCATE: { kind: 'req', direction: 'toWorker', body: obj({ mb: int(1, 1 << 16) }) },
  PROBE_GARBAGE: { kind: 'req', direction: 'toWorker', body: obj({ what: oneOf('unknown-method', 'not-msgpack', 'bad-version') }) },

  // ---- ring probe actor (actors/probe): frame ring producer/consumer for tests and benches ----
  RINGPROBE_PRODUCE: {
    kind: 'req',
    direction: 'toWorker',
    body: obj({
      ring: sharedBuffer,
      frames: arr(obj({ size: int(0), key: bool, stream: int(0, 255) }), 1 << 20),
      repeat: int(1),
      fill: oneOf('pattern', 'none'),
      intervalMs: num(0),
      durationMs: opt(num(0)),
      stopFlag: opt(sharedBuffer),
    }),
  },
  RINGPROBE_CONSUME: {
    kind: 'req',
    direction: 'toWorker',
    body: obj({
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
    }),
  },

  // ---- capture actor (actors/capture): one camera stream into one FrameRing ----
  /** Push one frame (the SDK's push API): video = one Annex-B access unit, audio = one spec audio frame. */
  CAPTURE_PUSH: {
    kind: 'req',
    direction: 'toWorker',
    body: obj({ stream: oneOf('video', 'audio'), data: bytes, pts: opt(num(0)), keyframe: opt(bool) }),
  },
  /** Stream statistics: fps, bitrate, GOP, keyframe interval, refusals by code, ring position. */
  CAPTURE_STATS: { kind: 'req', direction: 'toWorker', body: empty },
  /** Something the owner should know: a refused frame, the source exiting/restarting, the format. */
  CAPTURE_EVENT: {
    kind: 'ntf',
    direction: 'toParent',
    body: obj({ camera: str, type: oneOf('rejected', 'source-exit', 'source-restart', 'source-ended', 'source-up', 'format'), code: opt(str), message: opt(str), frame: opt(int(0)), detail: opt(any) }),
  },

  // ---- p2p peer actor (actors/p2p): one app's peer connection ----
  /** A verified offer from signaling; answers with the device's SDP answer. */
  P2P_PEER_OFFER: {
    kind: 'req',
    direction: 'toWorker',
    body: obj({ requestId: str, sdp: str, rights: arr(oneOf('live', 'playback', 'voice', 'command'), 4), expires: num(0) }),
  },
  /** A remote ICE candidate from signaling. */
  P2P_PEER_REMOTE_CANDIDATE: { kind: 'ntf', direction: 'toWorker', body: obj({ candidate: str, mid: str }) },
  /** A local ICE candidate for signaling to send. */
  P2P_PEER_LOCAL_CANDIDATE: { kind: 'ntf', direction: 'toParent', body: obj({ candidate: str, mid: str }) },
  /** Connection and stream life: connected, closed, stream-open, stream-close, watermark, restarting/restarted (ICE restart), stream-origin (a live stream's time origin, kept for a restarted actor). */
  P2P_PEER_EVENT: {
    kind: 'ntf',
    direction: 'toParent',
    body: obj({ type: oneOf('connected', 'closed', 'stream-open', 'stream-close', 'watermark', 'restarting', 'restarted', 'stream-origin'), stream: opt(int(0)), detail: opt(any) }),
  },
  /** Renegotiate the app's connection (ICE restart: a new transport, the app's session and streams kept). */
  P2P_PEER_RESTART: { kind: 'req', direction: 'toWorker', body: obj({ reason: str }) },
  /** The device's offer of a restart, for signaling to send to the app (`offer` with iceRestart). */
  P2P_PEER_SIGNAL_OFFER: { kind: 'ntf', direction: 'toParent', body: obj({ requestId: str, sdp: str }) },
  /** The app's answer to the device's restart offer (checked by signaling). */
  P2P_PEER_ANSWER: { kind: 'req', direction: 'toWorker', body: obj({ requestId: str, sdp: str }) },
  /** Is this app's connection alive: connected, restarting, ms since the app was last heard, open streams. */
  P2P_PEER_HEALTH: { kind: 'req', direction: 'toWorker', body: empty },
  /** Bytes from the user's onSendGet for a custom stream (the built-in FLV path never uses this). */
  P2P_PEER_SEND: { kind: 'ntf', direction: 'toWorker', body: obj({ stream: int(1), data: bytes }) },
  /** An app's command, to be answered by the user's onCommand (via the command actor). */
  P2P_PEER_COMMAND: { kind: 'ntf', direction: 'toParent', body: obj({ id: int(0), data: bytes }) },
  /** The answer to P2P_PEER_COMMAND; an empty reply closes the app's connection (SDK note). */
  P2P_PEER_REPLY: { kind: 'ntf', direction: 'toWorker', body: obj({ id: int(0), data: opt(bytes), code: opt(str), message: opt(str) }) },
  /** Intercom: start (params), one audio frame, or the end of the app's voice. */
  P2P_PEER_VOICE: { kind: 'ntf', direction: 'toParent', body: obj({ type: oneOf('start', 'frame', 'end'), params: opt(str), data: opt(bytes) }) },
  /** Per-stream send statistics of this peer. */
  P2P_PEER_STATS: { kind: 'req', direction: 'toWorker', body: empty },
  /** The global watermarks changed (iv_avt_p2p_set_buf_watermark). */
  P2P_SET_WATERMARK: { kind: 'req', direction: 'toWorker', body: obj({ low: int(0), warn: int(0), high: int(0) }) },

  // ---- command actor (actors/p2p): runs the user's onCommand with a deadline ----
  COMMAND_RUN: { kind: 'req', direction: 'toWorker', body: obj({ callback: str, peer: str, data: bytes, deadlineMs: int(1, 60_000) }) },
  // ---- voice actor (actors/p2p): delivers intercom audio to the user's callbacks, in order ----
  VOICE_START: { kind: 'req', direction: 'toWorker', body: obj({ callback: str, peer: str, params: str }) },
  VOICE_FRAME: { kind: 'req', direction: 'toWorker', body: obj({ callback: str, peer: str, data: bytes }) },
  VOICE_END: { kind: 'req', direction: 'toWorker', body: obj({ callback: str, peer: str }) },

  // ---- cloud actor (actors/cloud): one channel's recording, spool and upload ----
  /** The full-time plan became valid (on) or lapsed (off). */
  CLOUD_FULL_TIME: { kind: 'req', direction: 'toWorker', body: obj({ on: bool }) },
  /** Start event `eventId` (1-16); times are wall-clock ms; the picture is a validated JPEG. */
  CLOUD_EVENT_START: {
    kind: 'req',
    direction: 'toWorker',
    body: obj({ eventId: int(1, 16), eventStartMs: num(0), streamStartMs: num(0), picture: opt(bytes) }),
  },
  CLOUD_EVENT_STOP: { kind: 'req', direction: 'toWorker', body: obj({ eventId: int(1, 16), eventStopMs: num(0), streamStopMs: num(0) }) },
  /** iv_cs_set_trans_time: per-request upload timeout and reply timeout, ms (> 0). */
  CLOUD_SET_TRANS_TIME: { kind: 'req', direction: 'toWorker', body: obj({ uploadMs: int(1, 3_600_000), replyMs: int(1, 3_600_000) }) },
  /** Recording and upload statistics. */
  CLOUD_STATS: { kind: 'req', direction: 'toWorker', body: empty },
  /** End the running session (segments into the spool) and wait up to drainMs for uploads. */
  CLOUD_CLOSE: { kind: 'req', direction: 'toWorker', body: obj({ drainMs: int(0, 3_600_000) }) },
  /** Something the owner should know: a snapshot's upload result, sessions, upload failures, overruns. */
  CLOUD_NOTICE: {
    kind: 'ntf',
    direction: 'toParent',
    body: obj({ type: oneOf('picture', 'session', 'upload-failed', 'overrun'), key: opt(str), code: opt(str), message: opt(str), what: opt(str) }),
  },
} as const satisfies Record<string, MethodSpec>;

export type MethodName = keyof typeof METHODS;

export function isMethodName(method: unknown): method is MethodName {
  return typeof method === 'string' && Object.hasOwn(METHODS, method);
}

/** Validate a method's body against the schema: undefined when fine, an IvError naming the field otherwise. */
export function checkBody(method: MethodName, body: unknown): ReturnType<Check> {
  return METHODS[method].body(body, 'body');
}

// ---- typed bodies and results of the runtime's own methods ----

export interface ActorStartBody {
  actorId: string;
  generation: number;
  module: string;
  args: unknown;
  mailboxCapacity: number;
  handlerTimeoutMs: number;
}

export interface ActorExitBody {
  actorId: string;
  generation: number;
  reason: 'crash' | 'hang' | 'normal';
  error?: WireError;
}

export interface FaultBody {
  origin: 'uncaughtException' | 'unhandledRejection' | 'protocol';
  error: WireError;
}

export interface HeartbeatBody {
  seq: number;
  heapUsed: number;
  actors: number;
}

export interface HelloBody {
  version: number;
  threadId: number;
  name: string;
}

// ---- load tester (client/load): the `ivgw load` coordinator and its load worker processes ----
// Child-process IPC, one message per `process.send`: `{ v: LOAD_PROTOCOL_VERSION, method, body }`.
// A message with another version, an unknown method, the wrong direction or a body that
// fails its check is a fault (the receiver reports it and the run counts it), never ignored.

export const LOAD_PROTOCOL_VERSION = 1;

export const LOAD_SCENARIOS = ['live', 'playback', 'voice', 'command', 'stall', 'churn'] as const;

const latencyPairs = arr(arr(int(0), 2), 4096);

const loadAppResult = obj({
  index: int(0),
  peer: str,
  scenario: oneOf(...LOAD_SCENARIOS),
  channel: int(0, 255),
  sessions: int(0),
  connects: int(0),
  connectRetries: int(0),
  connectMs: arr(num(0)),
  firstFrameMs: num(-1),
  seconds: num(0),
  bytes: int(0),
  videoFrames: int(0),
  audioFrames: int(0),
  gaps: int(0),
  pauseGaps: int(0),
  violations: int(0),
  violationSamples: arr(str, 20),
  errors: int(0),
  errorSamples: arr(obj({ code: str, message: str }), 20),
  latency: latencyPairs,
  commandRttMs: arr(num(0)),
  voiceFrames: int(0),
  watermarkEvents: int(0),
  playbackRounds: int(0),
});

export const LOAD_METHODS = {
  /** Coordinator → worker: the apps this worker simulates and the run's settings. */
  LOAD_START: {
    direction: 'toWorker',
    body: obj({
      broker: str,
      device: str,
      secret: str,
      bind: str,
      seconds: num(0.1),
      stallSeconds: num(0.1),
      t0: num(0),
      apps: arr(obj({ index: int(0), peer: str, scenario: oneOf(...LOAD_SCENARIOS), channel: int(0, 255), startAtMs: num(0) }), 100_000),
    }),
  },
  /** Coordinator → worker: end every app now and report (Ctrl-C). */
  LOAD_STOP: { direction: 'toWorker', body: empty },
  /** Worker → coordinator, every second: what arrived in that second over all its apps. */
  LOAD_SAMPLE: {
    direction: 'toParent',
    body: obj({ t: int(0), bytes: int(0), videoFrames: int(0), connected: int(0), errors: int(0), latency: latencyPairs }),
  },
  /** Worker → coordinator: one app's milestone (for the progress line). */
  LOAD_APP: {
    direction: 'toParent',
    body: obj({ index: int(0), type: oneOf('connected', 'first-frame', 'error', 'done'), ms: opt(num()), code: opt(str), message: opt(str) }),
  },
  /** Worker → coordinator, once at the end: every app's result. */
  LOAD_RESULT: { direction: 'toParent', body: obj({ apps: arr(loadAppResult, 100_000) }) },
  /** Worker → coordinator: the worker cannot go on (it exits after this). */
  LOAD_FAULT: { direction: 'toParent', body: obj({ code: str, message: str }) },
} as const satisfies Record<string, { direction: Direction; body: Check }>;

export type LoadMethod = keyof typeof LOAD_METHODS;

/** Check one load IPC message arriving in `direction`; the method, or the problem naming the field. */
export function checkLoadMessage(raw: unknown, direction: Direction): { ok: true; method: LoadMethod; body: unknown } | { ok: false; error: IvError } {
  if (typeof raw !== 'object' || raw === null) {
    return { ok: false, error: new IvError('IV_ERR_PROTOCOL', 'load message: expected an object', { field: 'message' }) };
  }
  const m = raw as { v?: unknown; method?: unknown; body?: unknown };
  if (m.v !== LOAD_PROTOCOL_VERSION) {
    return { ok: false, error: new IvError('IV_ERR_PROTOCOL', `load message: version ${String(m.v)}, this build speaks ${LOAD_PROTOCOL_VERSION}`, { field: 'v' }) };
  }
  if (typeof m.method !== 'string' || !Object.hasOwn(LOAD_METHODS, m.method)) {
    return { ok: false, error: new IvError('IV_ERR_UNKNOWN_METHOD', `load message: unknown method ${JSON.stringify(m.method)}`, { field: 'method' }) };
  }
  const method = m.method as LoadMethod;
  if (LOAD_METHODS[method].direction !== direction) {
    return { ok: false, error: new IvError('IV_ERR_PROTOCOL', `load message: ${method} may not be sent ${direction === 'toWorker' ? 'to a worker' : 'to the coordinator'}`, { field: 'method' }) };
  }
  const problem = LOAD_METHODS[method].body(m.body, 'body');
  return problem ? { ok: false, error: problem } : { ok: true, method, body: m.body };
}
