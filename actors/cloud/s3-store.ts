/**
 * s3-store — an S3-compatible object store over plain HTTP(S): SigV4-signed (aws4)
 * requests (path-style by default, virtual-hosted with `pathStyle: false`; temporary
 * credentials with `sessionToken`) over node:http(s) (http-exchange.ts). PUT carries Content-MD5 so the store checks
 * the bytes it received; a put resolves only on a 2xx answer. A file body is read twice
 * in parts (the hashes first, through one buffer; then the upload, through two), never
 * whole and without an allocation per part.
 * Owns: request signing and the ListObjectsV2 paging. Must never: treat a non-2xx
 * answer or a timeout as success.
 */
import aws4 from 'aws4';
import { createHash } from 'node:crypto';
import { IvError } from '../../runtime/errors.js';
import { checkKey } from '../../recording/keys.js';
import { httpExchange, type BodySource, type HttpAnswer } from './http-exchange.js';
import { fileChunks, type ObjectBody, type ObjectStore, type StoreConfig } from './object-store.js';

/** The largest object get() takes (a recorded segment is a few MB). */
const MAX_GET_BYTES = 64 * 1024 * 1024;
/** The largest list page or error answer taken (a 1000-key page is ~300 KB). */
const MAX_TEXT_BYTES = 8 * 1024 * 1024;

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

  /** `sha256`: the hex SHA-256 of a streamed body (a byte body is hashed here). */
  private async request(method: string, path: string, timeoutMs: number, what: string, body?: Uint8Array | BodySource, headers: Record<string, string> = {}, maxBytes = MAX_TEXT_BYTES, sha256?: string): Promise<HttpAnswer> {
    const bytes = body instanceof Uint8Array ? body : undefined;
    const signed = aws4.sign(
      {
        host: this.base.host,
        path,
        method,
        service: 's3',
        region: this.cfg.region ?? 'us-east-1',
        headers: { ...headers, 'x-amz-content-sha256': sha256 ?? createHash('sha256').update(bytes ?? '').digest('hex') },
        ...(bytes ? { body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) } : {}),
      },
      { accessKeyId: this.cfg.accessKeyId, secretAccessKey: this.cfg.secretAccessKey, ...(this.cfg.sessionToken ? { sessionToken: this.cfg.sessionToken } : {}) },
    );
    return httpExchange(new URL(`${this.base.protocol}//${this.base.host}${path}`), {
      method,
      headers: signed.headers as Record<string, string>,
      ...(body ? { body } : {}),
      timeoutMs,
      maxBytes,
      what,
    });
  }

  private objectPath(key: string): string {
    checkKey(key);
    return `${this.bucketPath}/${key}`;
  }

  async put(key: string, body: ObjectBody, contentType: string, timeoutMs: number): Promise<void> {
    const path = this.objectPath(key);
    let res: HttpAnswer;
    if (body instanceof Uint8Array) {
      const md5 = createHash('md5').update(body).digest('base64');
      res = await this.request('PUT', path, timeoutMs, `PUT ${key}`, body, { 'content-type': contentType, 'content-md5': md5 });
    } else {
      const md5 = createHash('md5');
      const sha = createHash('sha256');
      for await (const chunk of fileChunks(body, { buffers: 1 })) {
        md5.update(chunk);
        sha.update(chunk);
      }
      const source: BodySource = { size: body.size, chunks: () => fileChunks(body, { buffers: 2 }) };
      res = await this.request('PUT', path, timeoutMs, `PUT ${key}`, source, { 'content-type': contentType, 'content-md5': md5.digest('base64'), 'content-length': String(body.size) }, MAX_TEXT_BYTES, sha.digest('hex'));
    }
    failUnlessOk(res, `PUT ${key}`);
  }

  async get(key: string, timeoutMs: number): Promise<Uint8Array | undefined> {
    const res = await this.request('GET', this.objectPath(key), timeoutMs, `GET ${key}`, undefined, {}, MAX_GET_BYTES);
    if (res.status === 404) {
      return undefined;
    }
    failUnlessOk(res, `GET ${key}`);
    return new Uint8Array(res.body.buffer, res.body.byteOffset, res.body.byteLength);
  }

  async list(prefix: string, timeoutMs: number): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const q = new URLSearchParams({ 'list-type': '2', prefix, ...(token ? { 'continuation-token': token } : {}) });
      const res = await this.request('GET', `${this.bucketPath || '/'}?${q.toString()}`, timeoutMs, `LIST ${prefix}`);
      failUnlessOk(res, `LIST ${prefix}`);
      const xml = res.body.toString('utf8');
      for (const m of xml.matchAll(/<Key>([^<]*)<\/Key>/g)) {
        keys.push(unescapeXml(m[1] as string));
      }
      token = /<IsTruncated>true<\/IsTruncated>/.test(xml) ? unescapeXml(/<NextContinuationToken>([^<]*)</.exec(xml)?.[1] ?? '') : undefined;
    } while (token);
    return keys.sort();
  }

  async delete(key: string, timeoutMs: number): Promise<void> {
    const res = await this.request('DELETE', this.objectPath(key), timeoutMs, `DELETE ${key}`);
    if (res.status !== 404) {
      failUnlessOk(res, `DELETE ${key}`);
    }
  }
}

function failUnlessOk(res: HttpAnswer, what: string): void {
  if (res.status >= 200 && res.status < 300) {
    return;
  }
  const text = res.body.subarray(0, 300).toString('utf8');
  const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? '';
  throw new IvError('IV_ERR_CS_STORE', `${what}: HTTP ${res.status} ${code}`.trim());
}

function unescapeXml(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}
