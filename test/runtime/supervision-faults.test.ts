import test from 'ava';
import { isIvError } from '../../runtime/errors.js';
import type { SupervisorEvent } from '../../runtime/supervisor.js';
import { WORKER_EXIT } from '../../runtime/schema.js';
import { probeActor, probeWorker, startSystem, waitFor } from '../helpers/probe-system.js';

const restarted = (events: SupervisorEvent[], child: string): number => events.filter((e) => e.type === 'start' && e.child === child).length - 1;

test('an actor that throws is restarted inside the same live worker, and its siblings keep their state', async (t) => {
  const { system, events } = await startSystem({ workers: [probeWorker('w', [probeActor('p'), probeActor('sib')])] });
  t.teardown(() => system.stop());
  const thread = system.worker('w')?.threadId;
  await system.ref('sib').call('PROBE_INCR', {});
  const err = await t.throwsAsync(system.ref('p').call('PROBE_CRASH', { message: 'bad pointer' }));
  t.true(isIvError(err, 'IV_ERR_ACTOR_CRASHED'));
  t.regex((err).message, /bad pointer/);
  const state = await system.ref('p').call('PROBE_STATE', {}) as { generation: number };
  t.is(state.generation, 1, 'a fresh incarnation answers');
  t.is(system.worker('w')?.threadId, thread, 'the worker was not restarted');
  t.deepEqual(await system.ref('sib').call('PROBE_INCR', {}), { counter: 2 }, 'the sibling kept its state');
  t.like(events.find((e) => e.type === 'exit' && e.child === 'p'), { reason: 'crash', error: { code: 'IV_ERR_ACTOR_CRASHED' } });
});

test('a throwing timer crashes only its actor, and the dead incarnation never acts again', async (t) => {
  const { system, events } = await startSystem({ workers: [probeWorker('w', [probeActor('p')])] });
  t.teardown(() => system.stop());
  const p = system.ref('p');
  const ticks: number[] = [];
  p.onNotification('PROBE_TICK', (b) => ticks.push((b as { generation: number }).generation));
  await p.call('PROBE_TICKS', { count: 1_000, intervalMs: 5 });
  await p.call('PROBE_CRASH_LATER', { afterMs: 30 });
  await waitFor('restart', () => restarted(events, 'p') === 1);
  await new Promise((r) => setTimeout(r, 100));
  t.true(ticks.length > 0);
  t.true(ticks.every((g) => g === 0), 'only generation 0 ticked');
  const before = ticks.length;
  await new Promise((r) => setTimeout(r, 60));
  t.is(ticks.length, before, 'the old incarnation\'s interval was cleared');
  t.is((await p.call('PROBE_STATE', {}) as { generation: number }).generation, 1);
});

test('a handler that never finishes is answered with an error and its actor is restarted as hung', async (t) => {
  const { system, events } = await startSystem({ workers: [probeWorker('w', [probeActor('p', { handlerTimeoutMs: 100 })])] });
  t.teardown(() => system.stop());
  const err = await t.throwsAsync(system.ref('p').call('PROBE_HANG', {}));
  t.true(isIvError(err, 'IV_ERR_ACTOR_CRASHED'));
  t.like(events.find((e) => e.type === 'exit' && e.child === 'p'), { reason: 'hang' });
  t.is((await system.ref('p').call('PROBE_STATE', {}) as { generation: number }).generation, 1);
});

test('calls made while an actor restarts wait for the new incarnation instead of failing', async (t) => {
  const { system } = await startSystem({ workers: [probeWorker('w', [probeActor('p')], { actorBackoffMs: [150] })] });
  t.teardown(() => system.stop());
  const p = system.ref('p');
  await t.throwsAsync(p.call('PROBE_CRASH', { message: 'x' }));
  t.false(p.running);
  const t0 = Date.now();
  const state = await p.call('PROBE_STATE', {}, { timeoutMs: 2_000 }) as { generation: number };
  t.is(state.generation, 1);
  t.true(Date.now() - t0 >= 100, 'the call waited for the backoff');
});

test('an actor whose init throws fails the start instead of looping', async (t) => {
  const err = await t.throwsAsync(startSystem({ workers: [probeWorker('w', [probeActor('ok'), probeActor('bad', { args: { failInit: 'throw' } })])] }));
  t.true(isIvError(err, 'IV_ERR_ACTOR_START_FAILED'));
  t.regex((err).message, /fail in init/);
});

test('an actor whose init hangs fails the start with a deadline', async (t) => {
  const err = await t.throwsAsync(startSystem({ workers: [probeWorker('w', [probeActor('bad', { args: { failInit: 'hang' }, handlerTimeoutMs: 100 })])] }));
  t.true(isIvError(err, 'IV_ERR_ACTOR_START_FAILED'));
});

