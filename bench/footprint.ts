/**
 * footprint — `ivgw run` idle: the two demo cameras recording full time, the HTTP server
 * on, no app. For each variant (same run, one after the other) a fresh gateway runs for
 * `settle` seconds, then its RSS and private dirty memory (/proc/PID/smaps_rollup), its
 * thread count and each worker's V8 heap (from its own /metrics) are read. Variants are
 * settings an operator can choose without code changes: glibc's default arenas,
 * `MALLOC_ARENA_MAX=2`, V8's young generation capped at 1 MB semi-spaces (alone and with
 * one GC helper thread), jemalloc (Debian libjemalloc2) preloaded, and the cameras'
 * capture on the io worker (`--capture-worker io`: what the capture worker costs).
 * `IVGW_FOOTPRINT_BASELINE=/other/checkout/bin/ivgw.js` also measures that build (glibc) in
 * the same run, for before/after comparisons (`baselineBuild`, with the RSS each worker
 * fewer saved).
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

async function measure(env: NodeJS.ProcessEnv, settleS: number, ivgw = IVGW, flags: string[] = []): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'ivgw-footprint-'));
  const http = await freePort();
  const proc = spawn(process.execPath, [ivgw, 'run', '--mqtt-port', '0', '--data', join(dir, 'data'), '--http', `127.0.0.1:${http}`, '--log-level', 'warn', ...flags], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...env } });
  try {
    await new Promise((r) => setTimeout(r, settleS * 1000));
    if (proc.exitCode !== null) {
      throw new Error(`ivgw run exited ${proc.exitCode}`);
    }
    const pid = proc.pid as number;
    const m = smaps(pid);
    const metrics = await (await fetch(`http://127.0.0.1:${http}/metrics`)).text();
    const heaps: Record<string, number> = {};
    for (const x of metrics.matchAll(/^ivgw_worker_heap_used_bytes\{worker="(\w+)"\} (\d+)/gm)) {
      heaps[x[1] as string] = round(Number(x[2]) / 1048576, 1);
    }
    const mainHeap = Number(/^ivgw_nodejs_heap_size_used_bytes (\d+)/m.exec(metrics)?.[1] ?? 0);
    const segments = existsSync(join(dir, 'data', 'cloud')) ? readdirSync(join(dir, 'data', 'cloud'), { recursive: true }).length : 0;
    return {
      rssMB: round((m.Rss ?? 0) / 1024, 1),
      privateDirtyMB: round((m.Private_Dirty ?? 0) / 1024, 1),
      sharedCleanMB: round(((m.Shared_Clean ?? 0) + (m.Private_Clean ?? 0)) / 1024, 1),
      threads: readdirSync(`/proc/${pid}/task`).length,
      mainHeapUsedMB: round(mainHeap / 1048576, 1),
      workerHeapUsedMB: heaps,
      storeEntries: segments,
    };
  } finally {
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(opts: BenchOptions): Promise<Record<string, unknown>> {
  const settleS = opts.quick ? 12 : 30;
  const nodeOptions = (flags: string): string => `${process.env.NODE_OPTIONS ?? ''} ${flags}`.trim();
  const variants: [string, NodeJS.ProcessEnv, string[]][] = [
    ['glibc', {}, []],
    ['arenaMax2', { MALLOC_ARENA_MAX: '2' }, []],
    // V8's young generation (semi-spaces up to 16 MB per isolate that workers' resourceLimits do not set) and its GC thread pool
    ['semiSpace1MB', { NODE_OPTIONS: nodeOptions('--max-semi-space-size=1') }, []],
    ['semiSpace1MBPool1', { NODE_OPTIONS: nodeOptions('--max-semi-space-size=1 --v8-pool-size=1') }, []],
    // the cameras' capture on the io worker: what the capture worker's isolate costs
    ['captureOnIo', {}, ['--capture-worker', 'io']],
    ['captureOnIoPool1', { NODE_OPTIONS: nodeOptions('--v8-pool-size=1') }, ['--capture-worker', 'io']],
  ];
  if (existsSync(JEMALLOC)) {
    variants.push(['jemalloc', { LD_PRELOAD: JEMALLOC }, []]);
  }
  const results: Record<string, Record<string, unknown>> = {};
  for (const [name, env, flags] of variants) {
    results[name] = await measure(env, settleS, IVGW, flags);
  }
  const best = Math.min(...Object.values(results).map((r) => r.rssMB as number));
  const other = process.env.IVGW_FOOTPRINT_BASELINE;
  let baselineBuild: Record<string, unknown> | undefined;
  if (other) {
    const b = await measure({}, settleS, other);
    const now = results.glibc ?? {};
    const fewer = (b.threads as number) - (now.threads as number);
    const workersFewer = Object.keys(b.workerHeapUsedMB as object).length - Object.keys(now.workerHeapUsedMB as object).length;
    baselineBuild = { ivgw: other, ...b, savedMB: round((b.rssMB as number) - (now.rssMB as number), 1), threadsFewer: fewer, workersFewer, savedPerWorkerMB: workersFewer > 0 ? round(((b.rssMB as number) - (now.rssMB as number)) / workersFewer, 1) : null };
  }
  return { idleRssMB: results.glibc?.rssMB, bestIdleRssMB: best, targetMB: 80, settleS, variants: results, ...(baselineBuild ? { baselineBuild } : {}) };
}
