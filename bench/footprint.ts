/**
 * footprint — `ivgw run` idle: the two demo cameras recording full time, the HTTP server
 * on, no app. For each variant (same run, one after the other) a fresh gateway runs for
 * `settle` seconds (long enough for the cameras' frame rings to reach their steady size:
 * a ring's pages become resident as it is first written, so RSS climbs for minutes on a
 * ring that is bigger than what the stream needs), its RSS sampled every 10 s. Then its
 * RSS and private dirty memory (/proc/PID/smaps_rollup), thread count, each worker's V8
 * heap, the rings' resident bytes (/metrics) are read, and once more after SIGUSR2 (a full
 * GC in every isolate under --expose-gc, the idle code pages dropped — since 2026-12-08;
 * `gcSettledRssMB` of the runs before kept them —, then malloc_trim). Variants: the default (`ivgw`
 * limits glibc to one malloc arena per core, bin/ivgw.js; the capture where `auto` puts it
 * on this machine), glibc's own limit (`MALLOC_ARENA_MAX=0`: up to 8 arenas per core),
 * jemalloc (Debian libjemalloc2) preloaded, the cameras' capture on a worker of its own
 * and on the io worker (`--capture-worker own` / `io`: what the capture worker costs),
 * all of the small-box settings at once (capture on io,
 * `MALLOC_ARENA_MAX=2`, `--v8-pool-size=1`), V8 without its optimizing compiler (`node
 * --max-opt=1`: Sparkplug's baseline code at most), V8's lite mode (`node --lite-mode`: no
 * JIT, `--optimize-for-size`), and the small-box settings under lite mode (docs/DEPLOY.md).
 * `IVGW_FOOTPRINT_BASELINE=/other/checkout/bin/ivgw.js` also measures that build (its defaults) in
 * the same run, for before/after comparisons (`baselineBuild`).
 * Target (issue: idle footprint): idleRssMB <= 80.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { freePort } from '../test/helpers/free-port.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchOptions } from './run.js';
import { round } from './stats.js';
import { captureWorkerFor } from '../gateway/gateway-workers.js';

const IVGW = fileURLToPath(new URL('../../bin/ivgw.js', import.meta.url));
const JEMALLOC = '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2';

function smaps(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').split('\n')) {
    const m = /^(\w+):\s+(\d+) kB/.exec(line);
    if (m) {
      out[m[1] as string] = Number(m[2]);
    }
  }
  return out;
}

const mb = (kb: number | undefined): number => round((kb ?? 0) / 1024, 1);

/** SIGUSR2, then the `memory settled` log line `ivgw run` answers with (GC'd heaps, RSS after dropping idle code pages and before the trim). */
function settle(proc: ReturnType<typeof spawn>, lines: string[]): Promise<{ rssBeforeTrimKB: number }> {
  return new Promise((resolve, reject) => {
    const from = lines.length;
    const timer = setInterval(() => {
      const l = lines.slice(from).find((x) => x.includes('memory settled'));
      if (l) {
        clearInterval(timer);
        clearTimeout(deadline);
        resolve(JSON.parse(l) as { rssBeforeTrimKB: number });
      }
    }, 100);
    const deadline = setTimeout(() => {
      clearInterval(timer);
      reject(new Error('ivgw run did not answer SIGUSR2'));
    }, 15_000);
    proc.kill('SIGUSR2');
  });
}

