/**
 * metrics — what the gateway's Prometheus metrics cost (gateway/metrics.ts):
 *  - per event on the main thread (a watermark event, a connect time, a first-frame time,
 *    a refused request): ns per call, against a baseline loop that calls an empty function
 *    with the same arguments in the same run;
 *  - per scrape: building the `/metrics` text for 16 cameras and 256 apps' totals, p50/p99 ms.
 * The frame path (the p2p worker's 10 ms tick) has no metric code at all: its numbers are
 * read at scrape time from the shared send-stats blocks and the actors' stats.
 */
import { GatewayMetrics, type CameraSnapshot } from '../gateway/metrics.js';
import type { BenchOptions } from './run.js';
import { percentile, round } from './stats.js';

const cameras: CameraSnapshot[] = Array.from({ length: 16 }, (_, i) => ({
  camera: `cam${i}`, channel: i, fps: 25, videoKbps: 2_000, audioKbps: 64, framesAccepted: 1e6 + i, rejected: { IV_ERR_AV_B_FRAME: i }, state: 'up', restarts: i, ringResidentBytes: 4_194_304,
}));

function nsPerCall(n: number, fn: (i: number) => void): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    fn(i);
  }
  return Number(process.hrtime.bigint() - t0) / n;
}

export async function run(opts: BenchOptions): Promise<Record<string, unknown>> {
  const m = new GatewayMetrics({
    cameras: async () => cameras,
    p2p: () => ({ appsConnected: 256, streamsOpen: 300, bytesSent: 1e12, bytesAcked: 1e12, backlogBytes: 1e6, keepAlive: 'up' }),
    cloud: async () => cameras.map((c) => ({ camera: c.camera, segmentsAccepted: 1e4, uploaded: 1e4, pending: 2, uploadFailures: 0, spoolBytes: 1e6 })),
    workers: () => ['capture', 'p2p', 'io', 'cloud'].map((worker) => ({ worker, heapUsed: 2e7 })),
    memoryLooks: () => ({ checks: 1e3, trims: 10, released: 10, codeDrops: 1e3, codeBytesDropped: 1e10 }),
    afterLeave: () => ({ trims: 10, released: 10, releases: 10, releaseMs: 150, lastReleaseMs: 15 }),
  });
  const n = opts.quick ? 200_000 : 2_000_000;
  const levels = ['warn', 'high', 'low'];
  let sink = 0;
  const empty = (x: string | number): void => {
    sink += typeof x === 'string' ? x.length : x;
  };
  const results: Record<string, number> = {};
  for (let round_ = 0; round_ < 2; round_++) { // the first round warms up
    results.baselineNs = nsPerCall(n, (i) => empty(levels[i % 3] as string));
    results.watermarkNs = nsPerCall(n, (i) => m.watermark(levels[i % 3] as string));
    results.connectTimeNs = nsPerCall(n, (i) => m.connected(20 + (i % 200)));
    results.firstFrameNs = nsPerCall(n, (i) => m.firstFrameSent(5 + (i % 50)));
    results.refusedNs = nsPerCall(n, (i) => m.offerRefused(i % 2 ? 'IV_ERR_BUSY' : 'IV_ERR_AUTH_EXPIRED'));
  }
  const scrapes: number[] = [];
  let bytes = 0;
  for (let i = 0; i < (opts.quick ? 50 : 300); i++) {
    const t0 = performance.now();
    bytes = (await m.text()).length;
    scrapes.push(performance.now() - t0);
  }
  void sink;
  return {
    baselineNsPerCall: round(results.baselineNs ?? 0, 1),
    watermarkEventNs: round(results.watermarkNs ?? 0, 1),
    connectTimeObserveNs: round(results.connectTimeNs ?? 0, 1),
    firstFrameObserveNs: round(results.firstFrameNs ?? 0, 1),
    refusedEventNs: round(results.refusedNs ?? 0, 1),
    scrapeP50Ms: round(percentile(scrapes, 50), 2),
    scrapeP99Ms: round(percentile(scrapes, 99), 2),
    scrapeBytes: bytes,
    scrapeSetup: '16 cameras, 16 recorded, 256 apps',
  };
}
