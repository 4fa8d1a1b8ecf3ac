/**
 * control — the `control` data channel's messages (docs/PROTOCOL.md §4): msgpack maps,
 * validated on arrival. Used by both ends (the device's peer actor, the app client);
 * browser-safe (msgpackr, Uint8Array).
 * Owns: the message types, their encoding and both decoders.
 * Must never: return an unchecked message (decode gives a typed problem instead), or
 * import from actors/ or client/.
 */
import { Packr } from 'msgpackr';

export const MAX_CONTROL_BYTES = 64 * 1024;
export const MAX_COMMAND_BYTES = 16 * 1024;

export type AppToDevice =
  | { op: 'open'; id: number; params: string }
  | { op: 'close'; id: number; stream: number }
  | { op: 'voice_start'; id: number; params: string }
  | { op: 'voice_stop'; id: number }
  | { op: 'command'; id: number; data: Uint8Array }
  | { op: 'ack'; stream: number; bytes: number; echo: number }
  | { op: 'ping'; id: number; t: number }
  /** What the device serves: its channels with their formats and recorded time ranges. */
  | { op: 'channels'; id: number };

/** One channel as `channels` describes it (§4.4). */
export interface ChannelInfo {
  channel: number;
  /** Size and rate from the latest keyframe's SPS (absent before the camera sent one). */
  video?: { codec: 'h264' | 'h265'; width?: number; height?: number; fps?: number };
  audio?: { codec: 'aac' | 'g711a' | 'g711u' | 'pcm'; sampleRate: number; channels: number };
  /** Recorded wall-clock ranges [startMs, endMs), oldest first, the newest MAX_RANGES; only with the `playback` right. */
  recorded?: [number, number][];
}

export const MAX_RANGES = 500;

export type DeviceToApp =
  | { op: 'ok'; id: number; stream?: number; label?: string }
  /** `id` is the request's; a request whose id itself is invalid gets it back as it was sent. */
  | { op: 'error'; id: AnswerId; code: string; message: string }
  | { op: 'reply'; id: number; data: Uint8Array }
  | { op: 'channels'; id: number; channels: ChannelInfo[] }
  | { op: 'probe'; t: number }
  | { op: 'pong'; id: number; t: number; deviceTime: number }
  | { op: 'event'; event: 'stream_closed'; stream: number; reason: string }
  | { op: 'event'; event: 'watermark'; stream: number; level: 'low' | 'warn' | 'high' }
  /** Live streams: the device-clock unix ms of FLV timestamp 0 (capture time), sent once. */
  | { op: 'event'; event: 'stream_time'; stream: number; originMs: number };

const packr = new Packr({ useRecords: false, moreTypes: false });

export function encodeControl(msg: AppToDevice | DeviceToApp): Uint8Array {
  return packr.pack(msg);
}

/**
 * The id of an answer: the request's own id, echoed as it came when it is a scalar but not
 * a valid one; nil when the request's id is a map, an array or bytes (PROTOCOL.md §4).
 */
export type AnswerId = number | string | bigint | boolean | null;

export type Decoded<T> = { ok: true; msg: T } | { ok: false; id: AnswerId | undefined; code: 'IV_ERR_INVALID_PARAM' | 'IV_ERR_UNKNOWN_METHOD'; message: string };

/**
 * An integer in any msgpack encoding (fixint, uint8..uint64, int8..int64): msgpackr hands
 * 64-bit ones over as bigint. Returns the number when it is an integer within
 * [min, max] (max at most 2^53 − 1, exact in JavaScript), else undefined.
 */
export function intIn(v: unknown, min: number, max: number): number | undefined {
  const n = typeof v === 'bigint' ? (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : undefined) : v;
  return typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max ? n : undefined;
}

