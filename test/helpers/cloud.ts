/**
 * cloud — test helpers for the cloud storage module: a plan file, a CloudModule on a
 * local or S3 store with the sample media fed in real time, and the HLS checks.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CloudModule, type CloudDeviceOptions, type CloudInitParams } from '../../actors/cloud/cloud-module.js';
import type { StoreConfig } from '../../actors/cloud/object-store.js';
import { SampleFeed } from '../../actors/capture/sample-feed.js';
import { accessUnits, audioFrames, SAMPLE } from './media.js';

export interface PlanJson {
  fullTime?: { enabled: boolean; expiresAt?: string | number | null };
  event?: { enabled: boolean; expiresAt?: string | number | null };
  storageDays?: number;
}

export function writeLocalPlan(storeDir: string, device: string, plan: PlanJson): void {
  mkdirSync(join(storeDir, device), { recursive: true });
  writeFileSync(join(storeDir, device, 'plan.json'), JSON.stringify(plan));
}

let cached: { video: Uint8Array[]; audio: Uint8Array[] } | undefined;
export function sampleFrames(): { video: Uint8Array[]; audio: Uint8Array[] } {
  cached ??= { video: accessUnits(SAMPLE.h264, 'h264'), audio: audioFrames(SAMPLE.aac, 'aac') };
  return cached;
}

/** The H.264 + AAC (16 kHz mono) sample as the cloud module's avFormat. */
export const SAMPLE_FORMAT: CloudInitParams['avFormat'] = { video: { codec: 'h264', fps: 25 }, audio: { codec: 'aac', sampleRate: 16000, channels: 1 } };

export function feedInto(cloud: CloudModule, errors: unknown[] = []): SampleFeed {
  const f = sampleFrames();
  return new SampleFeed({ video: { frames: f.video, fps: 25 }, audio: { frames: f.audio, sampleRate: 16000 }, push: (type, pack) => cloud.pushStream(type, pack), onError: (e) => errors.push(e) });
}

/** A cloud module on a local store under `dir`; a test that fails midway still exits it. */
export function localCloud(t: { teardown(fn: () => unknown): void }, dir: string, device = 'dev1', extra: Partial<CloudDeviceOptions> = {}): { cloud: CloudModule; storeDir: string; spoolDir: string; store: StoreConfig } {
  const storeDir = join(dir, 'store');
  const spoolDir = join(dir, 'spool');
  const store: StoreConfig = { kind: 'local', dir: storeDir };
  const cloud = new CloudModule({ deviceId: device, store, spoolDir, ...extra });
  exitOnTeardown(t, cloud);
  return { cloud, storeDir, spoolDir, store };
}

export function exitOnTeardown(t: { teardown(fn: () => unknown): void }, cloud: CloudModule): void {
  t.teardown(async () => {
    if (cloud.initialized) {
      await cloud.exit().catch(() => undefined);
    }
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll `fn` until it returns a truthy value or `ms` pass. */
export async function until<T>(fn: () => T | Promise<T>, ms: number, every = 50): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v || Date.now() > end) {
      return v;
    }
    await sleep(every);
  }
}

/** A minimal valid JPEG (SOI, APP0/JFIF, EOI) of `size` bytes. */
export function fakeJpeg(size = 2_000): Uint8Array {
  const b = new Uint8Array(size);
  b.set([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00]);
  for (let i = 11; i < size - 2; i++) {
    b[i] = (i * 31) & 0x7f;
  }
  b[size - 2] = 0xff;
  b[size - 1] = 0xd9;
  return b;
}

export { writeFileSync };
