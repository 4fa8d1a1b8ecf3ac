/**
 * fanout — how many live viewers of one 2 Mbit/s camera this machine serves, and what
 * each costs in memory: `ivgw run` (channel 0 plays a generated 2 Mbit/s H.264 file)
 * against `ivgw load`, then the same harness against the raw node-datachannel server
 * (bench/fanout-raw-server.ts: one mux, the same bytes to everyone). The load tester runs
 * on the same cores as the server (both limits count).
 *
 * Each server serves a ladder of live viewers (`--mix live=1`), each step passing only with zero errors,
 * integrity violations and gaps and p99 capture-to-receive latency <= 100 ms. In the
 * middle of every step the server is sent SIGUSR2: under `--expose-gc` it runs a full GC
 * in every isolate and logs each one's V8 heap ("memory settled"; `ivgw run` then drops its
 * idle code pages as its periodic look does, memory.dropIdleCode, so that a sample is not
 * lower for falling after a look); right after, its /proc/PID/smaps_rollup and thread count are read. Memory per viewer is the slope of
 * those GC-settled samples between the step at 10 viewers and the highest passing step.
 * Idle apps (`--mix idle=1`: connected, no stream) at 10 and 100 are measured the same way
 * on a fresh server process of each kind.
 * Reports: maxViewers, rawMaxViewers, ratio, p99 at half the max, rssPerViewerKB,
 * rssPerIdleViewerKB, rawRssPerViewerKB, rawRssPerIdleViewerKB, the per-viewer breakdown
 * (private dirty / clean, anonymous, threads, V8 heap per isolate) for both servers, and
 * per step where the CPU went: the server's by thread name (`ivgw-p2p`…, proc-cpu.ts) and
 * the rest of the machine (the load generator). `optimizeForSizeOff`: the gateway's ladder
 * once more without the `--optimize-for-size` `ivgw run` sets (IVGW_OPTIMIZE_FOR_SIZE=0);
 * `liteMode`: once more under `node --lite-mode` (the small-box setting, docs/DEPLOY.md);
 * what each costs or saves in viewers, memory, latency and CPU.
 * Targets (issue #16): maxViewers >= 256, ratio >= 0.9, p99 <= 50 ms at half the max N,
 * rssPerViewerKB <= 150.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadReport } from '../client/load/load-report.js';
import { IVGW } from '../test/helpers/gateway.js';
import { cpuSnapshot, cpuUse, type CpuSnapshot, type CpuUse } from './proc-cpu.js';
import { procMemory, rssBytes, type ProcMemory } from './proc-memory.js';
import type { BenchOptions } from './run.js';
import { make2MbitH264 } from './sample-media.js';
import { round } from './stats.js';

const DEVICE = 'fanout-bench';
const SECRET = 'fanout-bench-secret';
const LATENCY_LIMIT_MS = 100;
const RAMP_PER_S = 50;

type Kind = 'gateway' | 'raw';

/**
 * `IVGW_FANOUT_BASELINE=/other/checkout/bin/ivgw.js`: also run that build's gateway ladder
 * in the same run (before/after comparisons under the same load from the rest of the machine).
 */
const BASELINE_IVGW = process.env.IVGW_FANOUT_BASELINE;

/** `IVGW_FANOUT_NODE_FLAGS='--no-opt --no-maglev'`: also run the gateway ladder under these node flags (what a V8 setting costs or saves). */
const EXTRA_NODE_FLAGS = process.env.IVGW_FANOUT_NODE_FLAGS?.split(/\s+/).filter(Boolean);

/** One GC-settled sample: /proc memory plus each isolate's V8 heap used (KB). */
interface Sample extends ProcMemory {
  heapUsedKB: Record<string, number>;
  gcCollected: boolean;
  /** RSS after the GC, before malloc_trim gave the C allocator's free pages back (the /proc fields are read after it). */
  rssBeforeTrimKB: number;
}

