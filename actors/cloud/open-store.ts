/**
 * open-store — the object store a StoreConfig names: a local directory or S3.
 * Must never: be imported by a store implementation (object-store.ts holds the interface
 * both implement; this file is the one place that knows every implementation).
 */
import { LocalDirStore } from './local-dir-store.js';
import type { ObjectStore, StoreConfig } from './object-store.js';
import { S3Store } from './s3-store.js';

export function openStore(config: StoreConfig): ObjectStore {
  return config.kind === 'local' ? new LocalDirStore(config.dir) : new S3Store(config);
}
