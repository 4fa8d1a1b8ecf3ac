/**
 * fanout — how many live viewers of one 2 Mbit/s camera this machine serves: `ivgw run`
 * (channel 0 plays a generated 2 Mbit/s H.264 file) against `ivgw load --mix live=1` at
 * increasing N, each step passing only with zero errors, integrity violations and gaps
 * and p99 capture-to-receive latency <= 100 ms; then the same harness against the raw
 * node-datachannel server (bench/fanout-raw-server.ts: one mux, the same bytes to
 * everyone). The load tester runs on the same cores as the server (both limits count).
 * Reports per N: p50/p99 latency, delivered rate, server RSS and RSS per viewer over the
 * idle server; maxViewers, rawMaxViewers, ratio, the p99 at half the max N, and the RSS
 * slope per viewer between the steps nearest 10 and 100 viewers.
 * Targets (issue #5): maxViewers >= 256, ratio >= 0.9, p99 <= 50 ms at half the max N;
 * (issue #4) RSS per additional viewer <= 150 KB.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadReport } from '../client/load/load-report.js';
import { IVGW } from '../test/helpers/gateway.js';
import type { BenchOptions } from './run.js';
import { make2MbitH264 } from './sample-media.js';
import { round } from './stats.js';

const DEVICE = 'fanout-bench';
const SECRET = 'fanout-bench-secret';
const LATENCY_LIMIT_MS = 100;

interface Step {
  n: number;
  pass: boolean;
  why: string;
  connected: number;
  errors: number;
  violations: number;
  gaps: number;
  latencyP50: number | null;
  latencyP99: number | null;
  kbpsP50: number | null;
  rssMB: number;
  rssPerViewerKB: number;
  /** The first problems of a failing step. */
  problems?: string[];
}

/** Resident memory of the server process (all its threads); 0 once it is gone. */
function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

async function startServer(kind: 'gateway' | 'raw', video: string): Promise<{ proc: ChildProcess; url: string }> {
  const args = kind === 'gateway'
    ? [IVGW, 'run', '--no-record', '--video', video, '--mqtt-port', '0', '--device', DEVICE, '--secret', SECRET, '--max-apps', '4096', '--max-streams', '8192', '--seconds', '3600']
    : [fileURLToPath(new URL('./fanout-raw-server.js', import.meta.url)), video, DEVICE, SECRET];
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${kind} did not start: ${out}`)), 30_000);
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /signaling (mqtt:\/\/[\d.]+:\d+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.once('exit', (code) => reject(new Error(`${kind} exited ${code}: ${out}`)));
  });
  proc.stdout?.resume();
  return { proc, url };
}

function runLoad(url: string, n: number, seconds: number): Promise<LoadReport> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [IVGW, 'load', '--broker', url, '--device', DEVICE, '--secret', SECRET, '--peers', String(n), '--seconds', String(seconds), '--ramp', '50', '--mix', 'live=1', '--channels', '0', '--json'], { stdio: ['ignore', 'pipe', 'ignore'] });
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

async function ladder(kind: 'gateway' | 'raw', video: string, steps: number[], seconds: number): Promise<{ steps: Step[]; max: number; idleMB: number }> {
  const { proc, url } = await startServer(kind, video);
  const pid = proc.pid as number;
  const out: Step[] = [];
  let max = 0;
  try {
    await new Promise((r) => setTimeout(r, 3_000));
    const idle = rssBytes(pid);
    for (const n of steps) {
      const samples: number[] = [];
      const sampler = setInterval(() => samples.push(rssBytes(pid)), 1_000);
      const report = await runLoad(url, n, seconds);
      clearInterval(sampler);
      // steady state: the samples of the second half of the run (every app connected)
      const steady = samples.slice(Math.floor(samples.length / 2));
      const rss = steady.length ? steady.reduce((a, b) => a + b, 0) / steady.length : rssBytes(pid);
      const p99 = report.latencyMs.p99;
      const t = report.totals;
      const why = proc.exitCode !== null ? `the ${kind} server exited (${proc.exitCode})` : !report.verdict.ok ? report.verdict.problems.join('; ') : p99 === null || p99 > LATENCY_LIMIT_MS ? `p99 latency ${p99} ms > ${LATENCY_LIMIT_MS}` : '';
      out.push({
        n, pass: why === '', why, connected: t.appsConnected, errors: t.errors, violations: t.integrityViolations, gaps: t.gaps,
        latencyP50: report.latencyMs.p50, latencyP99: p99, kbpsP50: report.appKbps.p50,
        rssMB: round(rss / 2 ** 20, 1), rssPerViewerKB: round((rss - idle) / n / 1024, 1),
        ...(why !== '' ? { problems: report.problems.slice(0, 3).map((p) => `app ${p.app} ${p.kind} ${p.code}: ${p.message}`) } : {}),
      });
      process.stderr.write(`[fanout ${kind}] ${JSON.stringify(out.at(-1))}\n`);
      if (why !== '') {
        break;
      }
      max = n;
      await new Promise((r) => setTimeout(r, 2_000)); // the apps' peer connections close
    }
    return { steps: out, max, idleMB: round(idle / 2 ** 20, 1) };
  } finally {
    proc.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 1_000));
    if (proc.exitCode === null) {
      proc.kill('SIGKILL');
    }
  }
}

/** RSS growth per viewer between the passing steps nearest 10 and 100 viewers. */
function slopeKB(steps: Step[]): { fromN: number; toN: number; kbPerViewer: number } | null {
  const ok = steps.filter((s) => s.pass);
  const near = (target: number) => ok.reduce<Step | undefined>((best, s) => (!best || Math.abs(s.n - target) < Math.abs(best.n - target) ? s : best), undefined);
  const a = near(10);
  const b = near(100);
  if (!a || !b || a.n === b.n) {
    return null;
  }
  return { fromN: a.n, toN: b.n, kbPerViewer: round(((b.rssMB - a.rssMB) * 1024) / (b.n - a.n), 1) };
}

export async function run(opts: BenchOptions): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'ivgw-fanout-'));
  try {
    const video = make2MbitH264(dir);
    const steps = opts.quick ? [4, 8, 16] : [10, 25, 50, 75, 100, 150, 200, 256, 320];
    const seconds = opts.quick ? 8 : 15;
    const gateway = await ladder('gateway', video, steps, seconds);
    const raw = await ladder('raw', video, steps, seconds);
    const half = gateway.steps.filter((s) => s.pass).reduce<Step | undefined>((best, s) => (!best || Math.abs(s.n - gateway.max / 2) < Math.abs(best.n - gateway.max / 2) ? s : best), undefined);
    return {
      stream: '1280x720 25 fps H.264 2 Mbit/s, no audio, one camera, every viewer live on it',
      passRule: `zero errors, integrity violations and gaps, p99 capture-to-receive latency <= ${LATENCY_LIMIT_MS} ms; ${seconds} s per step after a 50 apps/s ramp`,
      maxViewers: gateway.max,
      rawMaxViewers: raw.max,
      ratio: raw.max > 0 ? round(gateway.max / raw.max, 2) : null,
      p99AtHalfMaxMs: half ? { n: half.n, p99: half.latencyP99 } : null,
      gatewayRssSlope: slopeKB(gateway.steps),
      rawRssSlope: slopeKB(raw.steps),
      targets: { maxViewers: 256, ratio: 0.9, p99AtHalfMaxMs: 50, rssPerViewerKB: 150 },
      gateway,
      raw,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
