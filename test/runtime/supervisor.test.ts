import test from 'ava';
import { ManualClock } from '../../runtime/clock.js';
import { Supervisor, type SupervisorEvent } from '../../runtime/supervisor.js';
import { FakeFamily, settle } from '../helpers/fake-child.js';

function events(sup: Supervisor): SupervisorEvent[] {
  const out: SupervisorEvent[] = [];
  sup.on('event', (e) => out.push(e));
  return out;
}

test('children start in order and stop in reverse order', async (t) => {
  const fam = new FakeFamily();
  const sup = new Supervisor({ id: 's', strategy: 'one_for_one' }, [fam.spec('a'), fam.spec('b'), fam.spec('c')]);
  await sup.start();
  await sup.stop();
  t.deepEqual(fam.log, ['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a']);
});

test('one_for_one restarts only the child that crashed', async (t) => {
  const fam = new FakeFamily();
  const sup = new Supervisor({ id: 's', strategy: 'one_for_one', backoffMs: [0] }, [fam.spec('a'), fam.spec('b'), fam.spec('c')]);
  await sup.start();
  fam.log.length = 0;
  fam.child('b').crash();
  await settle();
  t.deepEqual(fam.log, ['start b']);
  t.is(fam.starts.get('a'), 1);
  t.is(fam.starts.get('c'), 1);
  await sup.stop();
});

test('rest_for_one restarts the crashed child and every child started after it', async (t) => {
  const fam = new FakeFamily();
  const sup = new Supervisor({ id: 's', strategy: 'rest_for_one', backoffMs: [0] }, [fam.spec('a'), fam.spec('b'), fam.spec('c')]);
  await sup.start();
  fam.log.length = 0;
  fam.child('b').crash();
  await settle();
  t.deepEqual(fam.log, ['stop c', 'start b', 'start c']);
  await sup.stop();
});

test('one_for_all restarts every child when one crashes', async (t) => {
  const fam = new FakeFamily();
  const sup = new Supervisor({ id: 's', strategy: 'one_for_all', backoffMs: [0] }, [fam.spec('a'), fam.spec('b'), fam.spec('c')]);
  await sup.start();
  fam.log.length = 0;
  fam.child('b').crash();
  await settle();
  t.deepEqual(fam.log, ['stop c', 'stop a', 'start a', 'start b', 'start c']);
  await sup.stop();
});

test('transient children are restarted only after an abnormal exit, temporary ones never', async (t) => {
  const fam = new FakeFamily();
  const sup = new Supervisor({ id: 's', strategy: 'one_for_one', backoffMs: [0] }, [fam.spec('tr', 'transient'), fam.spec('tmp', 'temporary')]);
  await sup.start();
  fam.child('tr').exitNormally();
  fam.child('tmp').crash();
  await settle();
  t.is(fam.starts.get('tr'), 1);
  t.is(fam.starts.get('tmp'), 1);
  t.deepEqual(sup.children(), [{ id: 'tr', status: 'stopped', restart: 'transient' }, { id: 'tmp', status: 'stopped', restart: 'temporary' }]);
  const fam2 = new FakeFamily();
  const sup2 = new Supervisor({ id: 's2', strategy: 'one_for_one', backoffMs: [0] }, [fam2.spec('tr', 'transient')]);
  await sup2.start();
  fam2.child('tr').crash();
  await settle();
  t.is(fam2.starts.get('tr'), 2);
  await sup.stop();
  await sup2.stop();
});

test('more restarts than the intensity allows escalates: children stop and the supervisor exits with IV_ERR_RESTART_INTENSITY', async (t) => {
  const fam = new FakeFamily();
  const clock = new ManualClock();
  const sup = new Supervisor({ id: 's', strategy: 'one_for_one', intensity: { maxRestarts: 2, withinMs: 1_000 }, backoffMs: [0], clock }, [fam.spec('a'), fam.spec('b')]);
  const evs = events(sup);
  let exit: unknown;
  sup.onExit((info) => {
    exit = info;
  });
  await sup.start();
  for (let i = 0; i < 3; i++) {
    clock.advance(10);
    fam.child('a').crash();
    await settle();
  }
  t.is(fam.starts.get('a'), 3, 'two restarts were allowed, the third escalated');
  t.like(exit, { normal: false, reason: 'escalated', error: { code: 'IV_ERR_RESTART_INTENSITY' } });
  t.true(fam.child('b').stopped, 'the sibling was stopped on escalation');
  t.truthy(evs.find((e) => e.type === 'escalate'));
});

test('restarts spread wider than the intensity window never escalate', async (t) => {
  const fam = new FakeFamily();
  const clock = new ManualClock();
  const sup = new Supervisor({ id: 's', strategy: 'one_for_one', intensity: { maxRestarts: 2, withinMs: 1_000 }, backoffMs: [0], clock }, [fam.spec('a')]);
  let escalated = false;
  sup.onExit(() => {
    escalated = true;
  });
  await sup.start();
  for (let i = 0; i < 10; i++) {
    clock.advance(600);
    fam.child('a').crash();
    await settle();
  }
  t.false(escalated);
  t.is(fam.starts.get('a'), 11);
  await sup.stop();
});