interface Step {
  n: number;
  mix: 'idle' | 'live';
  pass: boolean;
  why: string;
  connected: number;
  errors: number;
  violations: number;
  gaps: number;
  latencyP50: number | null;
  latencyP99: number | null;
  kbpsP50: number | null;
  /** Mean RSS of the second half of the step, not GC-settled (MB). */
  rssMB: number;
  settled: Sample | null;
  /** Where the CPU went once every app was connected, before the GC-settled sample (proc-cpu.ts). */
  cpu: CpuUse | null;
  /** The first problems of a failing step. */
  problems?: string[];
}

interface Server {
  proc: ChildProcess;
  url: string;
  /** The next "memory settled" line's heaps. */
  settle(): Promise<Sample>;
}

async function startServer(kind: Kind, video: string, ivgw = IVGW, nodeFlags: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Server> {
  const args = kind === 'gateway'
    ? [ivgw, 'run', '--no-record', '--video', video, '--mqtt-port', '0', '--device', DEVICE, '--secret', SECRET, '--max-apps', '4096', '--max-streams', '8192', '--seconds', '3600', '--http', 'off']
    : [fileURLToPath(new URL('./fanout-raw-server.js', import.meta.url)), video, DEVICE, SECRET];
  const proc = spawn(process.execPath, ['--expose-gc', ...nodeFlags, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  const waiters: ((settled: { heaps: Record<string, { heapUsed: number; collected: boolean }>; rssBeforeTrimKB?: number }) => void)[] = [];
  let line = '';
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${kind} did not start: ${out}`)), 30_000);
    proc.stdout?.on('data', (d: Buffer) => {
      const text = d.toString();
      if (out.length < 100_000) {
        out += text;
      }
      const m = /signaling (mqtt:\/\/[\d.]+:\d+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
      line += text;
      let nl: number;
      while ((nl = line.indexOf('\n')) >= 0) {
        const l = line.slice(0, nl);
        line = line.slice(nl + 1);
        if (l.includes('memory settled')) {
          try {
            waiters.shift()?.(JSON.parse(l) as { heaps: Record<string, { heapUsed: number; collected: boolean }>; rssBeforeTrimKB?: number });
          } catch {
            // not a JSON line
          }
        }
      }
    });
    proc.once('exit', (code) => reject(new Error(`${kind} exited ${code}: ${out.slice(-2000)}`)));
  });
  const pid = proc.pid as number;
  return {
    proc,
    url,
    settle: () => new Promise<Sample>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${kind} did not answer SIGUSR2`)), 15_000);
      waiters.push(({ heaps, rssBeforeTrimKB }) => {
        clearTimeout(timer);
        const heapUsedKB = Object.fromEntries(Object.entries(heaps).map(([k, h]) => [k, round(h.heapUsed / 1024, 0)]));
        const mem = procMemory(pid);
        resolve({ ...mem, heapUsedKB, gcCollected: Object.values(heaps).every((h) => h.collected), rssBeforeTrimKB: rssBeforeTrimKB ?? mem.rssKB });
      });
      proc.kill('SIGUSR2');
    }),
  };
}

function runLoad(url: string, n: number, seconds: number, mix: 'idle' | 'live'): Promise<LoadReport> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [IVGW, 'load', '--broker', url, '--device', DEVICE, '--secret', SECRET, '--peers', String(n), '--seconds', String(seconds), '--ramp', String(RAMP_PER_S), '--mix', `${mix}=1`, '--channels', '0', '--json'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.once('exit', () => {
      try {
        resolve(JSON.parse(out) as LoadReport);
      } catch {
        reject(new Error(`ivgw load printed no report: ${out.slice(0, 500)}`));
      }
    });
  });
}

