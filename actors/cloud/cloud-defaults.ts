/**
 * cloud-defaults — the one place the cloud actor's defaults live: segment length,
 * session length, the no-data pause, upload timeout and concurrency (the worker's
 * resource limits are `SERVICE_WORKER_LIMITS`, runtime/process-host.ts). The SDK facade (cloud-module.ts) and a whole gateway
 * (gateway/gateway.ts) both build a CloudActor's arguments here.
 * Owns: those numbers. Must never: start anything.
 */
import type { CloudArgs } from './CloudActor.js';

/** A recording session ends after an hour (a new one starts at the next keyframe). */
export const SESSION_MAX_S = 3_600;
/** No frame for this long pauses the session (the camera stopped). */
export const NO_DATA_PAUSE_MS = 120_000;
export const DEFAULT_SEGMENT_S = 2;
export const DEFAULT_UPLOAD_TIMEOUT_MS = 30_000;
export const DEFAULT_UPLOAD_CONCURRENCY = 2;

/** What a caller must say; everything else has a default. */
export type CloudActorInput = Pick<CloudArgs, 'device' | 'channel' | 'ring' | 'store' | 'spoolDir' | 'retention'> & Partial<Omit<CloudArgs, 'device' | 'channel' | 'ring' | 'store' | 'spoolDir' | 'retention'>>;

export function cloudActorArgs(input: CloudActorInput): CloudArgs {
  return {
    segmentS: DEFAULT_SEGMENT_S,
    sessionMaxS: SESSION_MAX_S,
    noDataPauseMs: NO_DATA_PAUSE_MS,
    uploadTimeoutMs: DEFAULT_UPLOAD_TIMEOUT_MS,
    concurrency: DEFAULT_UPLOAD_CONCURRENCY,
    progress: new SharedArrayBuffer(8),
    ...input,
  };
}
