/**
 * object-store — where cloud recordings end up: the interface both backends implement
 * and the factory that opens one from plain config.
 *
 * Backends: `local` (a directory; the embedded default) and `s3` (any S3-compatible
 * store: AWS S3, Tencent COS, MinIO; s3rver in tests). Keys are `/`-separated and
 * never start with `/` (the alphabet and the layout: recording/keys.ts).
 * Owns: the config check. Must never: report a put as done before
 * the store has confirmed it (a resolved put() is what marks a local recording object uploaded).
 */
import { invalidParam } from '../../runtime/errors.js';

export interface ObjectStore {
  readonly description: string;
  /** Store `bytes` under `key`; resolves only once the store confirmed them. */
  put(key: string, bytes: Uint8Array, contentType: string, timeoutMs: number): Promise<void>;
  /** The object, or undefined when there is none. */
  get(key: string, timeoutMs: number): Promise<Uint8Array | undefined>;
  /** Every key under `prefix`, sorted. */
  list(prefix: string, timeoutMs: number): Promise<string[]>;
  delete(key: string, timeoutMs: number): Promise<void>;
}

export type StoreConfig =
  | { kind: 'local'; dir: string }
  | { kind: 's3'; endpoint: string; bucket: string; region?: string; accessKeyId: string; secretAccessKey: string; sessionToken?: string; pathStyle?: boolean };

export function checkStoreConfig(raw: unknown, field = 'store'): StoreConfig {
  const c = raw as Partial<Record<string, unknown>> | null;
  if (typeof c !== 'object' || c === null) {
    throw invalidParam(field, 'expected { kind: "local", dir } or { kind: "s3", endpoint, bucket, accessKeyId, secretAccessKey }');
  }
  if (c.kind === 'local') {
    if (typeof c.dir !== 'string' || c.dir === '') {
      throw invalidParam(`${field}.dir`, 'expected a directory path');
    }
    return { kind: 'local', dir: c.dir };
  }
  if (c.kind === 's3') {
    for (const k of ['endpoint', 'bucket', 'accessKeyId', 'secretAccessKey'] as const) {
      if (typeof c[k] !== 'string' || c[k] === '') {
        throw invalidParam(`${field}.${k}`, 'expected a non-empty string');
      }
    }
    try {
      new URL(c.endpoint as string);
    } catch {
      throw invalidParam(`${field}.endpoint`, `expected an http(s) URL, got ${JSON.stringify(c.endpoint)}`);
    }
    if (c.region !== undefined && typeof c.region !== 'string') {
      throw invalidParam(`${field}.region`, 'expected a string');
    }
    if (c.sessionToken !== undefined && typeof c.sessionToken !== 'string') {
      throw invalidParam(`${field}.sessionToken`, 'expected a string');
    }
    if (c.pathStyle !== undefined && typeof c.pathStyle !== 'boolean') {
      throw invalidParam(`${field}.pathStyle`, 'expected true or false');
    }
    return {
      kind: 's3', endpoint: c.endpoint as string, bucket: c.bucket as string, region: (c.region) ?? 'us-east-1', accessKeyId: c.accessKeyId as string, secretAccessKey: c.secretAccessKey as string,
      ...(typeof c.sessionToken === 'string' && c.sessionToken !== '' ? { sessionToken: c.sessionToken } : {}), ...(typeof c.pathStyle === 'boolean' ? { pathStyle: c.pathStyle } : {}),
    };
  }
  throw invalidParam(`${field}.kind`, `expected "local" or "s3", got ${JSON.stringify(c.kind)}`);
}