async function step(kind: Kind, server: Server, n: number, seconds: number, mix: 'idle' | 'live'): Promise<Step> {
  const pid = server.proc.pid as number;
  const samples: number[] = [];
  const sampler = setInterval(() => samples.push(rssBytes(pid)), 1_000);
  // GC-settled sample once every app is connected (after the ramp) and well inside the run
  let settled: Sample | null = null;
  const settleAt = setTimeout(() => {
    server.settle().then((s) => (settled = s), () => undefined);
  }, (n / RAMP_PER_S + seconds * 0.6) * 1000);
  // CPU from 3 s after the ramp began plus its length (ivgw load's workers have loaded and the
  // last app is connected) to just before that sample (its full GCs are not streaming)
  let cpuFrom: CpuSnapshot | undefined;
  let cpu: CpuUse | null = null;
  const cpuStart = setTimeout(() => (cpuFrom = cpuSnapshot(pid)), (n / RAMP_PER_S + 3) * 1000);
  const cpuEnd = setTimeout(() => {
    if (cpuFrom) {
      cpu = cpuUse(cpuFrom, cpuSnapshot(pid));
    }
  }, (n / RAMP_PER_S + seconds * 0.55) * 1000);
  const report = await runLoad(server.url, n, seconds, mix);
  clearTimeout(cpuStart);
  clearTimeout(cpuEnd);
  clearInterval(sampler);
  clearTimeout(settleAt);
  const steady = samples.slice(Math.floor(samples.length / 2));
  const rss = steady.length ? steady.reduce((a, b) => a + b, 0) / steady.length : rssBytes(pid);
  const p99 = report.latencyMs.p99;
  const t = report.totals;
  const latencyProblem = mix === 'live' && (p99 === null || p99 > LATENCY_LIMIT_MS) ? `p99 latency ${p99} ms > ${LATENCY_LIMIT_MS}` : '';
  const why = server.proc.exitCode !== null ? `the ${kind} server exited (${server.proc.exitCode})` : !report.verdict.ok ? report.verdict.problems.join('; ') : settled === null ? 'no GC-settled sample' : latencyProblem;
  const s: Step = {
    n, mix, pass: why === '', why, connected: t.appsConnected, errors: t.errors, violations: t.integrityViolations, gaps: t.gaps,
    latencyP50: report.latencyMs.p50, latencyP99: p99, kbpsP50: report.appKbps.p50,
    rssMB: round(rss / 2 ** 20, 1), settled, cpu,
    ...(why !== '' ? { problems: report.problems.slice(0, 3).map((p) => `app ${p.app} ${p.kind} ${p.code}: ${p.message}`) } : {}),
  };
  process.stderr.write(`[fanout ${kind}] ${JSON.stringify(s)}\n`);
  await new Promise((r) => setTimeout(r, 2_000)); // the apps' peer connections close
  return s;
}

/**
 * One server process per ladder: idle and live apps are measured in separate processes, so
 * neither inherits the other's high-water mark (freed memory that the allocator keeps and
 * reuses would hide what the next viewers cost).
 */
async function ladder(kind: Kind, video: string, steps: number[], seconds: number, mix: 'idle' | 'live', ivgw = IVGW, nodeFlags: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<{ steps: Step[]; max: number; baseline: Sample }> {
  const server = await startServer(kind, video, ivgw, nodeFlags, env);
  try {
    await new Promise((r) => setTimeout(r, 3_000));
    const baseline = await server.settle();
    const out: Step[] = [];
    let max = 0;
    for (const n of steps) {
      const s = await step(kind, server, n, seconds, mix);
      out.push(s);
      if (!s.pass) {
        break;
      }
      max = n;
    }
    return { steps: out, max, baseline };
  } finally {
    server.proc.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 1_000));
    if (server.proc.exitCode === null) {
      server.proc.kill('SIGKILL');
    }
  }
}

/**
 * Per-viewer cost between the passing step nearest 10 and the highest passing step,
 * from the GC-settled samples: every /proc field and each isolate's heap, in KB/viewer.
 */