test('an actor that crashes too often escalates: its worker is restarted with every actor on it', async (t) => {
  const { system, events } = await startSystem({
    workers: [probeWorker('w', [probeActor('p'), probeActor('sib')], { actorIntensity: { maxRestarts: 2, withinMs: 10_000 } })],
  });
  t.teardown(() => system.stop());
  const thread = system.worker('w')?.threadId;
  await system.ref('sib').call('PROBE_INCR', {});
  for (let i = 0; i < 3; i++) {
    await t.throwsAsync(system.ref('p').call('PROBE_CRASH', { message: `crash ${i}` }));
  }
  await waitFor('worker restart', () => system.worker('w')?.threadId !== thread);
  t.truthy(events.find((e) => e.type === 'escalate' && e.supervisor === 'root/w/actors:w'));
  t.deepEqual(await system.ref('sib').call('PROBE_INCR', {}), { counter: 1 }, 'sibling restarted fresh on the new worker');
});

const workerDeaths: [string, string, object, string][] = [
  ['an uncaught exception', 'PROBE_THROW_UNCAUGHT', { message: 'boom' }, 'fault'],
  ['an unhandled rejection', 'PROBE_REJECT_UNHANDLED', { message: 'nope' }, 'fault'],
  ['process.exit', 'PROBE_EXIT', { code: 3 }, 'exit'],
];

for (const [what, method, body, reason] of workerDeaths) {
  test(`a worker that dies from ${what} is restarted with its actors, and other workers are unaffected`, async (t) => {
    const { system, events } = await startSystem({ workers: [probeWorker('w', [probeActor('p')]), probeWorker('other', [probeActor('o')])] });
    t.teardown(() => system.stop());
    const thread = system.worker('w')?.threadId;
    await system.ref('o').call('PROBE_INCR', {});
    await system.ref('p').call(method as 'PROBE_EXIT', body).catch(() => undefined);
    await waitFor('worker restart', () => events.some((e) => e.type === 'start' && e.child === 'p' && restarted(events, 'p') >= 1));
    t.like(events.find((e) => e.type === 'exit' && e.child === 'worker:w'), { reason });
    t.not(system.worker('w')?.threadId, thread);
    t.is((await system.ref('p').call('PROBE_STATE', {}) as { generation: number }).generation, 1);
    t.deepEqual(await system.ref('o').call('PROBE_INCR', {}), { counter: 2 }, 'the other worker kept its actor state');
  });
}

test('a worker that blocks its event loop misses heartbeats and is restarted as hung', async (t) => {
  const { system, events } = await startSystem({ workers: [probeWorker('w', [probeActor('p', { handlerTimeoutMs: 60_000 })])] });
  t.teardown(() => system.stop());
  const call = system.ref('p').call('PROBE_BLOCK', { ms: 30_000 }, { timeoutMs: 60_000 });
  const err = await t.throwsAsync(call);
  t.true(isIvError(err, 'IV_ERR_WORKER_HUNG'), `got ${(err as { code?: string }).code}`);
  await waitFor('restart', () => restarted(events, 'p') === 1);
  t.like(events.find((e) => e.type === 'exit' && e.child === 'worker:w'), { reason: 'hang', error: { code: 'IV_ERR_WORKER_HUNG' } });
  t.is((await system.ref('p').call('PROBE_STATE', {}) as { generation: number }).generation, 1);
});

test('a worker that exceeds its heap limit is restarted as out of memory', async (t) => {
  const { system, events } = await startSystem({
    workers: [probeWorker('w', [probeActor('p', { handlerTimeoutMs: 60_000 })], { resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 }, missedHeartbeats: 100 })],
  });
  t.teardown(() => system.stop());
  const err = await t.throwsAsync(system.ref('p').call('PROBE_ALLOCATE', { mb: 512 }, { timeoutMs: 60_000 }));
  t.true(isIvError(err, 'IV_ERR_WORKER_OOM'), `got ${(err as { code?: string }).code}`);
  await waitFor('restart', () => restarted(events, 'p') === 1, 10_000);
  t.like(events.find((e) => e.type === 'exit' && e.child === 'worker:w'), { reason: 'oom' });
  t.deepEqual(await system.ref('p').call('PROBE_INCR', {}), { counter: 1 });
});

test('a worker that sends messages outside the schema is treated as faulty and restarted', async (t) => {
  for (const what of ['unknown-method', 'not-msgpack', 'bad-version'] as const) {
    const { system, events } = await startSystem({ workers: [probeWorker('w', [probeActor('p')])] });
    await system.ref('p').call('PROBE_GARBAGE', { what }).catch(() => undefined);
    await waitFor(`restart after ${what}`, () => restarted(events, 'p') === 1);
    t.like(events.find((e) => e.type === 'exit' && e.child === 'worker:w'), { reason: 'protocol', error: { code: 'IV_ERR_PROTOCOL' } }, what);
    await system.stop();
  }
});

