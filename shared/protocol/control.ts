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
  | { op: 'ping'; id: number; t: number };

export type DeviceToApp =
  | { op: 'ok'; id: number; stream?: number; label?: string }
  | { op: 'error'; id: number; code: string; message: string }
  | { op: 'reply'; id: number; data: Uint8Array }
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

export type Decoded<T> = { ok: true; msg: T } | { ok: false; id: number | undefined; code: 'IV_ERR_INVALID_PARAM' | 'IV_ERR_UNKNOWN_METHOD'; message: string };

const isUint = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;

function unpack(bytes: Uint8Array): Record<string, unknown> | string {
  if (bytes.byteLength > MAX_CONTROL_BYTES) {
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

/** Device side: decode and check one message from an app. */
export function decodeFromApp(bytes: Uint8Array): Decoded<AppToDevice> {
  const raw = unpack(bytes);
  if (typeof raw === 'string') {
    return { ok: false, id: undefined, code: 'IV_ERR_INVALID_PARAM', message: raw };
  }
  const id = isUint(raw.id) ? raw.id : undefined;
  const bad = (field: string, why: string): Decoded<AppToDevice> => ({ ok: false, id, code: 'IV_ERR_INVALID_PARAM', message: `${field}: ${why}` });
  const needId = (): Decoded<AppToDevice> | undefined => (id === undefined ? bad('id', 'expected an unsigned integer') : undefined);
  switch (raw.op) {
    case 'open':
    case 'voice_start':
      if (typeof raw.params !== 'string' || raw.params.length > 1024) {
        return needId() ?? bad('params', 'expected a params string of at most 1024 characters');
      }
      return needId() ?? { ok: true, msg: { op: raw.op, id: id as number, params: raw.params } };
    case 'close':
      if (!isUint(raw.stream)) {
        return needId() ?? bad('stream', 'expected a stream number');
      }
      return needId() ?? { ok: true, msg: { op: 'close', id: id as number, stream: raw.stream } };
    case 'voice_stop':
      return needId() ?? { ok: true, msg: { op: 'voice_stop', id: id as number } };
    case 'command':
      if (!(raw.data instanceof Uint8Array)) {
        return needId() ?? bad('data', 'expected bytes');
      }
      if (raw.data.byteLength > MAX_COMMAND_BYTES) {
        return needId() ?? bad('data', `command of ${raw.data.byteLength} bytes exceeds ${MAX_COMMAND_BYTES}`);
      }
      return needId() ?? { ok: true, msg: { op: 'command', id: id as number, data: raw.data } };
    case 'ack':
      if (!isUint(raw.stream) || typeof raw.bytes !== 'number' || raw.bytes < 0 || typeof raw.echo !== 'number') {
        return bad(!isUint(raw.stream) ? 'stream' : typeof raw.bytes !== 'number' || raw.bytes < 0 ? 'bytes' : 'echo', 'missing or invalid');
      }
      return { ok: true, msg: { op: 'ack', stream: raw.stream, bytes: raw.bytes, echo: raw.echo } };
    case 'ping':
      if (typeof raw.t !== 'number') {
        return needId() ?? bad('t', 'expected a number');
      }
      return needId() ?? { ok: true, msg: { op: 'ping', id: id as number, t: raw.t } };
    default:
      return { ok: false, id, code: 'IV_ERR_UNKNOWN_METHOD', message: `unknown op ${JSON.stringify(raw.op)}` };
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
