/**
 * load-plan — `ivgw load`'s options and the run plan: which app runs which scenario on
 * which channel, when it starts (the ramp-up), and which worker process hosts it.
 * Owns: option checks (typed errors naming the flag) and the deterministic plan.
 * Must never: start anything (load-run does).
 */
import { availableParallelism } from 'node:os';
import { invalidParam } from '../../runtime/errors.js';
import { LOAD_SCENARIOS } from './load-ipc.js';
import type { LoadAppSpec, Scenario } from './load-types.js';

export interface LoadOptions {
  broker: string;
  device: string;
  secret: string;
  bind: string;
  peers: number;
  /** Seconds each app runs after it started. */
  seconds: number;
  /** Apps started per second. */
  rampPerS: number;
  workers: number;
  mix: Record<Scenario, number>;
  channels: number[];
  stallSeconds: number;
}

export const DEFAULT_MIX = 'live=70,playback=10,voice=5,command=5,stall=5,churn=5';

/** Parse `live=70,playback=10,...` (weights, any scale); unknown scenarios are an error. */
export function parseMix(text: string): Record<Scenario, number> {
  const mix = Object.fromEntries(LOAD_SCENARIOS.map((s) => [s, 0])) as Record<Scenario, number>;
  for (const part of text.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const [name, weight] = part.split('=');
    if (!(LOAD_SCENARIOS as readonly string[]).includes(name ?? '')) {
      throw invalidParam('--mix', `unknown scenario ${JSON.stringify(name)}; expected ${LOAD_SCENARIOS.join(', ')}`);
    }
    const w = Number(weight ?? '1');
    if (!Number.isFinite(w) || w < 0) {
      throw invalidParam('--mix', `weight of ${name} must be a number >= 0, got ${JSON.stringify(weight)}`);
    }
    mix[name as Scenario] = w;
  }
  if (Object.values(mix).every((w) => w === 0)) {
    throw invalidParam('--mix', 'at least one scenario needs a weight above 0');
  }
  return mix;
}

export function defaultWorkers(peers: number): number {
  return Math.max(1, Math.min(availableParallelism(), Math.ceil(peers / 50)));
}

export function checkLoadOptions(o: LoadOptions): void {
  const positiveInt = (flag: string, v: number, max: number): void => {
    if (!Number.isInteger(v) || v < 1 || v > max) {
      throw invalidParam(flag, `expected an integer 1..${max}, got ${v}`);
    }
  };
  positiveInt('--peers', o.peers, 100_000);
  positiveInt('--workers', o.workers, 256);
  if (!(o.seconds >= 1 && o.seconds <= 86_400)) {
    throw invalidParam('--seconds', `expected 1..86400, got ${o.seconds}`);
  }
  if (!(o.rampPerS > 0 && o.rampPerS <= 10_000)) {
    throw invalidParam('--ramp', `expected apps per second in (0, 10000], got ${o.rampPerS}`);
  }
  if (!(o.stallSeconds > 0 && o.stallSeconds <= 3_600)) {
    throw invalidParam('--stall-seconds', `expected (0, 3600], got ${o.stallSeconds}`);
  }
  if (o.channels.length === 0 || o.channels.some((c) => !Number.isInteger(c) || c < 0 || c > 255)) {
    throw invalidParam('--channels', `expected a list of channel numbers 0..255, got ${o.channels.join(',')}`);
  }
  if (o.secret === '') {
    throw invalidParam('--secret', 'the device secret is needed to mint each app a token (or set IVGW_DEVICE_SECRET)');
  }
  if (!/^mqtts?:\/\/|^wss?:\/\//.test(o.broker)) {
    throw invalidParam('--broker', `expected an mqtt:// mqtts:// ws:// or wss:// URL, got ${JSON.stringify(o.broker)}`);
  }
}

/** Counts per scenario by largest remainder, so the mix adds up to exactly `peers`. */
function scenarioCounts(peers: number, mix: Record<Scenario, number>): [Scenario, number][] {
  const total = Object.values(mix).reduce((a, b) => a + b, 0);
  const exact = LOAD_SCENARIOS.map((s) => [s, (peers * mix[s]) / total] as const);
  const counts = exact.map(([s, x]) => [s, Math.floor(x)] as [Scenario, number]);
  let left = peers - counts.reduce((n, [, c]) => n + c, 0);
  const order = exact.map(([, x], i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0]);
  for (const [, i] of order) {
    if (left-- <= 0) {
      break;
    }
    (counts[i] as [Scenario, number])[1]++;
  }
  return counts;
}

/**
 * The plan: scenarios interleaved over the ramp (each scenario's apps spread evenly in
 * start order), channels round-robin, apps round-robin over workers.
 */
export function planApps(o: LoadOptions, runId: string): LoadAppSpec[][] {
  const slots: { scenario: Scenario; pos: number }[] = [];
  for (const [scenario, count] of scenarioCounts(o.peers, o.mix)) {
    for (let k = 0; k < count; k++) {
      slots.push({ scenario, pos: (k + 0.5) / count });
    }
  }
  slots.sort((a, b) => a.pos - b.pos);
  const perWorker: LoadAppSpec[][] = Array.from({ length: o.workers }, () => []);
  slots.forEach(({ scenario }, index) => {
    (perWorker[index % o.workers] as LoadAppSpec[]).push({
      index,
      peer: `load-${runId}-${index}`,
      scenario,
      channel: o.channels[index % o.channels.length] as number,
      startAtMs: Math.round((index * 1_000) / o.rampPerS),
    });
  });
  return perWorker;
}