test('backoff grows in steps with the number of recent restarts', async (t) => {
  const fam = new FakeFamily();
  const clock = new ManualClock();
  const sup = new Supervisor({ id: 's', strategy: 'one_for_one', intensity: { maxRestarts: 10, withinMs: 60_000 }, backoffMs: [0, 100, 1_000], clock }, [fam.spec('a')]);
  const evs = events(sup);
  await sup.start();
  fam.child('a').crash();
  await settle();
  t.is(fam.starts.get('a'), 2, 'first restart is immediate');
  fam.child('a').crash();
  await settle();
  t.is(fam.starts.get('a'), 2, 'second restart waits for its backoff');
  clock.advance(99);
  await settle();
  t.is(fam.starts.get('a'), 2);
  clock.advance(1);
  await settle();
  t.is(fam.starts.get('a'), 3);
  fam.child('a').crash();
  await settle();
  clock.advance(1_000);
  await settle();
  t.is(fam.starts.get('a'), 4);
  t.deepEqual(evs.filter((e) => e.type === 'restart').map((e) => e.delayMs), [0, 100, 1_000]);
  await sup.stop();
});

test('a child that keeps failing to start is retried only within the intensity, then escalated', async (t) => {
  const fam = new FakeFamily();
  const sup = new Supervisor({ id: 's', strategy: 'one_for_one', intensity: { maxRestarts: 3, withinMs: 60_000 }, backoffMs: [0] }, [fam.spec('a')]);
  let exit: unknown;
  sup.onExit((info) => {
    exit = info;
  });
  await sup.start();
  fam.failNextStarts.set('a', 1_000);
  fam.child('a').crash();
  await settle(50);
  t.is(fam.starts.get('a'), 4, 'initial start + 3 failed restarts, then no more');
  t.like(exit, { reason: 'escalated', error: { code: 'IV_ERR_RESTART_INTENSITY' } });
});

test('a failing child during the initial start stops the ones already started and rejects', async (t) => {
  const fam = new FakeFamily();
  fam.failNextStarts.set('b', 1);
  const sup = new Supervisor({ id: 's', strategy: 'one_for_one' }, [fam.spec('a'), fam.spec('b'), fam.spec('c')]);
  const err = await t.throwsAsync(sup.start());
  t.is((err as { code?: string }).code, 'IV_ERR_ACTOR_START_FAILED');
  t.deepEqual(fam.log, ['start a', 'start-fail b', 'stop a']);
});

test('a pinned child that exits is never restarted: the supervisor escalates with IV_ERR_PINNED_EXITED', async (t) => {
  const fam = new FakeFamily();
  const sup = new Supervisor({ id: 's', strategy: 'one_for_one', backoffMs: [0] }, [fam.spec('p2p', 'permanent', { pinned: true }), fam.spec('other')]);
  let exit: unknown;
  sup.onExit((info) => {
    exit = info;
  });
  await sup.start();
  fam.child('p2p').crash();
  await settle();
  t.is(fam.starts.get('p2p'), 1);
  t.like(exit, { reason: 'escalated', error: { code: 'IV_ERR_PINNED_EXITED' } });
});

test('a child that overruns its shutdown timeout is killed and reported', async (t) => {
  const fam = new FakeFamily();
  fam.stopBehaviour.set('slow', 'hang');
  const sup = new Supervisor({ id: 's', strategy: 'one_for_one' }, [fam.spec('slow', 'permanent', { shutdownMs: 30 })]);
  const evs = events(sup);
  await sup.start();
  await sup.stop();
  t.true(fam.child('slow').killed);
  t.like(evs.find((e) => e.type === 'shutdown-timeout'), { child: 'slow', error: { code: 'IV_ERR_SHUTDOWN_TIMEOUT' } });
});

test('an exit from an incarnation that was already replaced is ignored', async (t) => {
  const fam = new FakeFamily();
  const sup = new Supervisor({ id: 's', strategy: 'one_for_all', backoffMs: [0] }, [fam.spec('a'), fam.spec('b')]);
  await sup.start();
  const oldB = fam.child('b');
  fam.child('a').crash();
  await settle();
  t.is(fam.starts.get('b'), 2);
  oldB.crash();
  await settle();
  t.is(fam.starts.get('b'), 2, 'the stale exit did not restart b again');
  await sup.stop();
});

test('every start, exit, restart and stop is an event with the supervisor path', async (t) => {
  const fam = new FakeFamily();
  const sup = new Supervisor({ id: 'grp', parentPath: 'root', strategy: 'one_for_one', backoffMs: [0] }, [fam.spec('a')]);
  const evs = events(sup);
  await sup.start();
  fam.child('a').crash('hang');
  await settle();
  await sup.stop();
  t.deepEqual(evs.map((e) => `${e.type}:${e.supervisor}:${e.child}${e.reason ? `:${e.reason}` : ''}`),
    ['start:root/grp:a', 'exit:root/grp:a:hang', 'restart:root/grp:a', 'start:root/grp:a', 'stop:root/grp:a']);
});

test('duplicate child ids are refused with a typed error', (t) => {
  const fam = new FakeFamily();
  const err = t.throws(() => new Supervisor({ id: 's', strategy: 'one_for_one' }, [fam.spec('a'), fam.spec('a')]));
  t.is((err as { code?: string }).code, 'IV_ERR_INVALID_PARAM');
});