async function measure(env: NodeJS.ProcessEnv, settleS: number, ivgw = IVGW, flags: string[] = [], nodeFlags: string[] = []): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'ivgw-footprint-'));
  const http = await freePort();
  const nodeOptions = `${env.NODE_OPTIONS ?? process.env.NODE_OPTIONS ?? ''} --expose-gc`.trim();
  const proc = spawn(process.execPath, [...nodeFlags, ivgw, 'run', '--mqtt-port', '0', '--data', join(dir, 'data'), '--http', `127.0.0.1:${http}`, '--log-level', 'info', '--log-format', 'json', ...flags], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env, NODE_OPTIONS: nodeOptions } });
  const lines: string[] = [];
  let rest = '';
  proc.stdout?.on('data', (d: Buffer) => {
    const parts = (rest + d.toString()).split('\n');
    rest = parts.pop() ?? '';
    lines.push(...parts);
  });
  try {
    const pid = proc.pid as number;
    const rssSeriesMB: number[] = [];
    for (let t = 10; t <= settleS; t += 10) {
      await new Promise((r) => setTimeout(r, 10_000));
      if (proc.exitCode !== null) {
        throw new Error(`ivgw run exited ${proc.exitCode}`);
      }
      rssSeriesMB.push(mb(smaps(pid).Rss));
    }
    const m = smaps(pid);
    const metrics = await (await fetch(`http://127.0.0.1:${http}/metrics`)).text();
    const heaps: Record<string, number> = {};
    for (const x of metrics.matchAll(/^ivgw_worker_heap_used_bytes\{worker="(\w+)"\} (\d+)/gm)) {
      heaps[x[1] as string] = round(Number(x[2]) / 1048576, 1);
    }
    const mainHeap = Number(/^ivgw_nodejs_heap_size_used_bytes (\d+)/m.exec(metrics)?.[1] ?? 0);
    const ringBytes = [...metrics.matchAll(/^ivgw_camera_ring_resident_bytes\{[^}]*\} (\d+)/gm)].reduce((a, x) => a + Number(x[1]), 0);
    const segments = existsSync(join(dir, 'data', 'cloud')) ? readdirSync(join(dir, 'data', 'cloud'), { recursive: true }).length : 0;
    const settled = await settle(proc, lines);
    await new Promise((r) => setTimeout(r, 500));
    const trimmed = smaps(pid);
    return {
      rssMB: mb(m.Rss),
      privateDirtyMB: mb(m.Private_Dirty),
      sharedCleanMB: mb((m.Shared_Clean ?? 0) + (m.Private_Clean ?? 0)),
      gcSettledRssMB: mb(settled.rssBeforeTrimKB),
      trimmedRssMB: mb(trimmed.Rss),
      ringResidentMB: round(ringBytes / 1048576, 1),
      rssSeriesMB,
      threads: readdirSync(`/proc/${pid}/task`).length,
      mainHeapUsedMB: round(mainHeap / 1048576, 1),
      workerHeapUsedMB: heaps,
      storeEntries: segments,
    };
  } finally {
    proc.kill('SIGTERM');
    if (proc.exitCode === null) {
      await new Promise((r) => proc.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(opts: BenchOptions): Promise<Record<string, unknown>> {
  const settleS = opts.quick ? 30 : 150;
  const nodeOptions = (flags: string): string => `${process.env.NODE_OPTIONS ?? ''} ${flags}`.trim();
  // [name, environment, ivgw run flags, node flags]
  const variants: [string, NodeJS.ProcessEnv, string[], string[]?][] = [
    ['default', {}, []],
    // what glibc does without the gateway's limit (an explicit MALLOC_ARENA_MAX wins over it; 0 is glibc's default)
    ['glibcArenas', { MALLOC_ARENA_MAX: '0' }, []],
    // the cameras' capture on a worker of its own, and on the io worker: what the capture worker's isolate costs
    ['captureOwn', {}, ['--capture-worker', 'own']],
    ['captureOnIo', {}, ['--capture-worker', 'io']],
    // every small-box setting at once: one V8 helper thread, two malloc arenas, capture on io
    ['smallBox', { MALLOC_ARENA_MAX: '2', NODE_OPTIONS: nodeOptions('--v8-pool-size=1') }, ['--capture-worker', 'io']],
    // V8's baseline compiler only (node --max-opt=1: no optimizing compiler, its code pages never touched)
    ['sparkplugOnly', {}, [], ['--max-opt=1']],
    // V8 without any JIT (node --lite-mode): no compiled code, smaller heaps
    ['liteMode', {}, [], ['--lite-mode']],
    // the small-box setting docs/DEPLOY.md gives: smallBox under --lite-mode
    ['smallBoxLite', { MALLOC_ARENA_MAX: '2', NODE_OPTIONS: nodeOptions('--v8-pool-size=1') }, ['--capture-worker', 'io'], ['--lite-mode']],
  ];
  if (existsSync(JEMALLOC)) {
    variants.push(['jemalloc', { LD_PRELOAD: JEMALLOC }, []]);
  }
  const results: Record<string, Record<string, unknown>> = {};
  for (const [name, env, flags, nodeFlags] of variants) {
    results[name] = await measure(env, settleS, IVGW, flags, nodeFlags);
  }
  const [bestVariant, bestResult] = Object.entries(results).sort((a, b) => (a[1].rssMB as number) - (b[1].rssMB as number))[0] ?? ['', {}];
  const best = bestResult.rssMB as number;
  const other = process.env.IVGW_FOOTPRINT_BASELINE;
  let baselineBuild: Record<string, unknown> | undefined;
  if (other) {
    const b = await measure({}, settleS, other);
    const now = results.default ?? {};
    baselineBuild = { ivgw: other, ...b, savedMB: round((b.rssMB as number) - (now.rssMB as number), 1) };
  }
  const dflt = results.default ?? {};
  return {
    idleRssMB: dflt.rssMB, idleGcSettledRssMB: dflt.gcSettledRssMB, idleTrimmedRssMB: dflt.trimmedRssMB, bestIdleRssMB: best, bestVariant, targetMB: 80, settleS,
    defaultCaptureWorker: captureWorkerFor(undefined),
    variants: results, ...(baselineBuild ? { baselineBuild } : {}),
  };
}
