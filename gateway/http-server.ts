/**
 * http-server — the gateway's HTTP face for operators: `/metrics` (Prometheus text),
 * `/healthz` (200 when every permanent child is up and signaling is connected, else 503
 * with a JSON reason), `/api/status` (cameras, apps, streams, recording as JSON), and
 * static files for the viewer page when given a directory.
 *
 * Owns: the listening socket (loopback by default), the optional bearer token check
 * (constant-time), request routing, and answers that never hang: every handler has a
 * deadline (5 s) and answers 500/503 with a JSON reason on failure.
 * Must never: serve a path outside its static directory, answer without the bearer
 * token when one is configured (except `/healthz` when `openHealth` says so), or
 * include a secret or token in any answer.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual, createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { IvError } from '../runtime/errors.js';

export interface Health {
  ok: boolean;
  /** Why not, when not ok: one entry per failing part. */
  reasons: string[];
}

export interface HttpServerOptions {
  /** `host:port`; port 0 picks a free one. */
  listen: string;
  metrics: () => Promise<{ contentType: string; text: string }>;
  health: () => Health | Promise<Health>;
  status: () => Promise<unknown>;
  /** Require `Authorization: Bearer <token>` on every route. */
  bearerToken?: string;
  /** Let `/healthz` answer without the token (load balancers, systemd). */
  openHealth?: boolean;
  /** Serve these files at `/` (the viewer page). */
  staticDir?: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.map': 'application/json', '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon',
};

const DEADLINE_MS = 5_000;

export function parseListen(listen: string, field = 'http.listen'): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:]+\]|[^:]+):(\d{1,5})$/.exec(listen);
  const port = Number(m?.[2]);
  if (!m || !Number.isInteger(port) || port > 65_535) {
    throw new IvError('IV_ERR_INVALID_PARAM', `${field}: expected HOST:PORT, got ${JSON.stringify(listen)}`, { field });
  }
  return { host: (m[1] as string).replace(/^\[|\]$/g, ''), port };
}

export class GatewayHttpServer {
  private constructor(private readonly server: Server, readonly url: string) {}

  static async start(opts: HttpServerOptions): Promise<GatewayHttpServer> {
    const { host, port } = parseListen(opts.listen);
    const wanted = opts.bearerToken === undefined ? undefined : createHash('sha256').update(opts.bearerToken).digest();
    const authorized = (req: IncomingMessage): boolean => {
      if (wanted === undefined) {
        return true;
      }
      const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
      return m !== null && timingSafeEqual(createHash('sha256').update(m[1] as string).digest(), wanted);
    };
    const server = createServer((req, res) => {
      void route(opts, req, res, authorized).catch((err: unknown) => json(res, 500, { error: 'IV_ERR_INTERNAL', message: (err as Error).message }));
    });
    server.requestTimeout = 10_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => reject(new IvError(
        err.code === 'EADDRINUSE' ? 'IV_ERR_BUSY' : 'IV_ERR_INVALID_PARAM',
        `http.listen ${opts.listen}: ${err.code === 'EADDRINUSE' ? 'address already in use' : err.message}`,
        { field: 'http.listen' },
      )));
      server.listen(port, host, () => resolve());
    });
    const addr = server.address();
    const actualPort = typeof addr === 'object' && addr ? addr.port : port;
    return new GatewayHttpServer(server, `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

async function route(opts: HttpServerOptions, req: IncomingMessage, res: ServerResponse, authorized: (req: IncomingMessage) => boolean): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    json(res, 405, { error: 'IV_ERR_INVALID_PARAM', message: `${req.method ?? '?'} is not allowed` });
    return;
  }
  if (!(path === '/healthz' && opts.openHealth) && !authorized(req)) {
    res.setHeader('WWW-Authenticate', 'Bearer');
    json(res, 401, { error: 'IV_ERR_AUTH_INVALID', message: 'a bearer token is required' });
    return;
  }
  if (path === '/metrics') {
    const m = await withDeadline(opts.metrics());
    res.writeHead(200, { 'Content-Type': m.contentType });
    res.end(m.text);
  } else if (path === '/healthz') {
    const h = await withDeadline(Promise.resolve(opts.health())).catch((err: unknown) => ({ ok: false, reasons: [(err as Error).message] }));
    json(res, h.ok ? 200 : 503, h.ok ? { ok: true } : { ok: false, reasons: h.reasons });
  } else if (path === '/api/status') {
    json(res, 200, await withDeadline(opts.status()));
  } else if (opts.staticDir !== undefined) {
    await serveStatic(opts.staticDir, path, res);
  } else {
    json(res, 404, { error: 'not-found', message: `no ${path}` });
  }
}

async function serveStatic(dir: string, path: string, res: ServerResponse): Promise<void> {
  const rel = normalize(decodeURIComponent(path === '/' ? '/index.html' : path)).replace(/^[/\\]+/, '');
  const file = join(dir, rel);
  if (rel.startsWith('..') || !file.startsWith(join(dir, sep).slice(0, -1))) {
    json(res, 404, { error: 'not-found', message: `no ${path}` });
    return;
  }
  try {
    const body = await readFile(file);
    res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-cache' });
    res.end(body);
  } catch {
    json(res, 404, { error: 'not-found', message: `no ${path}` });
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(`${JSON.stringify(body)}\n`);
}

async function withDeadline<T>(p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new IvError('IV_ERR_TIMEOUT', `no answer within ${DEADLINE_MS} ms`)), DEADLINE_MS);
    })]);
  } finally {
    clearTimeout(timer);
  }
}