function perViewer(steps: Step[]): Record<string, unknown> | null {
  const ok = steps.filter((s) => s.pass && s.settled);
  const a = ok.reduce<Step | undefined>((best, s) => (!best || Math.abs(s.n - 10) < Math.abs(best.n - 10) ? s : best), undefined);
  const b = ok.at(-1);
  if (!a?.settled || !b?.settled || a.n === b.n) {
    return null;
  }
  const sa = a.settled;
  const sb = b.settled;
  const dn = b.n - a.n;
  const per = (x: number, y: number): number => round((y - x) / dn, 1);
  const heaps = Object.fromEntries(Object.keys(sb.heapUsedKB).map((k) => [k, per(sa.heapUsedKB[k] ?? 0, sb.heapUsedKB[k] ?? 0)]));
  return {
    fromN: a.n,
    toN: b.n,
    rssKB: per(sa.rssBeforeTrimKB, sb.rssBeforeTrimKB),
    /** The /proc fields below are read after malloc_trim: what the processes really hold per viewer. */
    rssTrimmedKB: per(sa.rssKB, sb.rssKB),
    privateDirtyKB: per(sa.privateDirtyKB, sb.privateDirtyKB),
    privateCleanKB: per(sa.privateCleanKB, sb.privateCleanKB),
    sharedCleanKB: per(sa.sharedCleanKB, sb.sharedCleanKB),
    anonKB: per(sa.anonKB, sb.anonKB),
    threadsAt: { [a.n]: sa.threads, [b.n]: sb.threads },
    v8HeapUsedKB: heaps,
    v8HeapUsedAtKB: { [a.n]: sa.heapUsedKB, [b.n]: sb.heapUsedKB },
    gcCollected: sa.gcCollected && sb.gcCollected,
  };
}

/** Per step of a ladder: cores used by the server, by its busiest thread names, and by the rest of the machine (the load generator). */
function cpuLadder(steps: Step[]): Record<string, { server: number; rest: number; machine: number; threads: Record<string, number> }> {
  const out: Record<string, { server: number; rest: number; machine: number; threads: Record<string, number> }> = {};
  for (const s of steps) {
    if (s.cpu) {
      const top = Object.entries(s.cpu.serverByThread).sort((a, b) => b[1].cores - a[1].cores).filter(([, v]) => v.cores >= 0.01);
      out[String(s.n)] = { server: s.cpu.serverCores, rest: s.cpu.restCores, machine: s.cpu.machineCores, threads: Object.fromEntries(top.map(([k, v]) => [`${k} x${v.threads}`, v.cores])) };
    }
  }
  return out;
}

/** The passing step nearest half of a ladder's maximum. */
function atHalf(l: { steps: Step[]; max: number }): Step | undefined {
  return l.steps.filter((s) => s.pass).reduce<Step | undefined>((best, s) => (!best || Math.abs(s.n - l.max / 2) < Math.abs(best.n - l.max / 2) ? s : best), undefined);
}

/** A gateway ladder under another setting, next to the default one of the same run. */
function variant(l: { steps: Step[]; max: number }, dflt: { max: number }): Record<string, unknown> {
  const h = atHalf(l);
  const per = perViewer(l.steps);
  return {
    maxViewers: l.max,
    ratioToDefault: dflt.max > 0 ? round(l.max / dflt.max, 2) : null,
    p99AtHalfMaxMs: h ? { n: h.n, p99: h.latencyP99 } : null,
    rssPerViewerKB: per?.rssKB ?? null,
    rssPerViewerTrimmedKB: per?.rssTrimmedKB ?? null,
    perViewer: per,
    cpuCores: cpuLadder(l.steps),
    ladder: l,
  };
}

