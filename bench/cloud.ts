/**
 * cloud — the cloud module's memory and upload throughput.
 *
 * memory: a child process records one 2 Mbit/s H.264 stream (+ AAC) with a full-time
 * plan; RSS growth of cloud.init + the recording over the baseline, compared with the
 * spec's figure for AAC input: maxGopSize + 100 KB (`memoryRatio`, target <= 1.0). The
 * baseline is a process that already runs the runtime (the P2P host's workers: the cloud
 * actor joins its io worker) and has given start-up's free pages back (malloc_trim, as
 * `ivgw run`'s periodic look does; before 2026-12-08 the baseline was untrimmed, so
 * memory the stream took from those free pages did not count); `alone` repeats it in a
 * process with nothing else, where the cloud module starts a worker of its own
 * (`aloneMemoryRatio`). Each is also split
 * into the fixed part (`idleGrowth`: init, no data: the actor, the ring, a worker if
 * its own) and the part the stream adds (`streamGrowth`, `streamMemoryRatio`);
 * `settledGrowth` is the RSS growth at the end of the recording after a full GC in every
 * isolate (what is live, not garbage awaiting a collection; `trimmedGrowth` /
 * `trimmedMemoryRatio` right after, once malloc_trim gave the C allocator's free pages
 * back, as `ivgw run`'s periodic look does once a minute; `loaded` and `idle` are
 * sampled GC-settled the same way); `v8IdleGrowthKB` / `v8SettledGrowthKB` are the V8
 * heap part of the idle and settled growth, summed over the isolates (steadier than RSS);
 * `nativeInUseGrowthKB` / `nativeFreeGrowthKB` the C allocator's bytes in use and free in
 * its arenas, settled against loaded. The
 * store is s3rver (an S3 endpoint, what a deployment records to), the plan in it;
 * `localStore` repeats the first on a local-directory store (`localStoreMemoryRatio`).
 * The runtime-hosted runs set V8's memory settings first, as `ivgw run` does
 * (runtime/v8-size.ts); `withoutV8Size` repeats the S3 runs without them, alternating
 * with those (`withoutV8SizeMemoryRatio`: what an embedder's process that keeps V8's
 * defaults sees); `alone` keeps V8's defaults too (a library in someone else's process).
 * httpClient: the V8 heap a fresh worker thread grows by when it first PUTs with the
 * global fetch against node:http (http-client-cost.ts): why the S3 store uses node:http.
 * The runtime-hosted runs (S3 and local store) are each repeated three times (RSS moves by
 * ±1.5 MB between runs) and report the run with the median memoryRatio, with every run
 * in `runs`. `IVGW_CLOUD_BASELINE=/other/checkout/dist/bench/cloud-memory-child.js` also
 * measures that build's memory (runtime running, S3) in the same run, alternating with
 * this one's (`baselineBuild`), for before/after comparisons.
 * upload: the same segment-sized objects PUT to s3rver raw (S3Store.put, concurrency
 * 2) and through the module's path (durable spool accept + Uploader, concurrency 2);
 * `uploadRatio` = module throughput / raw throughput, in the same run.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { SAMPLE } from '../actors/capture/index.js';
import type { StoreConfig } from '../actors/cloud/object-store.js';
import { S3Store } from '../actors/cloud/s3-store.js';
import { RecordingStore } from '../recording/recording-store.js';
import { Uploader } from '../actors/cloud/uploader.js';
import { startS3 } from '../test/helpers/s3.js';
import type { BenchOptions } from './run.js';
import { httpClientCost } from './http-client-cost.js';
import { make2MbitH264 } from './sample-media.js';
import { percentile, round } from './stats.js';

const KB = 1024;

const CHILD = fileURLToPath(new URL('./cloud-memory-child.js', import.meta.url));

/** One memory run in a child process, its local recording in a fresh `dir/spool-<n>`. */
let runs = 0;
async function memory(dir: string, video: string, seconds: number, maxGopSize: number, runtime: boolean, store: StoreConfig, childScript = CHILD, v8Size = runtime): Promise<Record<string, unknown>> {
  const child = spawn(process.execPath, ['--expose-gc', childScript, JSON.stringify({ video, audio: SAMPLE.aac, maxGopSize, seconds, store, spoolDir: join(dir, `spool-${++runs}`), runtime, v8Size })], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: { phase: string; rss?: number; second?: number; heaps?: Record<string, number>; native?: { inUseBytes: number; freeBytes: number }; [k: string]: unknown }[] = [];
  createInterface({ input: child.stdout }).on('line', (l) => lines.push(JSON.parse(l) as (typeof lines)[number]));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  if (code !== 0) {
    throw new Error(`memory child exited ${code}`);
  }
  const rss = (phase: string): number[] => lines.filter((l) => l.phase === phase).map((l) => l.rss as number);
  const base = rss('loaded')[0] as number;
  const loadedLine = lines.find((l) => l.phase === 'loaded');
  const idle = rss('idle')[0] as number;
  const stream = rss('stream');
  const steady = stream.slice(Math.floor(stream.length / 2)); // after the first half: segments, uploads and GC at steady state
  const steadyRss = percentile(steady, 50);
  const peakRss = Math.max(...stream);
  const settled = rss('settled')[0] as number; // still recording, after a full GC in every isolate
  const trimmed = rss('trimmed')[0]; // and the free pages given back (a baseline build's child may not sample it)
  const budget = maxGopSize + 100 * KB;
  // V8 heap growth over `loaded`, GC-settled, summed over the isolates (less noisy than RSS: no allocator or commit steps)
  const heapOf = (phase: string): number => Object.values(lines.find((l) => l.phase === phase)?.heaps ?? {}).reduce((n, v) => n + v, 0);
  const heapBase = heapOf('loaded');
  const stats = lines.find((l) => l.phase === 'stats') ?? {};
  return {
    baseline: runtime ? 'the runtime already running (P2P host: p2p + io workers); the cloud actor on io' : 'nothing else in the process; the cloud module starts its own worker',
    v8Size,
    store: store.kind,
    maxGopSize,
    specBudgetBytes: budget,
    rssLoadedMB: round(base / 2 ** 20, 1),
    ...(typeof loadedLine?.untrimmedRss === 'number' ? { rssLoadedUntrimmedMB: round(loadedLine.untrimmedRss / 2 ** 20, 1) } : {}),
    idleGrowthKB: round((idle - base) / KB, 0),
    steadyGrowthKB: round((steadyRss - base) / KB, 0),
    peakGrowthKB: round((peakRss - base) / KB, 0),
    streamGrowthKB: round((steadyRss - idle) / KB, 0),
    memoryRatio: round((steadyRss - base) / budget, 2),
    streamMemoryRatio: round((steadyRss - idle) / budget, 2),
    settledGrowthKB: round((settled - base) / KB, 0),
    settledMemoryRatio: round((settled - base) / budget, 2),
    ...(trimmed !== undefined ? { trimmedGrowthKB: round((trimmed - base) / KB, 0), trimmedMemoryRatio: round((trimmed - base) / budget, 2) } : {}),
    ...(heapBase > 0 ? { // a child that reports its heaps (a baseline build's may not)
      v8IdleGrowthKB: round((heapOf('idle') - heapBase) / KB, 0),
      v8SettledGrowthKB: round((heapOf('settled') - heapBase) / KB, 0),
      ...nativeGrowth(lines),
      v8HeapsAtSettledKB: Object.fromEntries(Object.entries(lines.find((l) => l.phase === 'settled')?.heaps ?? {}).map(([k, v]) => [k, round(v / KB, 0)])),
    } : {}),
    stream: stats,
  };
}

/**
 * What the C allocator did between `loaded` and `settled` (GC-settled both): bytes in use
 * (native memory live: the ring, buffers, V8's own mallocs) and free inside its arenas
 * (freed, kept in RSS until a trim); a child without the figures (a baseline build's) gives none.
 */
function nativeGrowth(lines: { phase: string; native?: { inUseBytes: number; freeBytes: number } }[]): Record<string, number> {
  const at = (phase: string) => lines.find((l) => l.phase === phase)?.native;
  const a = at('loaded');
  const b = at('settled');
  return a && b ? { nativeInUseGrowthKB: round((b.inUseBytes - a.inUseBytes) / KB, 0), nativeFreeGrowthKB: round((b.freeBytes - a.freeBytes) / KB, 0) } : {};
}

/** The run with the median memoryRatio, and every run's figures (`runs`). */
function medianRun(runs: Record<string, unknown>[]): Record<string, unknown> {
  const sorted = [...runs].sort((a, b) => (a.memoryRatio as number) - (b.memoryRatio as number));
  const pick = (r: Record<string, unknown>): Record<string, unknown> => ({ idleGrowthKB: r.idleGrowthKB, steadyGrowthKB: r.steadyGrowthKB, peakGrowthKB: r.peakGrowthKB, settledGrowthKB: r.settledGrowthKB, trimmedGrowthKB: r.trimmedGrowthKB, memoryRatio: r.memoryRatio, settledMemoryRatio: r.settledMemoryRatio, trimmedMemoryRatio: r.trimmedMemoryRatio, v8IdleGrowthKB: r.v8IdleGrowthKB, v8SettledGrowthKB: r.v8SettledGrowthKB, nativeInUseGrowthKB: r.nativeInUseGrowthKB, nativeFreeGrowthKB: r.nativeFreeGrowthKB });
  return { ...sorted[Math.floor(sorted.length / 2)], runs: runs.map(pick) };
}

async function upload(objects: number, size: number): Promise<Record<string, unknown>> {
  const s3 = await startS3('bench');
  const spoolDir = mkdtempSync(join(tmpdir(), 'ivgw-bench-spool-'));
  try {
    const store = new S3Store(s3.config);
    const payloads = Array.from({ length: objects }, (_, i) => {
      const b = new Uint8Array(size);
      for (let j = 0; j < size; j += 4096) {b[j] = (i * 7 + j) & 0xff;}
      return b;
    });
    // raw PUTs, two at a time; measured before and after the module's run (mean), after a warm-up
    const raw = async (prefix: string, count: number): Promise<number> => {
      const start = performance.now();
      let next = 0;
      const worker = async (): Promise<void> => {
        for (let i = next++; i < count; i = next++) {
          await store.put(`${prefix}/seg-${i}.m4s`, payloads[i] as Uint8Array, 'video/iso.segment', 30_000);
        }
      };
      await Promise.all([worker(), worker()]);
      return performance.now() - start;
    };
    await raw('warmup', Math.min(5, objects));
    const rawBefore = await raw('raw1', objects);
    let t0 = 0;
    // the module's path: durable accept into the spool, uploader (concurrency 2), confirm
    const spool = await RecordingStore.open(spoolDir);
    const uploader = new Uploader(spool, store, { concurrency: 2, uploadTimeoutMs: 30_000 });
    uploader.start();
    t0 = performance.now();
    for (let i = 0; i < objects; i++) {
      await spool.accept(`mod/seg-${i}.m4s`, payloads[i] as Uint8Array);
      uploader.kick();
    }
    const acceptMs = performance.now() - t0;
    if (!(await uploader.drain(120_000))) {
      throw new Error('the uploader did not drain');
    }
    const moduleMs = performance.now() - t0;
    await uploader.stop();
    const rawMs = (rawBefore + (await raw('raw2', objects))) / 2;
    const mb = (objects * size) / 2 ** 20;
    return { objects, objectKB: size / KB, rawMBps: round(mb / (rawMs / 1000), 1), moduleMBps: round(mb / (moduleMs / 1000), 1), acceptMBps: round(mb / (acceptMs / 1000), 1), uploadRatio: round(rawMs / moduleMs, 3), failures: uploader.stats.failures };
  } finally {
    await s3.close();
    rmSync(spoolDir, { recursive: true, force: true });
  }
}

export async function run(opts: BenchOptions): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'ivgw-bench-cloud-'));
  try {
    const maxGopSize = 600 * KB; // one 2 s GOP at 2 Mbit/s (~500 KB) plus its audio, rounded up to 4 KB
    const seconds = opts.quick ? 20 : 60;
    const repeat = opts.quick ? 1 : 3; // RSS moves by ±1.5 MB from run to run: the median of three, every run listed
    const video = make2MbitH264(dir); // encoded once, recorded by each memory run
    const s3 = await startS3('bench');
    let mem: Record<string, unknown>;
    let alone: Record<string, unknown>;
    let withoutV8Size: Record<string, unknown>;
    let baselineBuild: Record<string, unknown> | undefined;
    try {
      await new S3Store(s3.config).put('bench/plan.json', new TextEncoder().encode(JSON.stringify({ fullTime: { enabled: true } })), 'application/json', 10_000);
      const other = process.env.IVGW_CLOUD_BASELINE;
      const memRuns: Record<string, unknown>[] = [];
      const defaultV8Runs: Record<string, unknown>[] = [];
      const otherRuns: Record<string, unknown>[] = [];
      for (let i = 0; i < repeat; i++) { // alternating with V8's defaults, and with the baseline build when there is one
        memRuns.push(await memory(dir, video, seconds, maxGopSize, true, s3.config));
        defaultV8Runs.push(await memory(dir, video, seconds, maxGopSize, true, s3.config, CHILD, false));
        if (other) {
          otherRuns.push(await memory(dir, video, seconds, maxGopSize, true, s3.config, other));
        }
      }
      mem = medianRun(memRuns);
      withoutV8Size = medianRun(defaultV8Runs);
      if (other) {
        baselineBuild = { child: other, ...medianRun(otherRuns) };
      }
      alone = await memory(dir, video, seconds, maxGopSize, false, s3.config);
    } finally {
      await s3.close();
    }
    // the same on a local-directory store: what talking to S3 adds, in the same run
    const localDir = join(dir, 'store-local');
    mkdirSync(join(localDir, 'bench'), { recursive: true });
    writeFileSync(join(localDir, 'bench', 'plan.json'), JSON.stringify({ fullTime: { enabled: true } }));
    const localRuns: Record<string, unknown>[] = [];
    for (let i = 0; i < repeat; i++) {
      localRuns.push(await memory(dir, video, seconds, maxGopSize, true, { kind: 'local', dir: localDir }));
    }
    const local = medianRun(localRuns);
    const up = await upload(opts.quick ? 20 : 60, 512 * KB);
    const httpClient = await httpClientCost();
    return { memoryRatio: mem.memoryRatio, settledMemoryRatio: mem.settledMemoryRatio, trimmedMemoryRatio: mem.trimmedMemoryRatio, withoutV8SizeMemoryRatio: withoutV8Size.memoryRatio, aloneMemoryRatio: alone.memoryRatio, localStoreMemoryRatio: local.memoryRatio, uploadRatio: up.uploadRatio, httpClient, memory: mem, withoutV8Size, alone, localStore: local, upload: up, ...(baselineBuild ? { baselineBuild } : {}) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
