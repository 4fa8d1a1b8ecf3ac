/**
 * The object store's HTTP (actors/cloud/http-exchange.ts) against real local servers:
 * a body arrives whole with its length (bytes, or a source read in parts, which is
 * refused when it reads other than it declared), a server that does not answer in time gives
 * IV_ERR_TIMEOUT and its socket is closed, an answer over the cap, one cut short and a
 * request node:http refuses to send give IV_ERR_CS_STORE, and a keep-alive socket the
 * server closed while idle is retried once on a new connection, while a request that
 * got an answer is never sent twice. node:https (TLS) is loaded only for an https: URL.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { httpExchange } from '../../actors/cloud/http-exchange.js';
import { IvError } from '../../runtime/errors.js';

const EXCHANGE = new URL('../../actors/cloud/http-exchange.js', import.meta.url).href;

const open = new Map<net.Server, Set<net.Socket>>();

async function listen(server: net.Server): Promise<URL> {
  const sockets = new Set<net.Socket>();
  open.set(server, sockets);
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
}

/** Stop a server and end the connections the client's agent keeps alive. */
function stop(server: net.Server): void {
  server.close();
  for (const s of open.get(server) ?? []) {
    s.destroy();
  }
}

/** A server that answers `got <n>` once a request's body ended, and records its declared length and the bytes that came. */
function countingServer(): { server: http.Server; got: { length: string | undefined; bytes: number }[] } {
  const got: { length: string | undefined; bytes: number }[] = [];
  const server = http.createServer((req, res) => {
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.byteLength));
    req.on('end', () => {
      got.push({ length: req.headers['content-length'], bytes });
      res.end(`got ${bytes}`);
    });
    req.on('error', () => undefined); // a client that gives up mid-body
  });
  return { server, got };
}

test('a PUT body arrives whole, with its length, and the answer comes back', async (t) => {
  const { server, got } = countingServer();
  const url = await listen(server);
  try {
    const body = new Uint8Array(3 * 1024 * 1024 + 7).fill(9);
    const a = await httpExchange(new URL('obj', url), { method: 'PUT', body, timeoutMs: 5_000, maxBytes: 1024, what: 'PUT obj' });
    t.is(a.status, 200);
    t.is(a.body.toString(), `got ${body.byteLength}`);
    t.deepEqual(got, [{ length: String(body.byteLength), bytes: body.byteLength }]);
  } finally {
    stop(server);
  }
});

test('a body read in parts arrives whole with its declared length; one that reads short fails naming it', async (t) => {
  const { server, got } = countingServer();
  const url = await listen(server);
  const parts = (n: number, size: number) => ({
    size,
    async *chunks() {
      for (let i = 0; i < n; i++) {
        yield new Uint8Array(64 * 1024).fill(i);
      }
    },
  });
  try {
    const a = await httpExchange(new URL('obj', url), { method: 'PUT', body: parts(40, 40 * 65536), timeoutMs: 5_000, maxBytes: 1024, what: 'PUT obj' });
    t.is(a.body.toString(), `got ${40 * 65536}`);
    t.deepEqual(got, [{ length: String(40 * 65536), bytes: 40 * 65536 }]);
    const err = await t.throwsAsync(httpExchange(new URL('short', url), { method: 'PUT', body: parts(2, 3 * 65536), timeoutMs: 5_000, maxBytes: 1024, what: 'PUT short' }));
    t.true(err instanceof IvError && err.code === 'IV_ERR_CS_STORE', String(err));
    t.regex(err?.message ?? '', /PUT short: reading the body: 131072 bytes read, 196608 declared/);
  } finally {
    stop(server);
  }
});

test('a source taking turns in two buffers arrives intact through a server that reads slowly (no part is overwritten while queued)', async (t) => {
  const PART = 64 * 1024;
  const N = 200; // 12.5 MiB: more than the loopback socket buffers take while the server waits
  let wrong = -1;
  let bytes = 0;
  const server = http.createServer((req, res) => {
    req.pause();
    setTimeout(() => req.resume(), 300);
    req.on('data', (c: Buffer) => {
      for (let i = 0; i < c.byteLength; i++, bytes++) {
        if (wrong < 0 && c[i] !== Math.floor(bytes / PART) % 251) {
          wrong = bytes;
        }
      }
    });
    req.on('end', () => res.end('done'));
  });
  const url = await listen(server);
  const pool = [Buffer.alloc(PART), Buffer.alloc(PART)];
  const source = {
    size: N * PART,
    async *chunks() {
      for (let i = 0; i < N; i++) {
        yield (pool[i % 2] as Buffer).fill(i % 251);
      }
    },
  };
  try {
    const a = await httpExchange(new URL('obj', url), { method: 'PUT', body: source, timeoutMs: 20_000, maxBytes: 1024, what: 'PUT obj' });
    t.is(a.body.toString(), 'done');
    t.is(bytes, N * PART);
    t.is(wrong, -1, `the first wrong byte is at ${wrong}`);
  } finally {
    stop(server);
  }
});