export async function run(opts: BenchOptions): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'ivgw-fanout-'));
  try {
    const video = make2MbitH264(dir);
    const steps = opts.quick ? [4, 8, 16] : [10, 25, 50, 75, 100, 150, 200, 256, 320];
    const idleSteps = opts.quick ? [4, 16] : [10, 100];
    const seconds = opts.quick ? 8 : 15;
    const gateway = await ladder('gateway', video, steps, seconds, 'live');
    const raw = await ladder('raw', video, steps, seconds, 'live');
    const other = BASELINE_IVGW ? await ladder('gateway', video, steps, seconds, 'live', BASELINE_IVGW) : undefined;
    // the small-box setting (docs/DEPLOY.md): V8 without any JIT, what it costs in viewers
    const lite = await ladder('gateway', video, steps, seconds, 'live', IVGW, ['--lite-mode']);
    const gatewayIdle = await ladder('gateway', video, idleSteps, seconds, 'idle');
    const rawIdle = await ladder('raw', video, idleSteps, seconds, 'idle');
    const half = atHalf(gateway);
    // V8 as node starts it: what `ivgw run`'s --optimize-for-size (runtime/v8-size.ts) saves
    const sizeOff = await ladder('gateway', video, steps, seconds, 'live', IVGW, [], { IVGW_OPTIMIZE_FOR_SIZE: '0' });
    const flagged = EXTRA_NODE_FLAGS?.length ? await ladder('gateway', video, steps, seconds, 'live', IVGW, EXTRA_NODE_FLAGS) : undefined;
    const g = perViewer(gateway.steps);
    const r = perViewer(raw.steps);
    const gi = perViewer(gatewayIdle.steps);
    const ri = perViewer(rawIdle.steps);
    return {
      stream: '1280x720 25 fps H.264 2 Mbit/s, no audio, one camera, every viewer live on it',
      passRule: `zero errors, integrity violations and gaps, p99 capture-to-receive latency <= ${LATENCY_LIMIT_MS} ms; ${seconds} s per step after a ${RAMP_PER_S} apps/s ramp`,
      memoryRule: 'GC-settled (SIGUSR2 under --expose-gc: full GC in every isolate; the gateway then drops its idle code pages, as memory.dropIdleCode does every minute) mid-step; per viewer = slope from the step at 10 viewers to the highest passing one; *TrimmedKB and the /proc breakdown: the same sample after malloc_trim (the C allocator\'s free pages given back)',
      maxViewers: gateway.max,
      rawMaxViewers: raw.max,
      ratio: raw.max > 0 ? round(gateway.max / raw.max, 2) : null,
      p99AtHalfMaxMs: half ? { n: half.n, p99: half.latencyP99 } : null,
      rssPerViewerKB: g?.rssKB ?? null,
      rssPerViewerTrimmedKB: g?.rssTrimmedKB ?? null,
      rssPerIdleViewerKB: gi?.rssKB ?? null,
      rawRssPerViewerKB: r?.rssKB ?? null,
      rawRssPerViewerTrimmedKB: r?.rssTrimmedKB ?? null,
      rawRssPerIdleViewerKB: ri?.rssKB ?? null,
      perViewer: { gateway: g, raw: r, gatewayIdle: gi, rawIdle: ri },
      cpuCores: { gateway: cpuLadder(gateway.steps), raw: cpuLadder(raw.steps) },
      optimizeForSizeOff: { env: 'IVGW_OPTIMIZE_FOR_SIZE=0', ...variant(sizeOff, gateway) },
      liteMode: { node: '--lite-mode', ...variant(lite, gateway) },
      ...(flagged && EXTRA_NODE_FLAGS ? { nodeFlagsBuild: { node: EXTRA_NODE_FLAGS.join(' '), ...variant(flagged, gateway) } } : {}),
      ...(other && BASELINE_IVGW ? { baselineBuild: { ivgw: BASELINE_IVGW, maxViewers: other.max, ratio: raw.max > 0 ? round(other.max / raw.max, 2) : null, rssPerViewerKB: perViewer(other.steps)?.rssKB ?? null, perViewer: perViewer(other.steps), ladder: other } } : {}),
      baseline: { gateway: gateway.baseline, raw: raw.baseline },
      targets: { maxViewers: 256, ratio: 0.9, p99AtHalfMaxMs: 50, rssPerViewerKB: 150 },
      gateway,
      raw,
      gatewayIdle,
      rawIdle,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
