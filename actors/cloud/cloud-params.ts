/**
 * cloud-params — the parameters of the SDK's cloud API (iv_cs.h) and their checks: the
 * device options, `iv_cs_init`'s parameters and callbacks (`maxGopSize`, `avFormat`),
 * a pushed frame's type and pack, the trans times, event ids and the `_ext` times.
 * Pure: no I/O, no state.
 *
 * Owns: these types and the rules for them. Must never: accept a value the spec
 * refuses (each refusal is IV_ERR_INVALID_PARAM naming the field).
 */
import { invalidParam, type IvErrorCode } from '../../runtime/errors.js';
import type { Retention } from '../../recording/recording-store.js';
import type { AudioCodecName, VideoCodecName } from '../../media/codecs.js';
import type { CloudArgs } from './CloudActor.js';
import type { StoreConfig } from './object-store.js';
import type { BalanceInfo } from './plan.js';

/** iv_cm_stream_type_e (c-abi.md: AUDIO 0, VIDEO 1) */
export const IV_CM_STREAM_TYPE = { AUDIO: 0, VIDEO: 1 } as const;

export interface AvFormat {
  video?: { codec: VideoCodecName; fps?: number };
  audio?: { codec: AudioCodecName; sampleRate: number; channels: 1 | 2; samplesPerFrame?: number };
}

export interface CloudInitParams {
  /** u32MaxGopSize: bytes, a multiple of 4 KB, at least one I-frame. */
  maxGopSize: number;
  avFormat: AvFormat;
  onPushStart?: () => void;
  onPushStop?: () => void;
  /** JPEG bytes for the event's snapshot, or null for none (then onPictureResult is never called). */
  onCapturePicture?: (eventId: number) => Uint8Array | null | undefined | Promise<Uint8Array | null | undefined>;
  /** The snapshot (the same object onCapturePicture returned) and the upload result. */
  onPictureResult?: (pic: Uint8Array, code: IvErrorCode) => void;
}

export interface StreamPack {
  data: Uint8Array;
  /** Timestamp in ms (u64PTS / u64TimeStamp). */
  pts: number;
  /** Video: true for an I-frame (eFrameType); checked against the NAL units. */
  keyframe?: boolean;
  seq?: number;
}

export interface CloudDeviceOptions {
  deviceId: string;
  channel?: number;
  store: StoreConfig;
  /** The local recording's directory (recording/README.md); its pending part is the spool. */
  spoolDir?: string;
  /** A control endpoint answering the plan JSON; default: `<device>/plan.json` in the store. */
  planUrl?: string;
  /** How often the plan is fetched again, s (1..3600, default 3600: the spec's hourly cache). */
  planRefreshS?: number;
  retention?: Retention;
  segmentS?: number;
  uploadConcurrency?: number;
}

export interface BalanceResult {
  code: 'IV_ERR_NONE' | 'IV_ERR_CS_QUERY_SERVICE_TIMEOUT';
  info: BalanceInfo;
}

/** The constructor's checks of the device options (the store config and key are checked by the caller). */
export function checkDeviceOptions(device: CloudDeviceOptions): void {
  if (device.channel !== undefined && (!Number.isInteger(device.channel) || device.channel < 0 || device.channel > 255)) {
    throw invalidParam('channel', `expected 0..255, got ${device.channel}`);
  }
  const refresh = device.planRefreshS ?? 3_600;
  if (!Number.isInteger(refresh) || refresh < 1 || refresh > 3_600) {
    throw invalidParam('planRefreshS', `expected 1..3600 s (the cache is refreshed at least hourly), got ${refresh}`);
  }
}

/** iv_cs_push_stream's type and pack (the frame itself is Ingest's to check); the stream kind. */
export function checkStreamPack(type: 'video' | 'audio' | number, pack: StreamPack): 'video' | 'audio' {
  const kind = type === 'video' || type === IV_CM_STREAM_TYPE.VIDEO ? 'video' : type === 'audio' || type === IV_CM_STREAM_TYPE.AUDIO ? 'audio' : undefined;
  if (!kind) {
    throw invalidParam('type', `expected video or audio (IV_CM_STREAM_TYPE: VIDEO 1, AUDIO 0), got ${JSON.stringify(type)}`);
  }
  if (typeof pack !== 'object' || pack === null || !(pack.data instanceof Uint8Array)) {
    throw invalidParam('pack.data', 'expected the frame bytes');
  }
  if (typeof pack.pts !== 'number' || !Number.isFinite(pack.pts) || pack.pts < 0) {
    throw invalidParam('pack.pts', `expected a timestamp in ms, got ${String(pack.pts)}`);
  }
  return kind;
}

