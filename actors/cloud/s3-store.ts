/**
 * s3-store — an S3-compatible object store over plain HTTP(S): SigV4-signed (aws4)
 * requests (path-style by default, virtual-hosted with `pathStyle: false`; temporary
 * credentials with `sessionToken`) with node's fetch. PUT carries Content-MD5 so the store checks
 * the bytes it received; a put resolves only on a 2xx answer.
 * Owns: request signing and the ListObjectsV2 paging. Must never: treat a non-2xx
 * answer or a timeout as success.
 */
import aws4 from 'aws4';
import { createHash } from 'node:crypto';
import { IvError } from '../../runtime/errors.js';
import { checkKey } from '../../recording/keys.js';
import type { ObjectStore, StoreConfig } from './object-store.js';

type S3Config = Extract<StoreConfig, { kind: 's3' }>;

export class S3Store implements ObjectStore {
  readonly description: string;
  private readonly base: URL;
  /** Path prefix of the bucket: `/bucket` path-style, empty virtual-hosted. */
  private readonly bucketPath: string;

  constructor(private readonly cfg: S3Config) {
    const endpoint = new URL(cfg.endpoint);
    this.base = cfg.pathStyle === false ? new URL(`${endpoint.protocol}//${cfg.bucket}.${endpoint.host}`) : endpoint;
    this.bucketPath = cfg.pathStyle === false ? '' : `/${encodeURIComponent(cfg.bucket)}`;
    this.description = `s3 ${this.base.origin}/${cfg.bucket}`;
  }

  private async request(method: string, path: string, timeoutMs: number, body?: Uint8Array, headers: Record<string, string> = {}): Promise<Response> {
    const signed = aws4.sign(
      {
        host: this.base.host,
        path,
        method,
        service: 's3',
        region: this.cfg.region ?? 'us-east-1',
        headers: { ...headers, 'x-amz-content-sha256': body ? createHash('sha256').update(body).digest('hex') : createHash('sha256').update('').digest('hex') },
        ...(body ? { body: Buffer.from(body.buffer, body.byteOffset, body.byteLength) } : {}),
      },
      { accessKeyId: this.cfg.accessKeyId, secretAccessKey: this.cfg.secretAccessKey, ...(this.cfg.sessionToken ? { sessionToken: this.cfg.sessionToken } : {}) },
    );
    try {
      return await fetch(`${this.base.protocol}//${this.base.host}${path}`, {
        method,
        headers: signed.headers as Record<string, string>,
        ...(body ? { body } : {}),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const timedOut = (err as Error).name === 'TimeoutError';
      throw new IvError(timedOut ? 'IV_ERR_TIMEOUT' : 'IV_ERR_CS_STORE', `${method} ${path}: ${timedOut ? `no answer within ${timeoutMs} ms` : (err as Error).message}`, { cause: err });
    }
  }

  private objectPath(key: string): string {
    checkKey(key);
    return `${this.bucketPath}/${key}`;
  }

  async put(key: string, bytes: Uint8Array, contentType: string, timeoutMs: number): Promise<void> {
    const md5 = createHash('md5').update(bytes).digest('base64');
    const res = await this.request('PUT', this.objectPath(key), timeoutMs, bytes, { 'content-type': contentType, 'content-md5': md5 });
    await failUnlessOk(res, `PUT ${key}`);
  }

  async get(key: string, timeoutMs: number): Promise<Uint8Array | undefined> {
    const res = await this.request('GET', this.objectPath(key), timeoutMs);
    if (res.status === 404) {
      await res.arrayBuffer();
      return undefined;
    }
    await failUnlessOk(res, `GET ${key}`, true);
    return new Uint8Array(await res.arrayBuffer());
  }

  async list(prefix: string, timeoutMs: number): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const q = new URLSearchParams({ 'list-type': '2', prefix, ...(token ? { 'continuation-token': token } : {}) });
      const res = await this.request('GET', `${this.bucketPath || '/'}?${q.toString()}`, timeoutMs);
      await failUnlessOk(res, `LIST ${prefix}`, true);
      const xml = await res.text();
      for (const m of xml.matchAll(/<Key>([^<]*)<\/Key>/g)) {
        keys.push(unescapeXml(m[1] as string));
      }
      token = /<IsTruncated>true<\/IsTruncated>/.test(xml) ? unescapeXml(/<NextContinuationToken>([^<]*)</.exec(xml)?.[1] ?? '') : undefined;
    } while (token);
    return keys.sort();
  }

  async delete(key: string, timeoutMs: number): Promise<void> {
    const res = await this.request('DELETE', this.objectPath(key), timeoutMs);
    if (res.status !== 404) {
      await failUnlessOk(res, `DELETE ${key}`);
    }
  }
}

async function failUnlessOk(res: Response, what: string, keepBody = false): Promise<void> {
  if (res.ok) {
    if (!keepBody) {
      await res.arrayBuffer();
    }
    return;
  }
  const text = (await res.text()).slice(0, 300);
  const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? '';
  throw new IvError('IV_ERR_CS_STORE', `${what}: HTTP ${res.status} ${code}`.trim());
}

function unescapeXml(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}
