/**
 * http-exchange — one HTTP(S) request and its whole answer, on node:http / node:https,
 * for the object store and the plan query. Not the global fetch: undici costs ~2.8 MB of
 * V8 heap in the worker that first uses it, node:http ~0.45 MB (measured in a worker
 * thread: five 512 KB PUTs, GC-settled heap), and the cloud actor shares the io worker.
 * A request body is bytes or a source read in parts (a file: written as the socket drains,
 * never held whole). node:https (TLS) is loaded at the first https: request, not before.
 * Keep-alive agents (idle sockets do not keep a worker alive), a deadline on the whole
 * exchange (connect, upload, answer), answers capped in size, and one retry when a
 * reused keep-alive socket turns out to be closed by the server before it answered.
 *
 * Owns: the module's agents. Must never: resolve before the whole answer arrived, hold
 * more than `maxBytes` of an answer, leave a socket behind after a deadline or an error,
 * or retry a request that got any answer.
 */
import http from 'node:http';
import type * as Https from 'node:https';
import { IvError } from '../../runtime/errors.js';

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/**
 * A body read in parts: `chunks()` starts again from the first byte each time it is called
 * (a retry). A part need only stay valid until the part after the next one is pulled (a
 * source may take turns in two buffers): each is written before that.
 */
export interface BodySource {
  size: number;
  chunks(): AsyncIterable<Uint8Array>;
}

export interface HttpExchange {
  method: string;
  headers?: Record<string, string>;
  body?: Uint8Array | BodySource;
  /** The whole exchange: connect, request body, answer. */
  timeoutMs: number;
  /** The largest answer body taken; a larger one fails the exchange. */
  maxBytes: number;
  /** What the request is, for errors: `PUT dev/1.m4s`. */
  what: string;
}

const AGENT_OPTIONS: http.AgentOptions = { keepAlive: true, maxSockets: 8, maxFreeSockets: 4, timeout: 30_000 };
const httpAgent = new http.Agent(AGENT_OPTIONS);
/** node:https (and TLS with it) is loaded at the first https: request: ~370 KB of V8 heap (bench: httpsLoadHeapKB) an http: store never needs. */
let tls: Promise<{ lib: typeof Https; agent: Https.Agent }> | undefined;

function transport(protocol: string): Promise<{ lib: typeof http | typeof Https; agent: http.Agent }> | undefined {
  if (protocol === 'http:') {
    return Promise.resolve({ lib: http, agent: httpAgent });
  }
  if (protocol === 'https:') {
    tls ??= import('node:https').then((m) => ({ lib: m.default, agent: new m.default.Agent(AGENT_OPTIONS) }));
    return tls;
  }
  return undefined;
}

/** Send one request and read its whole answer; throws IV_ERR_TIMEOUT or IV_ERR_CS_STORE. */
export async function httpExchange(url: URL, x: HttpExchange): Promise<HttpAnswer> {
  const deadline = performance.now() + x.timeoutMs;
  try {
    return await attempt(url, x, x.timeoutMs);
  } catch (err) {
    const left = deadline - performance.now();
    if (err instanceof StaleSocket && left > 0) {
      return attempt(url, x, left); // the server had closed the idle socket: once more on a fresh one
    }
    throw err instanceof StaleSocket ? storeError(x, err.cause) : err;
  }
}

class StaleSocket extends Error {}

async function attempt(url: URL, x: HttpExchange, timeoutMs: number): Promise<HttpAnswer> {
  const started = performance.now();
  const t = transport(url.protocol);
  if (!t) {
    throw new IvError('IV_ERR_CS_STORE', `${x.what}: ${url.protocol} is not http: or https:`, { field: 'endpoint' });
  }
  const { lib, agent } = await t;
  const leftMs = Math.max(0, timeoutMs - (performance.now() - started)); // loading node:https counts against the deadline
  return new Promise<HttpAnswer>((resolve, reject) => {
    let answered = false;
    let settled = false;
    const finish = (err: Error | undefined, answer?: HttpAnswer): void => {
      if (settled) {
        return;
      }
      settled = true;
      clearTimeout(timer);
      if (err) {
        req.destroy();
        reject(err);
      } else {
        resolve(answer as HttpAnswer);
      }
    };
    const headers: Record<string, string> = { ...x.headers };
    if (x.body && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) {
      headers['content-length'] = String(x.body instanceof Uint8Array ? x.body.byteLength : x.body.size);
    }
    let req: http.ClientRequest;
    try {
      req = lib.request(url, { method: x.method, headers, agent }, onAnswer);
    } catch (err) {
      reject(storeError(x, (err as Error).message)); // a header or URL node:http refuses
      return;
    }
    function onAnswer(res: http.IncomingMessage): void {
      answered = true;
      const declared = Number(res.headers['content-length'] ?? 0);
      if (declared > x.maxBytes) {
        finish(storeError(x, `the answer of ${declared} bytes is over the ${x.maxBytes}-byte limit`));
        return;
      }
      const parts: Buffer[] = [];
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.byteLength;
        if (bytes > x.maxBytes) {
          finish(storeError(x, `the answer is over the ${x.maxBytes}-byte limit`));
          return;
        }
        parts.push(chunk);
      });
      res.on('end', () => finish(undefined, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts, bytes) }));
      res.on('error', (err) => finish(storeError(x, err.message)));
      res.on('close', () => res.complete || finish(storeError(x, 'the server ended the answer early')));
    }
    const timer = setTimeout(() => finish(new IvError('IV_ERR_TIMEOUT', `${x.what}: no answer within ${Math.round(timeoutMs)} ms`)), leftMs);
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (!answered && req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) {
        finish(new StaleSocket(err.message, { cause: err.message }));
      } else {
        finish(storeError(x, err.message));
      }
    });
    const body = x.body;
    if (body === undefined || body instanceof Uint8Array) {
      req.end(body ? Buffer.from(body.buffer, body.byteOffset, body.byteLength) : undefined);
    } else {
      writeBody(req, body, () => settled).catch((err: Error) => finish(storeError(x, `reading the body: ${err.message}`)));
    }
  });
}

/**
 * Write `body` as the socket takes it, then end the request; stops once the exchange is
 * settled. Before a part is pulled, the write of the part before the last one has
 * completed: at most two parts are queued, and a source may reuse their buffers.
 */
async function writeBody(req: http.ClientRequest, body: BodySource, settled: () => boolean): Promise<void> {
  // a write's callback does not come when the socket is destroyed first: 'close' ends every wait
  const closed = new Promise<void>((resolve) => req.once('close', resolve));
  let previous: Promise<void> = Promise.resolve();
  let sent = 0;
  for await (const chunk of body.chunks()) {
    if (settled()) {
      return;
    }
    sent += chunk.byteLength;
    const written = new Promise<void>((resolve) => req.write(chunk, () => resolve()));
    await Promise.race([previous, closed]);
    previous = written;
  }
  if (sent !== body.size) {
    throw new Error(`${sent} bytes read, ${body.size} declared`);
  }
  if (!settled()) {
    req.end();
  }
}

function storeError(x: HttpExchange, why: unknown): IvError {
  return new IvError('IV_ERR_CS_STORE', `${x.what}: ${String(why)}`);
}
