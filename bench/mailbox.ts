/**
 * mailbox — request/response between the main thread and an actor on a worker:
 * sequential round-trip latency (p50/p99) and pipelined throughput (messages/s, a
 * request and its response counting as two messages), with a small body.
 */
import { ActorSystem } from '../runtime/actor-system.js';
import { PROBE_ACTOR } from '../actors/probe/index.js';
import type { BenchOptions } from './run.js';
import { percentile, round } from './stats.js';

export async function run(opts: BenchOptions): Promise<Record<string, unknown>> {
  const system = await new ActorSystem({ workers: [{ name: 'w', actors: [{ id: 'p', module: PROBE_ACTOR, mailboxCapacity: 4_096 }] }] }).start();
  const p = system.ref('p');
  const payload = { payload: { seq: 0, stream: 'cam0', params: 'action=live&channel=0' } };
  try {
    for (let i = 0; i < 2_000; i++) {
      await p.call('PROBE_ECHO', payload);
    }
    const rounds = opts.quick ? 5_000 : 30_000;
    const rtts: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now();
      await p.call('PROBE_ECHO', payload);
      rtts.push((performance.now() - t0) * 1000);
    }
    const window = 256;
    const durationMs = opts.quick ? 2_000 : 8_000;
    let done = 0;
    const t0 = performance.now();
    const until = t0 + durationMs;
    const lane = async (): Promise<void> => {
      while (performance.now() < until) {
        await p.call('PROBE_ECHO', payload);
        done++;
      }
    };
    await Promise.all(Array.from({ length: window }, lane));
    const seconds = (performance.now() - t0) / 1000;
    return {
      rttP50Us: round(percentile(rtts, 50), 1),
      rttP99Us: round(percentile(rtts, 99), 1),
      rttMaxUs: round(Math.max(...rtts), 1),
      roundTripsPerSec: Math.round(done / seconds),
      messagesPerSec: Math.round((2 * done) / seconds),
      inFlight: window,
    };
  } finally {
    await system.stop();
  }
}
