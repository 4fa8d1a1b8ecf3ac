/**
 * load-report — turns `ivgw load`'s per-app results and per-second samples into the
 * report: totals, percentiles, the per-second timeline, the verdict. Pure (no I/O), so
 * it is tested on its own and the JSON and HTML outputs agree.
 * Owns: what counts as a failure. Must never: hide one (every error, integrity
 * violation, unexplained gap, app that never connected or got no video, and worker fault
 * fails the verdict, with a line saying so).
 */
import type { Machine } from '../../shared/machine.js';
import { percentile } from '../../shared/percentile.js';
import { Histogram } from './histogram.js';
import type { LoadOptions } from './load-plan.js';
import type { HistogramPairs, LoadAppResult, LoadSample, Scenario } from './load-types.js';

export interface Spread {
  n: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

export interface TimelinePoint {
  t: number;
  mbps: number;
  videoFps: number;
  connected: number;
  errors: number;
  latencyP50: number | null;
  latencyP99: number | null;
}

export interface LoadReport {
  tool: 'ivgw load';
  startedAt: string;
  machine: Machine;
  options: Omit<LoadOptions, 'secret'>;
  verdict: { ok: boolean; problems: string[] };
  totals: {
    apps: number;
    appsConnected: number;
    sessions: number;
    connects: number;
    connectRetries: number;
    errors: number;
    integrityViolations: number;
    gaps: number;
    pauseGaps: number;
    resumes: number;
    bytes: number;
    videoFrames: number;
    audioFrames: number;
    voiceFrames: number;
    commands: number;
    watermarkEvents: number;
    playbackRounds: number;
    workerFaults: number;
  };
  connectMs: Spread;
  firstFrameMs: Spread;
  latencyMs: Spread;
  commandRttMs: Spread;
  appKbps: Spread;
  perScenario: Partial<Record<Scenario, { apps: number; errors: number; gaps: number; pauseGaps: number; resumes: number; violations: number; kbpsP50: number | null }>>;
  timeline: TimelinePoint[];
  latencyHistogram: HistogramPairs;
  problems: { app: number; peer: string; scenario: Scenario; kind: 'error' | 'violation'; code: string; message: string }[];
  faults: string[];
  apps: (Omit<LoadAppResult, 'latency' | 'commandRttMs' | 'violationSamples' | 'errorSamples'> & { kbps: number; latencyP50: number | null; latencyP99: number | null })[];
}

const r1 = (n: number): number => Math.round(n * 10) / 10;
const orNull = (n: number): number | null => (Number.isFinite(n) ? r1(n) : null);

export function spread(values: readonly number[]): Spread {
  return { n: values.length, p50: orNull(percentile(values, 50)), p90: orNull(percentile(values, 90)), p99: orNull(percentile(values, 99)), max: values.length ? r1(Math.max(...values)) : null };
}

function histSpread(h: Histogram): Spread {
  return h.total === 0 ? { n: 0, p50: null, p90: null, p99: null, max: null } : { n: h.total, p50: r1(h.percentile(50)), p90: r1(h.percentile(90)), p99: r1(h.percentile(99)), max: r1(h.max) };
}

export function buildReport(input: { options: LoadOptions; startedAt: string; machine: Machine; apps: LoadAppResult[]; samples: LoadSample[]; faults: string[] }): LoadReport {
  const { options, apps, faults } = input;
  const { secret: _secret, ...shownOptions } = options;
  const kbps = (a: LoadAppResult): number => (a.seconds > 0 ? (a.bytes * 8) / a.seconds / 1000 : 0);
  const latency = new Histogram();
  const appRows = apps.map((a) => {
    const h = new Histogram();
    h.merge(a.latency);
    latency.merge(a.latency);
    const { latency: _l, commandRttMs: _c, violationSamples: _v, errorSamples: _e, ...rest } = a;
    return { ...rest, kbps: r1(kbps(a)), latencyP50: h.total ? r1(h.percentile(50)) : null, latencyP99: h.total ? r1(h.percentile(99)) : null };
  });
  const sum = (f: (a: LoadAppResult) => number): number => apps.reduce((n, a) => n + f(a), 0);
  const totals: LoadReport['totals'] = {
    apps: apps.length,
    appsConnected: apps.filter((a) => a.connects > 0).length,
    sessions: sum((a) => a.sessions),
    connects: sum((a) => a.connects),
    connectRetries: sum((a) => a.connectRetries),
    errors: sum((a) => a.errors),
    integrityViolations: sum((a) => a.violations),
    gaps: sum((a) => a.gaps),
    pauseGaps: sum((a) => a.pauseGaps),
    resumes: sum((a) => a.resumes),
    bytes: sum((a) => a.bytes),
    videoFrames: sum((a) => a.videoFrames),
    audioFrames: sum((a) => a.audioFrames),
    voiceFrames: sum((a) => a.voiceFrames),
    commands: sum((a) => a.commandRttMs.length),
    watermarkEvents: sum((a) => a.watermarkEvents),
    playbackRounds: sum((a) => a.playbackRounds),
    workerFaults: faults.length,
  };

  const problems: string[] = [];
  const missing = options.peers - apps.length;
  if (missing > 0) {
    problems.push(`${missing} apps reported no result (their worker failed)`);
  }
  if (totals.appsConnected < apps.length) {
    problems.push(`${apps.length - totals.appsConnected} apps never connected`);
  }
  const blind = apps.filter((a) => a.scenario !== 'idle' && a.connects > 0 && a.videoFrames === 0).length;
  if (blind > 0) {
    problems.push(`${blind} connected apps received no video frame`);
  }
  if (totals.errors > 0) {
    problems.push(`${totals.errors} errors`);
  }
  if (totals.integrityViolations > 0) {
    problems.push(`${totals.integrityViolations} integrity violations`);
  }
  if (totals.gaps > 0) {
    problems.push(`${totals.gaps} gaps (missing frames)`);
  }
  if (faults.length > 0) {
    problems.push(`${faults.length} worker faults`);
  }

  const perScenario: LoadReport['perScenario'] = {};
  for (const s of new Set(apps.map((a) => a.scenario))) {
    const of = apps.filter((a) => a.scenario === s);
    perScenario[s] = {
      apps: of.length,
      errors: of.reduce((n, a) => n + a.errors, 0),
      gaps: of.reduce((n, a) => n + a.gaps, 0),
      pauseGaps: of.reduce((n, a) => n + a.pauseGaps, 0),
      resumes: of.reduce((n, a) => n + a.resumes, 0),
      violations: of.reduce((n, a) => n + a.violations, 0),
      kbpsP50: orNull(percentile(of.map(kbps), 50)),
    };
  }

  // samples from several workers for the same second are summed
  const bySecond = new Map<number, { bytes: number; frames: number; connected: number; errors: number; h: Histogram }>();
  for (const s of input.samples) {
    const e = bySecond.get(s.t) ?? { bytes: 0, frames: 0, connected: 0, errors: 0, h: new Histogram() };
    e.bytes += s.bytes;
    e.frames += s.videoFrames;
    e.connected += s.connected;
    e.errors += s.errors;
    e.h.merge(s.latency);
    bySecond.set(s.t, e);
  }
  const timeline = [...bySecond.entries()].sort((a, b) => a[0] - b[0]).map(([t, e]) => ({
    t,
    mbps: Math.round((e.bytes * 8) / 1e4) / 100,
    videoFps: e.frames,
    connected: e.connected,
    errors: e.errors,
    latencyP50: e.h.total ? r1(e.h.percentile(50)) : null,
    latencyP99: e.h.total ? r1(e.h.percentile(99)) : null,
  }));

  return {
    tool: 'ivgw load',
    startedAt: input.startedAt,
    machine: input.machine,
    options: shownOptions,
    verdict: { ok: problems.length === 0, problems },
    totals,
    connectMs: spread(apps.flatMap((a) => a.connectMs)),
    firstFrameMs: spread(apps.filter((a) => a.firstFrameMs >= 0).map((a) => a.firstFrameMs)),
    latencyMs: histSpread(latency),
    commandRttMs: spread(apps.flatMap((a) => a.commandRttMs)),
    appKbps: spread(apps.filter((a) => a.connects > 0).map(kbps)),
    perScenario,
    timeline,
    latencyHistogram: latency.pairs(),
    problems: apps.flatMap((a) => [
      ...a.errorSamples.map((e) => ({ app: a.index, peer: a.peer, scenario: a.scenario, kind: 'error' as const, code: e.code, message: e.message })),
      ...a.violationSamples.map((v) => ({ app: a.index, peer: a.peer, scenario: a.scenario, kind: 'violation' as const, code: 'integrity', message: v })),
    ]).slice(0, 100),
    faults,
    apps: appRows,
  };
}
