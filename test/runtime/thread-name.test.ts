/**
 * Every worker thread names itself `ivgw-<worker>` (runtime/thread-name.ts): an operator's
 * `top -H` and the benchmarks' CPU breakdown tell the workers apart; a restarted worker
 * names its new thread too.
 */
import test from 'ava';
import { readFileSync, readdirSync } from 'node:fs';
import { ActorSystem } from '../../runtime/actor-system.js';
import { PROBE_ACTOR } from '../../actors/probe/index.js';

const threadNames = (): string[] => readdirSync('/proc/self/task').map((tid) => {
  try {
    return readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
  } catch {
    return ''; // the thread ended meanwhile
  }
});

test('each worker thread is named after its worker, and so is the thread of a restarted worker', async (t) => {
  const system = await new ActorSystem({ workers: [{ name: 'capture', actors: [{ id: 'probe', module: PROBE_ACTOR }] }, { name: 'a-very-long-worker-name', actors: [] }] }).start();
  try {
    const names = threadNames();
    t.is(names.filter((n) => n === 'ivgw-capture').length, 1, names.join(', '));
    t.true(names.includes('ivgw-a-very-lon'), 'cut to the 15 bytes Linux keeps');
    t.false(readFileSync('/proc/self/comm', 'utf8').startsWith('ivgw-'), 'the main thread keeps its name (ps and pgrep still show node)');
    const thread = system.worker('capture')?.threadId;
    await system.ref('probe', PROBE_ACTOR).call('PROBE_EXIT', { code: 3 }).catch(() => undefined);
    for (let i = 0; i < 200 && system.worker('capture')?.threadId === thread; i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    await system.ref('probe', PROBE_ACTOR).call('PROBE_INCR', {});
    t.not(system.worker('capture')?.threadId, thread, 'the worker was restarted');
    t.is(threadNames().filter((n) => n === 'ivgw-capture').length, 1, 'the restarted worker named its thread');
  } finally {
    await system.stop();
  }
});
