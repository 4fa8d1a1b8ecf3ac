import test from 'ava';
import { isIvError } from '../../runtime/errors.js';
import { probeActor, probeWorker, startSystem, waitFor } from '../helpers/probe-system.js';

test('a request reaches an actor on a worker thread and its answer comes back', async (t) => {
  const { system } = await startSystem({ workers: [probeWorker('w', [probeActor('p')])] });
  t.teardown(() => system.stop());
  t.deepEqual(await system.ref('p').call('PROBE_ECHO', { payload: { hello: [1, 2, 3], s: 'x' } }), { hello: [1, 2, 3], s: 'x' });
  t.deepEqual(await system.ref('p').call('PROBE_INCR', {}), { counter: 1 });
  t.deepEqual(await system.ref('p').call('PROBE_INCR', {}), { counter: 2 });
});

test('several actors share one worker and keep separate state', async (t) => {
  const { system } = await startSystem({ workers: [probeWorker('w', [probeActor('a'), probeActor('b', { args: { counter: 100 } })])] });
  t.teardown(() => system.stop());
  await system.ref('a').call('PROBE_INCR', {});
  t.deepEqual(await system.ref('b').call('PROBE_INCR', {}), { counter: 101 });
  t.deepEqual(await system.ref('a').call('PROBE_INCR', {}), { counter: 2 });
});

test('an actor handles its messages one at a time, in order', async (t) => {
  const { system } = await startSystem({ workers: [probeWorker('w', [probeActor('p')])] });
  t.teardown(() => system.stop());
  const p = system.ref('p');
  const order: string[] = [];
  await Promise.all([
    p.call('PROBE_SLEEP', { ms: 50 }).then(() => order.push('sleep')),
    p.call('PROBE_INCR', {}).then(() => order.push('incr')),
  ]);
  t.deepEqual(order, ['sleep', 'incr']);
});

test('notifications reach listeners after the response of the request that caused them', async (t) => {
  const { system } = await startSystem({ workers: [probeWorker('w', [probeActor('p')])] });
  t.teardown(() => system.stop());
  const p = system.ref('p');
  const seen: string[] = [];
  p.onNotification('PROBE_TICK', (body) => seen.push(`tick ${(body as { n: number }).n}`));
  await p.call('PROBE_TICKS', { count: 3, intervalMs: 0 }).then(() => seen.push('response'));
  await waitFor('3 ticks', () => seen.length === 4);
  t.deepEqual(seen, ['response', 'tick 0', 'tick 1', 'tick 2']);
});

test('an IvError thrown by a handler answers the request and leaves the actor running', async (t) => {
  const { system, events } = await startSystem({ workers: [probeWorker('w', [probeActor('p')])] });
  t.teardown(() => system.stop());
  const p = system.ref('p');
  await p.call('PROBE_INCR', {});
  const err = await t.throwsAsync(p.call('PROBE_REJECT', { field: 'maxGopSize' }));
  t.true(isIvError(err, 'IV_ERR_INVALID_PARAM'));
  t.is((err as { field?: string }).field, 'maxGopSize');
  t.deepEqual(await p.call('PROBE_INCR', {}), { counter: 2 }, 'state survived');
  t.false(events.some((e) => e.type === 'exit'));
});

test('a body that breaks the schema is refused with a typed error naming the field', async (t) => {
  const { system } = await startSystem({ workers: [probeWorker('w', [probeActor('p')])] });
  t.teardown(() => system.stop());
  const err = await t.throwsAsync(system.ref('p').call('PROBE_SLEEP', { ms: 'soon' }));
  t.true(isIvError(err, 'IV_ERR_INVALID_PARAM'));
  t.is((err as { field?: string }).field, 'body.ms');
  const err2 = await t.throwsAsync(system.ref('p').call('PROBE_SLEEP', { ms: 1, extra: true }));
  t.is((err2 as { field?: string }).field, 'body.extra');
});

test('a method the actor does not handle is refused with IV_ERR_ACTOR_NO_HANDLER', async (t) => {
  const { system } = await startSystem({ workers: [probeWorker('w', [probeActor('p')])] });
  t.teardown(() => system.stop());
  const err = await t.throwsAsync(system.ref('p').call('RINGPROBE_CONSUME', { ring: new SharedArrayBuffer(8), start: 'next', mode: 'copy', verify: false, untilSeq: -1, timeoutMs: 1, recordSeqs: false }));
  t.true(isIvError(err, 'IV_ERR_ACTOR_NO_HANDLER'));
});

test('a request past its deadline fails with IV_ERR_REQUEST_TIMEOUT naming the method', async (t) => {
  const { system } = await startSystem({ workers: [probeWorker('w', [probeActor('p')])] });
  t.teardown(() => system.stop());
  const err = await t.throwsAsync(system.ref('p').call('PROBE_SLEEP', { ms: 500 }, { timeoutMs: 50 }));
  t.true(isIvError(err, 'IV_ERR_REQUEST_TIMEOUT'));
  t.regex((err).message, /PROBE_SLEEP/);
});

