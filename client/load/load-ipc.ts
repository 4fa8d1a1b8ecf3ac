/**
 * load-ipc — the messages between `ivgw load`'s coordinator and its load worker
 * processes, versioned.
 *
 * Owns: LOAD_PROTOCOL_VERSION, the scenario names, the `LOAD_*` method table (direction
 * and a typed body check each) and `checkLoadMessage`.
 * Must never: accept a message with another version, an unknown method, the wrong
 * direction or a body that fails its check (that is a fault the run counts).
 *
 * Child-process IPC, one message per `process.send`: `{ v: LOAD_PROTOCOL_VERSION, method, body }`.
 */
import { IvError } from '../../runtime/errors.js';
import { arr, empty, int, num, obj, oneOf, opt, str, type Check } from '../../runtime/checks.js';
import type { Direction } from '../../runtime/schema.js';

export const LOAD_PROTOCOL_VERSION = 1;

export const LOAD_SCENARIOS = ['live', 'playback', 'voice', 'command', 'stall', 'churn', 'idle'] as const;

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
  resumes: int(0),
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
} as const satisfies Record<string, { direction: Direction; body: Check<unknown> }>;

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
