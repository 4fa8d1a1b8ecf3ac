/**
 * s3 — a real S3 endpoint for tests: s3rver (npm) on 127.0.0.1 with one bucket,
 * stoppable and restartable on the same port and directory (a store outage).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import type { StoreConfig } from '../../actors/cloud/object-store.js';

export interface S3Server {
  config: Extract<StoreConfig, { kind: 's3' }>;
  port: number;
  dir: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startS3(bucket = 'ivgw'): Promise<S3Server> {
  const dir = mkdtempSync(join(tmpdir(), 'ivgw-s3-'));
  let server: S3rver | undefined;
  let port = 0;
  const start = async (): Promise<void> => {
    server = new S3rver({ port, address: '127.0.0.1', silent: true, directory: dir, configureBuckets: [{ name: bucket }] });
    port = (await server.run()).port;
  };
  await start();
  const stop = async (): Promise<void> => {
    const s = server;
    server = undefined;
    await s?.close();
  };
  return {
    config: { kind: 's3', endpoint: `http://127.0.0.1:${port}`, bucket, region: 'us-east-1', accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    port,
    dir,
    stop,
    start,
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