/** A number in any msgpack encoding (integers of any width, float32/64). */
function numberOf(v: unknown): number | undefined {
  if (typeof v === 'bigint') {
    return Number(v);
  }
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

const MAX_U32 = 0xffffffff;
/** Largest message decoded at all (the SCTP maximum message size both ends announce). */
const MAX_DECODED_BYTES = 256 * 1024;

function unpack(bytes: Uint8Array): Record<string, unknown> | string {
  if (bytes.byteLength > MAX_DECODED_BYTES) {
    return `message of ${bytes.byteLength} bytes exceeds ${MAX_CONTROL_BYTES}`;
  }
  let raw: unknown;
  try {
    raw = packr.unpack(bytes);
  } catch (err) {
    return `not msgpack: ${(err as Error).message}`;
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || Object.getPrototypeOf(raw) !== Object.prototype) {
    return 'not a msgpack map';
  }
  return raw as Record<string, unknown>;
}

/**
 * What a request's id is answered with: the valid id, an invalid scalar as sent, nil for
 * an id that is a map, an array or bytes, or nothing when the id is absent.
 */
function answerId(v: unknown): AnswerId | undefined {
  const id = intIn(v, 0, MAX_U32);
  if (id !== undefined) {
    return id;
  }
  if (v === undefined) {
    return undefined;
  }
  return typeof v === 'number' || typeof v === 'string' || typeof v === 'bigint' || typeof v === 'boolean' ? v : null;
}

/**
 * Device side: decode and check one message from an app. A request (a message with an
 * `id`) is always answerable: a bad or oversized request gives its problem with the id
 * to answer (the id as sent when the id itself is what is wrong).
 */
export function decodeFromApp(bytes: Uint8Array): Decoded<AppToDevice> {
  const raw = unpack(bytes);
  if (typeof raw === 'string') {
    return { ok: false, id: undefined, code: 'IV_ERR_INVALID_PARAM', message: raw };
  }
  const echo = answerId(raw.id);
  const bad = (field: string, why: string): Decoded<AppToDevice> => ({ ok: false, id: echo, code: 'IV_ERR_INVALID_PARAM', message: `${field}: ${why}` });
  if (bytes.byteLength > MAX_CONTROL_BYTES) {
    return bad('message', `${bytes.byteLength} bytes exceeds ${MAX_CONTROL_BYTES}`);
  }
  const id = intIn(raw.id, 0, MAX_U32);
  const needId = (): Decoded<AppToDevice> | undefined => (id === undefined ? bad('id', 'expected an unsigned integer below 2^32') : undefined);
  switch (raw.op) {
    case 'open':
    case 'voice_start':
      if (typeof raw.params !== 'string' || raw.params.length > 1024) {
        return needId() ?? bad('params', 'expected a params string of at most 1024 characters');
      }
      return needId() ?? { ok: true, msg: { op: raw.op, id: id as number, params: raw.params } };
    case 'close': {
      const stream = intIn(raw.stream, 0, MAX_U32);
      if (stream === undefined) {
        return needId() ?? bad('stream', 'expected a stream number');
      }
      return needId() ?? { ok: true, msg: { op: 'close', id: id as number, stream } };
    }
    case 'voice_stop':
    case 'channels':
      return needId() ?? { ok: true, msg: { op: raw.op, id: id as number } };
    case 'command':
      if (!(raw.data instanceof Uint8Array)) {
        return needId() ?? bad('data', 'expected bytes');
      }
      if (raw.data.byteLength > MAX_COMMAND_BYTES) {
        return needId() ?? bad('data', `command of ${raw.data.byteLength} bytes exceeds ${MAX_COMMAND_BYTES}`);
      }
      return needId() ?? { ok: true, msg: { op: 'command', id: id as number, data: raw.data } };
    case 'ack': {
      const stream = intIn(raw.stream, 0, MAX_U32);
      const acked = intIn(raw.bytes, 0, Number.MAX_SAFE_INTEGER);
      const echoT = numberOf(raw.echo);
      if (stream === undefined || acked === undefined || echoT === undefined) {
        return bad(stream === undefined ? 'stream' : acked === undefined ? 'bytes' : 'echo', stream === undefined ? 'expected a stream number' : acked === undefined ? 'expected an integer 0..2^53-1' : 'expected a number');
      }
      return { ok: true, msg: { op: 'ack', stream, bytes: acked, echo: echoT } };
    }
    case 'ping': {
      const t = numberOf(raw.t);
      if (t === undefined) {
        return needId() ?? bad('t', 'expected a number');
      }
      return needId() ?? { ok: true, msg: { op: 'ping', id: id as number, t } };
    }
    default:
      return { ok: false, id: echo, code: 'IV_ERR_UNKNOWN_METHOD', message: `unknown op ${JSON.stringify(raw.op)}` };
  }
}

/** App side: decode one message from the device (trusting its shape less than its own). */
export function decodeFromDevice(bytes: Uint8Array): DeviceToApp | undefined {
  const raw = unpack(bytes);
  if (typeof raw === 'string' || typeof raw.op !== 'string') {
    return undefined;
  }
  return raw as unknown as DeviceToApp;
}
