/**
 * errors — the one place where iotvideo-gateway error codes live.
 *
 * Owns: the stable `IV_ERR_*` codes (names from the Tencent IoT Video SDK where the
 * SDK has one, `errno` numbers for the C API), the `IvError` class, and the wire form
 * `{name, code, message, field?}` an error takes when it crosses a thread.
 *
 * Must never: be `instanceof`-checked after crossing threads (use `isIvError`), throw
 * strings, or reuse/renumber a published code.
 */

/** Every code, its C `errno` and a one-line meaning. Append only; never renumber. */
export const IV_ERRORS = {
  IV_ERR_NONE: { errno: 0, text: 'success' },
  // ---- general (SDK iv_err_code_e) ----
  IV_ERR_INVALID_PARAM: { errno: 1, text: 'a parameter is invalid' },
  IV_ERR_NOT_INITIALIZED: { errno: 2, text: 'the module is not initialised' },
  IV_ERR_ALREADY_INITIALIZED: { errno: 3, text: 'the module is already initialised' },
  IV_ERR_NO_MEMORY: { errno: 4, text: 'out of memory or over a configured memory bound' },
  IV_ERR_TIMEOUT: { errno: 5, text: 'the operation timed out' },
  IV_ERR_BUSY: { errno: 6, text: 'the target is busy; its queue is full' },
  IV_ERR_CLOSED: { errno: 7, text: 'the target was closed' },
  IV_ERR_INTERNAL: { errno: 8, text: 'internal error' },
  IV_ERR_NOT_SUPPORTED: { errno: 9, text: 'not supported' },
  // ---- runtime: messaging ----
  IV_ERR_PROTOCOL: { errno: 100, text: 'a cross-thread message broke the schema' },
  IV_ERR_UNKNOWN_METHOD: { errno: 101, text: 'the method is not in the message schema' },
  IV_ERR_VERSION_MISMATCH: { errno: 102, text: 'the two sides speak different schema versions' },
  IV_ERR_REQUEST_TIMEOUT: { errno: 103, text: 'no response before the request deadline' },
  IV_ERR_MAILBOX_FULL: { errno: 104, text: 'the actor mailbox is full' },
  // ---- runtime: actors and supervision ----
  IV_ERR_ACTOR_NOT_FOUND: { errno: 110, text: 'no such actor' },
  IV_ERR_ACTOR_CRASHED: { errno: 111, text: 'the actor crashed' },
  IV_ERR_ACTOR_UNAVAILABLE: { errno: 112, text: 'the actor is not running' },
  IV_ERR_ACTOR_NO_HANDLER: { errno: 113, text: 'the actor does not handle this method' },
  IV_ERR_ACTOR_START_FAILED: { errno: 114, text: 'the actor failed to start' },
  IV_ERR_WORKER_DIED: { errno: 120, text: 'the worker thread exited' },
  IV_ERR_WORKER_HUNG: { errno: 121, text: 'the worker thread stopped answering heartbeats' },
  IV_ERR_WORKER_OOM: { errno: 122, text: 'the worker thread ran out of memory' },
  IV_ERR_WORKER_FAULT: { errno: 123, text: 'the worker thread reported a fault' },
  IV_ERR_RESTART_INTENSITY: { errno: 130, text: 'too many restarts; escalated' },
  IV_ERR_SHUTDOWN_TIMEOUT: { errno: 131, text: 'a child did not stop within its shutdown timeout' },
  IV_ERR_PINNED_EXITED: { errno: 132, text: 'a pinned child exited and must not be restarted' },
  // ---- runtime: frame rings ----
  IV_ERR_RING_FRAME_TOO_LARGE: { errno: 140, text: 'the frame does not fit in the ring' },
  IV_ERR_RING_LAYOUT: { errno: 141, text: 'the shared buffer is not a frame ring of this version' },
  // ---- audio/video input (iv_cs_push_stream rules, capture) ----
  IV_ERR_AV_INVALID_FRAME: { errno: 150, text: 'the frame is not a valid elementary-stream frame' },
  IV_ERR_AV_TRUNCATED: { errno: 151, text: 'the frame or one of its units is cut short' },
  IV_ERR_AV_MISSING_PARAM_SETS: { errno: 152, text: 'a keyframe lacks its parameter sets (SPS/PPS, and VPS for H.265)' },
  IV_ERR_AV_B_FRAME: { errno: 153, text: 'B-frames are not supported' },
  IV_ERR_AV_BAD_AUDIO_FRAME: { errno: 154, text: 'the audio frame does not match the declared format' },
  IV_ERR_AV_FORMAT_CHANGED: { errno: 155, text: 'the stream format changed; exit and init again to change it' },
  IV_ERR_AV_FRAME_TOO_LARGE: { errno: 156, text: 'the frame exceeds the configured maximum' },
  IV_ERR_AV_WAIT_KEYFRAME: { errno: 157, text: 'frame dropped: the stream resumes at the next valid keyframe' },
  IV_ERR_AV_UNSUPPORTED: { errno: 158, text: 'this codec or format is not supported' },
  IV_ERR_AV_SOURCE_FAILED: { errno: 159, text: 'the media source failed' },
  // ---- app access (P2P signaling) ----
  IV_ERR_AUTH_MISSING: { errno: 170, text: 'the request carries no access token' },
  IV_ERR_AUTH_INVALID: { errno: 171, text: 'the access token is malformed or its signature is wrong' },
  IV_ERR_AUTH_EXPIRED: { errno: 172, text: 'the access token has expired' },
  IV_ERR_AUTH_WRONG_PEER: { errno: 173, text: 'the access token was issued for another device or peer' },
  IV_ERR_AUTH_RIGHTS: { errno: 174, text: 'the access token does not grant this right' },
  IV_ERR_AUTH_REPLAYED: { errno: 175, text: 'the request was seen before or is too old' },
  // ---- P2P transport ----
  IV_ERR_P2P_CONNECT_FAIL: { errno: 180, text: 'the peer connection failed before it was up (ICE or DTLS)' },
  // ---- cloud storage (SDK iv_cs) ----
  IV_ERR_CS_APPLY_NO_SERVICE: { errno: 200, text: 'no cloud storage plan is active' },
  IV_ERR_CS_QUERY_SERVICE_TIMEOUT: { errno: 201, text: 'plan query timed out; cached data returned' },
  IV_ERR_CS_EVENT_RUNNING: { errno: 202, text: 'this event is already running; stop it first' },
  IV_ERR_CS_EVENT_NOT_RUNNING: { errno: 203, text: 'this event is not running' },
  IV_ERR_CS_UPLOAD_FAILED: { errno: 204, text: 'the upload failed; the data stays spooled and is retried' },
  IV_ERR_CS_STORE: { errno: 205, text: 'the object store refused or failed the request' },
} as const;

