/**
 * restart — time from an actor crash to that actor answering again (`restartMs`
 * p50/p99, target p99 <= 100 ms), while a sibling actor on the same worker and an
 * actor on another worker are called continuously: their failures must stay 0.
 * Also measures a whole worker restart (process.exit → its actor answering again); the
 * sibling on that worker dies with it by design, the actor on the other worker must not.
 */
import { ActorSystem } from '../runtime/actor-system.js';
import { PROBE_ACTOR } from '../actors/probe/index.js';
import type { BenchOptions } from './run.js';
import { percentile, round } from './stats.js';

export async function run(opts: BenchOptions): Promise<Record<string, unknown>> {
  const lots = { maxRestarts: 1_000_000, withinMs: 1_000 };
  const system = await new ActorSystem({
    intensity: lots,
    workers: [
      { name: 'w', actors: [{ id: 'victim', module: PROBE_ACTOR }, { id: 'sibling', module: PROBE_ACTOR }], actorIntensity: lots, actorBackoffMs: [0], workerIntensity: lots, workerBackoffMs: [0] },
      { name: 'other', actors: [{ id: 'bystander', module: PROBE_ACTOR }] },
    ],
  }).start();
  const victim = system.ref('victim');
  let running = true;
  const watch = { sibling: { calls: 0, failures: 0, maxMs: 0 }, bystander: { calls: 0, failures: 0, maxMs: 0 } };
  const watcher = async (id: 'sibling' | 'bystander'): Promise<void> => {
    const ref = system.ref(id);
    const w = watch[id];
    while (running) {
      const t0 = performance.now();
      try {
        await ref.call('PROBE_INCR', {}, { timeoutMs: 1_000 });
        w.calls++;
      } catch {
        w.failures++;
      }
      w.maxMs = Math.max(w.maxMs, performance.now() - t0);
      await new Promise((r) => setTimeout(r, 1));
    }
  };
  const watchers = [watcher('sibling'), watcher('bystander')];
  try {
    const crashes = opts.quick ? 50 : 300;
    const restartMs: number[] = [];
    for (let i = 0; i < crashes; i++) {
      const t0 = performance.now();
      await victim.call('PROBE_CRASH', { message: 'bench crash' }).catch(() => undefined);
      const state = await victim.call('PROBE_STATE', {}, { timeoutMs: 5_000 }) as { generation: number };
      restartMs.push(performance.now() - t0);
      if (state.generation !== i + 1) {
        throw new Error(`expected generation ${i + 1}, got ${state.generation}`);
      }
    }
    const duringActorCrashes = structuredClone(watch);
    const workerRestartMs: number[] = [];
    for (let i = 0; i < (opts.quick ? 3 : 10); i++) {
      const t0 = performance.now();
      await victim.call('PROBE_EXIT', { code: 1 }).catch(() => undefined);
      await victim.call('PROBE_STATE', {}, { timeoutMs: 10_000 });
      workerRestartMs.push(performance.now() - t0);
    }
    running = false;
    await Promise.all(watchers);
    return {
      crashes,
      restartMsP50: round(percentile(restartMs, 50)),
      restartMsP99: round(percentile(restartMs, 99)),
      restartMsMax: round(Math.max(...restartMs)),
      workerRestartMsP50: round(percentile(workerRestartMs, 50), 1),
      workerRestartMsMax: round(Math.max(...workerRestartMs), 1),
      othersCalls: duringActorCrashes.sibling.calls + duringActorCrashes.bystander.calls,
      othersFailures: duringActorCrashes.sibling.failures + duringActorCrashes.bystander.failures,
      othersMaxLatencyMs: round(Math.max(duringActorCrashes.sibling.maxMs, duringActorCrashes.bystander.maxMs)),
      bystanderFailuresDuringWorkerRestarts: watch.bystander.failures,
      siblingFailuresDuringWorkerRestarts: watch.sibling.failures - duringActorCrashes.sibling.failures,
      target: { restartMsP99: 100 },
    };
  } finally {
    running = false;
    await system.stop();
  }
}