test('a full mailbox refuses more messages with IV_ERR_MAILBOX_FULL instead of growing', async (t) => {
  const { system } = await startSystem({ workers: [probeWorker('w', [probeActor('p', { mailboxCapacity: 4 })])] });
  t.teardown(() => system.stop());
  const p = system.ref('p');
  const calls = [p.call('PROBE_SLEEP', { ms: 100 })];
  for (let i = 0; i < 8; i++) {
    calls.push(p.call('PROBE_INCR', {}));
  }
  const results = await Promise.allSettled(calls);
  const full = results.filter((r) => r.status === 'rejected' && isIvError(r.reason, 'IV_ERR_MAILBOX_FULL'));
  const ok = results.filter((r) => r.status === 'fulfilled');
  t.is(ok.length, 5, 'the running request and 4 queued ones');
  t.is(full.length, 4);
});

test('user callbacks on the main thread are called from actors through comlink, errors keep their code', async (t) => {
  const { system } = await startSystem({ workers: [probeWorker('w', [probeActor('p')])] });
  t.teardown(() => system.stop());
  system.callbacks.register('onCommand', (cmd: string, peer: string) => `${peer}:${cmd.toUpperCase()}`);
  system.callbacks.register('refuse', () => {
    throw Object.assign(new Error('no plan'), { code: 'IV_ERR_CS_APPLY_NO_SERVICE' });
  });
  const p = system.ref('p');
  t.is(await p.call('PROBE_CALL_BACK', { name: 'onCommand', args: ['ptz left', 'app-1'] }), 'app-1:PTZ LEFT');
  const err = await t.throwsAsync(p.call('PROBE_CALL_BACK', { name: 'refuse', args: [] }));
  t.true(isIvError(err, 'IV_ERR_CS_APPLY_NO_SERVICE'));
  const err2 = await t.throwsAsync(p.call('PROBE_CALL_BACK', { name: 'nobody', args: [] }));
  t.true(isIvError(err2, 'IV_ERR_INVALID_PARAM'));
});

test('stop is ordered, idempotent, and later calls fail with IV_ERR_CLOSED', async (t) => {
  const { system, events } = await startSystem({ workers: [probeWorker('w1', [probeActor('a')]), probeWorker('w2', [probeActor('b')])] });
  await system.stop();
  await system.stop();
  const stops = events.filter((e) => e.type === 'stop').map((e) => e.child);
  t.deepEqual(stops, ['b', 'actors:w2', 'worker:w2', 'w2', 'a', 'actors:w1', 'worker:w1', 'w1']);
  const err = await t.throwsAsync(system.ref('a').call('PROBE_INCR', {}));
  t.true(isIvError(err, 'IV_ERR_CLOSED'));
});

test('a temporary actor that crashes ends its ref: calls fail at once with the reason, the owner hears of it, the id is free after despawn', async (t) => {
  const { system } = await startSystem({ workers: [probeWorker('w', [probeActor('base')])] });
  t.teardown(() => system.stop());
  const peer = await system.spawn('w', probeActor('peer:app2', { restart: 'temporary' }));
  const exited = new Promise<Error>((resolve) => peer.onExit(resolve));
  await t.throwsAsync(peer.call('PROBE_CRASH', { message: 'broken state' }));
  const why = await exited;
  t.true(isIvError(why, 'IV_ERR_ACTOR_UNAVAILABLE'));
  t.regex(why.message, /peer:app2 exited \(crash\).*broken state.*not restarted/);
  const started = Date.now();
  const err = await t.throwsAsync(peer.call('PROBE_INCR', {}, { timeoutMs: 5_000 }));
  t.true(isIvError(err, 'IV_ERR_ACTOR_UNAVAILABLE'), 'a later call is refused with the exit');
  t.true(Date.now() - started < 1_000, `at once, not at its deadline (${Date.now() - started} ms)`);
  t.true(isIvError(await t.throwsAsync(system.spawn('w', probeActor('peer:app2'))), 'IV_ERR_INVALID_PARAM'), 'the id stays taken until the owner despawns it');
  await system.despawn('peer:app2');
  const again = await system.spawn('w', probeActor('peer:app2', { restart: 'temporary' }));
  t.deepEqual(await again.call('PROBE_INCR', {}), { counter: 1 }, 'a fresh actor under the same id');
});

test('actors can be spawned on a running worker, are supervised like the others, and can be despawned', async (t) => {
  const { system, events } = await startSystem({ workers: [probeWorker('w', [probeActor('base')])] });
  t.teardown(() => system.stop());
  const peer = await system.spawn('w', probeActor('peer:app1'));
  t.deepEqual(await peer.call('PROBE_INCR', {}), { counter: 1 });
  await t.throwsAsync(peer.call('PROBE_CRASH', { message: 'peer error' }));
  t.is((await peer.call('PROBE_STATE', {}) as { generation: number }).generation, 1, 'restarted by its supervisor');
  t.true(isIvError(await t.throwsAsync(system.spawn('w', probeActor('peer:app1'))), 'IV_ERR_INVALID_PARAM'), 'ids are unique');
  await system.despawn('peer:app1');
  t.true(isIvError(t.throws(() => system.ref('peer:app1')), 'IV_ERR_ACTOR_NOT_FOUND'));
  t.true(events.some((e) => e.type === 'stop' && e.child === 'peer:app1'));
  const again = await system.spawn('w', probeActor('peer:app1'));
  t.deepEqual(await again.call('PROBE_INCR', {}), { counter: 1 }, 'the id can be used again');
  t.deepEqual(await system.ref('base').call('PROBE_INCR', {}), { counter: 1 }, 'configured actors unaffected');
});
