/**
 * load-run — the coordinator of `ivgw load`: forks the load worker processes, hands each
 * its share of the plan, collects their per-second samples, app milestones and results,
 * and builds the report. Progress goes to a callback (the command draws the bar).
 * Owns: the worker processes (every one is gone when run() returns). Must never: wait
 * forever for a worker (a deadline past the run's end kills stragglers, counted as faults).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describeMachine } from '../../shared/machine.js';
import { checkLoadMessage, LOAD_PROTOCOL_VERSION } from './load-ipc.js';
import { Histogram } from './histogram.js';
import { planApps, type LoadOptions } from './load-plan.js';
import { buildReport, type LoadReport } from './load-report.js';
import type { LoadAppEvent, LoadAppResult, LoadSample, LoadStart } from './load-types.js';

export interface LoadProgress {
  elapsedS: number;
  totalS: number;
  apps: number;
  connected: number;
  firstFrames: number;
  errors: number;
  mbps: number;
  latencyP99: number | null;
}

const WORKER = fileURLToPath(new URL('./load-worker.js', import.meta.url));
/** Time the workers get to load before t0. */
const START_DELAY_MS = 1_000;
/** After the last app's end: closing, final samples, results. */
const FINISH_GRACE_MS = 45_000;

export class LoadRun {
  private readonly workers: ChildProcess[] = [];
  private stopped = false;

  constructor(private readonly opts: LoadOptions, private readonly onProgress: (p: LoadProgress) => void = () => undefined) {}

  /** End every app now; run() still resolves with the report of what happened. */
  stop(): void {
    this.stopped = true;
    for (const w of this.workers) {
      if (w.connected) {
        w.send({ v: LOAD_PROTOCOL_VERSION, method: 'LOAD_STOP', body: {} });
      }
    }
  }

  async run(): Promise<LoadReport> {
    const o = this.opts;
    const startedAt = new Date().toISOString();
    const plan = planApps(o, randomBytes(3).toString('hex'));
    const t0 = Date.now() + START_DELAY_MS;
    const rampMs = Math.round(((o.peers - 1) * 1_000) / o.rampPerS);
    const totalS = (rampMs + o.seconds * 1_000) / 1_000;
    const samples: LoadSample[] = [];
    const results: LoadAppResult[] = [];
    const faults: string[] = [];
    const connected = new Set<number>();
    const firstFrames = new Set<number>();
    let errors = 0;
    let lastSecond = { t: -1, bytes: 0, h: new Histogram() };
    const progress = (): void => {
      this.onProgress({
        elapsedS: Math.max(0, Math.min(totalS, (Date.now() - t0) / 1_000)),
        totalS,
        apps: o.peers,
        connected: connected.size,
        firstFrames: firstFrames.size,
        errors,
        mbps: Math.round((lastSecond.bytes * 8) / 1e4) / 100,
        latencyP99: lastSecond.h.total ? lastSecond.h.percentile(99) : null,
      });
    };
    const ticker = setInterval(progress, 500);
    const deadline = setTimeout(() => {
      for (const w of this.workers) {
        if (w.exitCode === null) {
          faults.push(`load worker ${w.pid ?? '?'} did not finish ${FINISH_GRACE_MS / 1000} s after the run's end; killed`);
          w.kill('SIGKILL');
        }
      }
    }, START_DELAY_MS + totalS * 1_000 + FINISH_GRACE_MS);

    const exits = plan.filter((apps) => apps.length > 0).map((apps) => new Promise<void>((resolve) => {
      const w = fork(WORKER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      this.workers.push(w);
      let reported = false;
      w.on('message', (raw) => {
        const m = checkLoadMessage(raw, 'toParent');
        if (!m.ok) {
          faults.push(`load worker ${w.pid ?? '?'} sent a bad message: ${m.error.code} ${m.error.message}`);
          w.kill('SIGKILL');
          return;
        }
        switch (m.method) {
          case 'LOAD_SAMPLE': {
            const s = m.body as LoadSample;
            samples.push(s);
            if (s.t !== lastSecond.t) {
              lastSecond = { t: s.t, bytes: 0, h: new Histogram() };
            }
            lastSecond.bytes += s.bytes;
            lastSecond.h.merge(s.latency);
            return;
          }
          case 'LOAD_APP': {
            const e = m.body as LoadAppEvent;
            if (e.type === 'connected') {
              connected.add(e.index);
            } else if (e.type === 'first-frame') {
              firstFrames.add(e.index);
            } else if (e.type === 'error') {
              errors++;
            } else if (e.type === 'done') {
              connected.delete(e.index);
            }
            return;
          }
          case 'LOAD_RESULT':
            reported = true;
            results.push(...(m.body as { apps: LoadAppResult[] }).apps);
            return;
          case 'LOAD_FAULT':
            faults.push((m.body as { message: string }).message);
            return;
          default:
            faults.push(`load worker ${w.pid ?? '?'} sent ${m.method}, which only the coordinator sends`);
        }
      });
      w.once('exit', (code, signal) => {
        if (!reported) {
          faults.push(`load worker ${w.pid ?? '?'} exited (${signal ?? code}) without its results (${apps.length} apps)`);
        }
        resolve();
      });
      const start: LoadStart = { broker: o.broker, device: o.device, secret: o.secret, bind: o.bind, seconds: o.seconds, stallSeconds: o.stallSeconds, t0, apps };
      w.send({ v: LOAD_PROTOCOL_VERSION, method: 'LOAD_START', body: start });
      if (this.stopped) {
        w.send({ v: LOAD_PROTOCOL_VERSION, method: 'LOAD_STOP', body: {} });
      }
    }));
    await Promise.all(exits);
    clearInterval(ticker);
    clearTimeout(deadline);
    progress();
    results.sort((a, b) => a.index - b.index);
    return buildReport({ options: o, startedAt, machine: describeMachine(), apps: results, samples, faults });
  }
}