/** iv_cs_set_trans_time's two timeouts, ms. */
export function checkTransTimes(uploadTimeoutMs: number, replyTimeoutMs: number): void {
  for (const [field, v] of [['uploadTimeoutMs', uploadTimeoutMs], ['replyTimeoutMs', replyTimeoutMs]] as const) {
    if (!Number.isInteger(v) || v <= 0 || v > 3_600_000) {
      throw invalidParam(field, `expected 1..3600000 ms (0 is not allowed), got ${v}`);
    }
  }
}

/** iv_cs_init's u32MaxGopSize. */
export function checkMaxGopSize(maxGopSize: number): void {
  if (!Number.isInteger(maxGopSize) || maxGopSize < 4096 || maxGopSize % 4096 !== 0 || maxGopSize > 64 * 1024 * 1024) {
    throw invalidParam('maxGopSize', `expected a multiple of 4096 bytes (4 KB .. 64 MB), got ${maxGopSize}`);
  }
}

export function checkEventId(id: number): void {
  if (!Number.isInteger(id) || id < 1 || id > 16) {
    throw invalidParam('eventId', `expected an event id 1..16, got ${String(id)}`);
  }
}

/** The _ext times: both < 300 (seconds before now) or both >= 300 (Unix seconds); mixing is refused. */
export function extTimes(a: number, b: number, fieldA: string, fieldB: string, nowMs = Date.now()): [number, number] {
  for (const [f, v] of [[fieldA, a], [fieldB, b]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
      throw invalidParam(f, `expected a uint32 number of seconds, got ${String(v)}`);
    }
  }
  if (a < 300 !== b < 300) {
    throw invalidParam(fieldB, `${fieldA}=${a} and ${fieldB}=${b} mix relative (< 300) and absolute (>= 300) times`);
  }
  const ms = (v: number): number => (v < 300 ? nowMs - v * 1000 : v * 1000);
  for (const [f, v] of [[fieldA, a], [fieldB, b]] as const) {
    if (ms(v) > nowMs + 60_000) {
      throw invalidParam(f, `${v} is more than a minute in the future`);
    }
  }
  return [ms(a), ms(b)];
}

export function checkVideo(v: AvFormat['video']): CloudArgs['video'] {
  if (v === undefined) {
    return undefined;
  }
  if (v.codec !== 'h264' && v.codec !== 'h265') {
    throw invalidParam('avFormat.video.codec', `expected h264 or h265, got ${JSON.stringify(v.codec)}`);
  }
  const fps = v.fps ?? 25;
  if (typeof fps !== 'number' || !(fps > 0 && fps <= 120)) {
    throw invalidParam('avFormat.video.fps', `expected 0 < fps <= 120, got ${String(fps)}`);
  }
  return { codec: v.codec, fps };
}

export function checkAudio(a: AvFormat['audio']): CloudArgs['audio'] {
  if (a === undefined) {
    return undefined;
  }
  if (!['aac', 'g711a', 'g711u', 'pcm'].includes(a.codec)) {
    throw invalidParam('avFormat.audio.codec', `expected aac, g711a, g711u or pcm, got ${JSON.stringify(a.codec)}`);
  }
  if (!Number.isInteger(a.sampleRate) || a.sampleRate < 8000 || a.sampleRate > 96000) {
    throw invalidParam('avFormat.audio.sampleRate', `expected 8000..96000, got ${String(a.sampleRate)}`);
  }
  if (a.channels !== 1 && a.channels !== 2) {
    throw invalidParam('avFormat.audio.channels', `expected 1 or 2, got ${String(a.channels)}`);
  }
  if (a.samplesPerFrame !== undefined && a.samplesPerFrame !== 1024 && a.samplesPerFrame !== 1024 * a.channels) {
    throw invalidParam('avFormat.audio.samplesPerFrame', `only 1024 samples per frame (2048 for stereo) are supported, got ${a.samplesPerFrame}`);
  }
  return { codec: a.codec, sampleRate: a.sampleRate, channels: a.channels };
}