export type IvErrorCode = keyof typeof IV_ERRORS;

/** What an error looks like on the wire between threads (and in JSON logs). */
export interface WireError {
  name: string;
  code: string;
  message: string;
  field?: string;
}

export interface IvErrorOptions {
  /** The input field the error is about, e.g. `maxGopSize` or `body.actorId`. */
  field?: string;
  cause?: unknown;
}

/** The only error class the runtime throws on purpose. */
export class IvError extends Error {
  override readonly name = 'IvError';
  readonly code: IvErrorCode;
  readonly errno: number;
  readonly field: string | undefined;

  constructor(code: IvErrorCode, message?: string, options: IvErrorOptions = {}) {
    super(message ?? IV_ERRORS[code].text, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.errno = IV_ERRORS[code].errno;
    this.field = options.field;
  }

  toWire(): WireError {
    const wire: WireError = { name: this.name, code: this.code, message: this.message };
    if (this.field !== undefined) {
      wire.field = this.field;
    }
    return wire;
  }
}

export function isIvErrorCode(code: unknown): code is IvErrorCode {
  return typeof code === 'string' && Object.hasOwn(IV_ERRORS, code);
}

/** True for any IvError (also one rebuilt after crossing threads); optionally of one code. */
export function isIvError(err: unknown, code?: IvErrorCode): err is IvError {
  if (typeof err !== 'object' || err === null) {
    return false;
  }
  const e = err as { name?: unknown; code?: unknown };
  return e.name === 'IvError' && isIvErrorCode(e.code) && (code === undefined || e.code === code);
}

/** A validation error naming the field, the usual answer to bad input. */
export function invalidParam(field: string, message: string): IvError {
  return new IvError('IV_ERR_INVALID_PARAM', `${field}: ${message}`, { field });
}

/** Turn anything thrown into its wire form; non-IvErrors keep their name and message. */
export function toWireError(err: unknown): WireError {
  if (isIvError(err)) {
    const wire: WireError = { name: 'IvError', code: err.code, message: err.message };
    if (err.field !== undefined) {
      wire.field = err.field;
    }
    return wire;
  }
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { name: err.name, code: typeof code === 'string' ? code : 'IV_ERR_INTERNAL', message: err.message };
  }
  return { name: 'Error', code: 'IV_ERR_INTERNAL', message: `non-error thrown: ${String(err)}` };
}

/**
 * Rebuild a wire error as an IvError. Codes the table does not know become
 * IV_ERR_INTERNAL with the original code kept in the message, so nothing is lost.
 */
export function fromWireError(wire: WireError): IvError {
  const options: IvErrorOptions = {};
  if (wire.field !== undefined) {
    options.field = wire.field;
  }
  if (isIvErrorCode(wire.code)) {
    return new IvError(wire.code, wire.message, options);
  }
  return new IvError('IV_ERR_INTERNAL', `${wire.name} ${wire.code}: ${wire.message}`, options);
}