test('a message outside the schema sent to a worker is answered as a fault and the worker lives on', async (t) => {
  const { system, events } = await startSystem({ workers: [probeWorker('w', [probeActor('p')])] });
  t.teardown(() => system.stop());
  const worker = system.worker('w');
  const faults: string[] = [];
  worker?.on('fault', (f) => faults.push(`${f.origin}:${f.error.code}`));
  worker?.postRaw(new Uint8Array([0xc1, 0xc1, 0xc1]));
  worker?.postRaw('hello');
  await waitFor('two faults', () => faults.length === 2);
  t.deepEqual(faults, ['protocol:IV_ERR_PROTOCOL', 'protocol:IV_ERR_PROTOCOL']);
  t.deepEqual(await system.ref('p').call('PROBE_INCR', {}), { counter: 1 });
  t.false(events.some((e) => e.type === 'exit'));
});

test('a worker built for another schema version exits with the documented code and fails the start', async (t) => {
  const err = await t.throwsAsync(startSystem({ workers: [probeWorker('w', [probeActor('p')], { protocolVersion: 999 })] }));
  t.true(isIvError(err, 'IV_ERR_VERSION_MISMATCH'));
  t.is(WORKER_EXIT.VERSION_MISMATCH, 76);
});

test('a pinned worker is never restarted: its death stops the system with a fatal event', async (t) => {
  const { system, events, fatal } = await startSystem({ workers: [probeWorker('p2p', [probeActor('peer')], { pinned: true }), probeWorker('cap', [probeActor('c')])] });
  t.teardown(() => system.stop());
  const worker = system.worker('p2p');
  await system.ref('peer').call('PROBE_EXIT', { code: 9 }).catch(() => undefined);
  await waitFor('fatal', () => fatal.length === 1);
  t.true(isIvError(fatal[0], 'IV_ERR_PINNED_EXITED'));
  t.is(restarted(events, 'worker:p2p'), 0);
  t.false(events.some((e) => e.type === 'restart' && e.child === 'worker:p2p'));
  t.is(system.worker('p2p'), worker, 'no new p2p worker was spawned');
  t.false(worker?.alive);
  const err = await t.throwsAsync(system.ref('c').call('PROBE_INCR', {}));
  t.true(isIvError(err, 'IV_ERR_CLOSED'));
});

test('actors inside a pinned worker are restarted without restarting the worker', async (t) => {
  const { system, events } = await startSystem({ workers: [probeWorker('p2p', [probeActor('peer')], { pinned: true })] });
  t.teardown(() => system.stop());
  const thread = system.worker('p2p')?.threadId;
  await t.throwsAsync(system.ref('peer').call('PROBE_CRASH', { message: 'peer error' }));
  t.is((await system.ref('peer').call('PROBE_STATE', {}) as { generation: number }).generation, 1);
  t.is(system.worker('p2p')?.threadId, thread);
  t.is(restarted(events, 'worker:p2p'), 0);
});

test('a worker that keeps dying exhausts the restart intensity and the system reports fatal', async (t) => {
  const { system, fatal } = await startSystem({
    workers: [probeWorker('w', [probeActor('p')], { workerIntensity: { maxRestarts: 1, withinMs: 30_000 } })],
    intensity: { maxRestarts: 0, withinMs: 30_000 },
  });
  t.teardown(() => system.stop());
  for (let i = 0; i < 2; i++) {
    await system.ref('p').call('PROBE_EXIT', { code: 1 }).catch(() => undefined);
  }
  await waitFor('fatal', () => fatal.length === 1);
  t.true(isIvError(fatal[0], 'IV_ERR_RESTART_INTENSITY'));
});

test('rest_for_one inside a worker restarts the crashed actor and the actors started after it, not those before', async (t) => {
  const { system } = await startSystem({ workers: [probeWorker('w', [probeActor('a'), probeActor('b'), probeActor('c')], { actorStrategy: 'rest_for_one' })] });
  t.teardown(() => system.stop());
  for (const id of ['a', 'b', 'c']) {
    await system.ref(id).call('PROBE_INCR', {});
  }
  await t.throwsAsync(system.ref('b').call('PROBE_CRASH', { message: 'b fails' }));
  const gen = async (id: string) => (await system.ref(id).call('PROBE_STATE', {}) as { generation: number; counter: number });
  t.like(await gen('a'), { generation: 0, counter: 1 }, 'a, started before b, kept its state');
  t.like(await gen('b'), { generation: 1, counter: 0 });
  t.like(await gen('c'), { generation: 1, counter: 0 }, 'c, started after b, was restarted too');
});