test('no answer within the deadline: IV_ERR_TIMEOUT naming the request, and the socket is closed', async (t) => {
  let closed = false;
  const server = net.createServer((s) => {
    s.on('data', () => {}); // reads the request, never answers
    s.on('close', () => (closed = true));
  });
  const url = await listen(server);
  try {
    const started = performance.now();
    const err = await t.throwsAsync(httpExchange(url, { method: 'GET', timeoutMs: 300, maxBytes: 1024, what: 'GET slow' }), { instanceOf: IvError });
    t.is(err?.code, 'IV_ERR_TIMEOUT');
    t.regex(err?.message ?? '', /^GET slow: no answer within 300 ms/);
    t.true(performance.now() - started < 2_000);
    for (let i = 0; i < 50 && !closed; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    t.true(closed, 'the timed-out socket was closed');
  } finally {
    stop(server);
  }
});

test('an answer over the cap, declared or streamed, and one cut short fail with IV_ERR_CS_STORE', async (t) => {
  const server = http.createServer((req, res) => {
    if (req.url === '/declared') {
      res.end(Buffer.alloc(5000));
    } else if (req.url === '/chunked') {
      res.write(Buffer.alloc(3000));
      res.end(Buffer.alloc(3000));
    } else {
      res.writeHead(200, { 'content-length': '1000' });
      res.write(Buffer.alloc(10));
      setTimeout(() => res.destroy(), 20);
    }
  });
  const url = await listen(server);
  try {
    const x = { method: 'GET', timeoutMs: 5_000, maxBytes: 4096 };
    const declared = await t.throwsAsync(httpExchange(new URL('declared', url), { ...x, what: 'GET declared' }), { instanceOf: IvError });
    t.is(declared?.code, 'IV_ERR_CS_STORE');
    t.regex(declared?.message ?? '', /GET declared: the answer of 5000 bytes is over the 4096-byte limit/);
    const chunked = await t.throwsAsync(httpExchange(new URL('chunked', url), { ...x, what: 'GET chunked' }), { instanceOf: IvError });
    t.regex(chunked?.message ?? '', /GET chunked: the answer is over the 4096-byte limit/);
    const cut = await t.throwsAsync(httpExchange(new URL('cut', url), { ...x, what: 'GET cut' }), { instanceOf: IvError });
    t.is(cut?.code, 'IV_ERR_CS_STORE');
    t.regex(cut?.message ?? '', /^GET cut: /);
  } finally {
    stop(server);
  }
});

test('an idle keep-alive socket the server closed is retried once on a new one; an answered request is not', async (t) => {
  // a raw HTTP/1.1 server that answers the first request of each connection and drops
  // the connection, unanswered, on its second (what a server closing an idle socket does)
  let connections = 0;
  let requests = 0;
  const server = net.createServer((s) => {
    connections++;
    let onThis = 0;
    s.on('data', (d: Buffer) => {
      if (!d.toString('latin1').includes('\r\n\r\n')) {
        return;
      }
      requests++;
      onThis++;
      if (onThis === 1) {
        s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok');
      } else {
        s.destroy();
      }
    });
  });
  const url = await listen(server);
  try {
    const x = { method: 'GET', timeoutMs: 5_000, maxBytes: 1024, what: 'GET x' };
    t.is((await httpExchange(url, x)).body.toString(), 'ok');
    t.is((await httpExchange(url, x)).body.toString(), 'ok', 'the second request went out again on a new connection');
    t.is(connections, 2);
    t.is(requests, 3);
  } finally {
    stop(server);
  }
});

test('a request node:http refuses to send (a header with a line break) fails with IV_ERR_CS_STORE naming it', async (t) => {
  const err = await t.throwsAsync(httpExchange(new URL('http://127.0.0.1:9/'), { method: 'GET', headers: { 'x-bad': 'a\nb' }, timeoutMs: 1_000, maxBytes: 1024, what: 'GET bad' }), { instanceOf: IvError });
  t.is(err?.code, 'IV_ERR_CS_STORE');
  t.regex(err?.message ?? '', /^GET bad: /);
});

test('a process that only talks to http: endpoints never loads node:https (TLS): it is loaded at the first https: request', async (t) => {
  const server = http.createServer((_req, res) => res.end('ok'));
  const url = await listen(server);
  try {
    // the child reports which of the two it has loaded after an http: exchange, then after trying an https: one
    const script = `
      import { httpExchange } from ${JSON.stringify(EXCHANGE)};
      const loaded = () => ['https', 'tls'].filter((m) => process.moduleLoadList.includes('NativeModule ' + m));
      const a = await httpExchange(new URL(${JSON.stringify(url.href)}), { method: 'GET', timeoutMs: 5000, maxBytes: 100, what: 'GET' });
      const afterHttp = loaded();
      await httpExchange(new URL('https://127.0.0.1:1/'), { method: 'GET', timeoutMs: 2000, maxBytes: 100, what: 'GET tls' }).catch(() => undefined);
      console.log(JSON.stringify({ status: a.status, afterHttp, afterHttps: loaded() }));`;
    const out = await new Promise<string>((resolve, reject) => execFile(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout))));
    t.deepEqual(JSON.parse(out) as unknown, { status: 200, afterHttp: [], afterHttps: ['https', 'tls'] });
  } finally {
    stop(server);
  }
});
