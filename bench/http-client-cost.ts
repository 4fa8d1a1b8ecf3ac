/**
 * http-client-cost — what an HTTP client costs the worker thread that first uses it:
 * a fresh worker GC-settles, sends five 512 KB PUTs to a local server with the global
 * fetch (undici) or with node:http, GC-settles again and reports its V8 heap growth (KB);
 * `httpsLoadHeapKB`: what loading node:https (and an https Agent) adds to the node:http
 * figure, which http-exchange.ts now defers to the first https: request.
 * Part of the `cloud` benchmark: the object store's client runs on the io worker.
 * Must never: reuse a worker between clients (the first use is what is measured).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
require('node:v8').setFlagsFromString('--expose-gc');
const collect = globalThis.gc ?? require('node:vm').runInNewContext('gc');
const settle = async () => { for (let i = 0; i < 3; i++) { collect?.(); await new Promise((r) => setTimeout(r, 100)); } };
const put = (body) => workerData.client === 'fetch'
  ? fetch(workerData.url, { method: 'PUT', body }).then((r) => r.arrayBuffer())
  : new Promise((resolve, reject) => {
      const req = http.request(workerData.url, { method: 'PUT', headers: { 'content-length': body.length } }, (res) => { res.resume(); res.on('end', resolve); });
      req.on('error', reject);
      req.end(body);
    });
(async () => {
  await settle();
  const before = process.memoryUsage().heapUsed;
  if (workerData.client === 'node:http+https') globalThis.keep = new (require('node:https').Agent)({ keepAlive: true });
  for (let i = 0; i < 5; i++) await put(Buffer.alloc(512 * 1024, i));
  await settle();
  parentPort.postMessage({ gc: typeof collect === 'function', heapKB: (process.memoryUsage().heapUsed - before) / 1024 });
})();
`;

async function once(client: 'fetch' | 'node:http' | 'node:http+https', url: string): Promise<{ gc: boolean; heapKB: number }> {
  const w = new Worker(WORKER, { eval: true, workerData: { client, url } });
  try {
    return await new Promise((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
  } finally {
    await w.terminate();
  }
}

/** Heap growth (KB, mean of `runs` fresh workers each) of fetch and node:http, GC-settled. */
export async function httpClientCost(runs = 3): Promise<{ fetchHeapKB: number; nodeHttpHeapKB: number; httpsLoadHeapKB: number; gcSettled: boolean }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/obj`;
  try {
    const f: number[] = [];
    const h: number[] = [];
    const hs: number[] = [];
    let gc = true;
    for (let i = 0; i < runs; i++) {
      for (const [client, out] of [['fetch', f], ['node:http', h], ['node:http+https', hs]] as const) {
        const r = await once(client, url);
        gc &&= r.gc;
        out.push(r.heapKB);
      }
    }
    const mean = (v: number[]): number => Math.round(v.reduce((a, b) => a + b, 0) / v.length);
    return { fetchHeapKB: mean(f), nodeHttpHeapKB: mean(h), httpsLoadHeapKB: mean(hs) - mean(h), gcSettled: gc };
  } finally {
    server.closeAllConnections();
    server.close();
  }
}
