/**
 * object-store — where cloud recordings end up: the interface both backends implement
 * and the factory that opens one from plain config.
 *
 * Backends: `local` (a directory; the embedded default) and `s3` (any S3-compatible
 * store: AWS S3, Tencent COS, MinIO; s3rver in tests). Keys are `/`-separated and
 * never start with `/` (the alphabet and the layout: recording/keys.ts).
 * What a put stores is bytes in memory or an open file (the uploader's: a recorded
 * segment is read from the local recording in 64 KiB parts, never held whole).
 * Owns: the config check and the file-body reader. Must never: report a put as done
 * before the store has confirmed it (a resolved put() is what marks a local recording
 * object uploaded), or send a file body shorter or longer than its size.
 */
import type { FileHandle } from 'node:fs/promises';
import { IvError, invalidParam } from '../../runtime/errors.js';

/** A put's bytes: in memory, or `size` bytes of an open file from its start (the caller closes it). */
export type ObjectBody = Uint8Array | FileBody;
export interface FileBody {
  file: FileHandle;
  size: number;
}

/** How much of a file body is read at a time. */
export const BODY_CHUNK_BYTES = 64 * 1024;

export const bodySize = (body: ObjectBody): number => (body instanceof Uint8Array ? body.byteLength : body.size);

/**
 * A file body's bytes from its start, in chunks; IV_ERR_CS_STORE if the file is shorter
 * than `size`. Fresh chunks (a consumer may keep each) unless `buffers` is given: then
 * the chunks take turns in that many buffers allocated once, and a chunk is only valid
 * until `buffers` more were pulled (no allocation per chunk: the upload's hashing pass
 * uses one, its send two).
 */
export async function* fileChunks(body: FileBody, opts: { chunkBytes?: number; buffers?: number } = {}): AsyncGenerator<Uint8Array> {
  const chunkBytes = opts.chunkBytes ?? BODY_CHUNK_BYTES;
  const pool = opts.buffers === undefined ? undefined : Array.from({ length: opts.buffers }, () => Buffer.allocUnsafe(Math.min(chunkBytes, body.size)));
  let at = 0;
  for (let n = 0; at < body.size; n++) {
    const want = Math.min(chunkBytes, body.size - at);
    const buf = pool ? (pool[n % pool.length] as Buffer).subarray(0, want) : Buffer.allocUnsafe(want);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await body.file.read(buf, got, want - got, at + got);
      if (bytesRead === 0) {
        throw new IvError('IV_ERR_CS_STORE', `the file ended at ${at + got} of its ${body.size} bytes`);
      }
      got += bytesRead;
    }
    at += want;
    yield buf;
  }
}

export interface ObjectStore {
  readonly description: string;
  /** Store `body` under `key`; resolves only once the store confirmed it. */
  put(key: string, body: ObjectBody, contentType: string, timeoutMs: number): Promise<void>;
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
