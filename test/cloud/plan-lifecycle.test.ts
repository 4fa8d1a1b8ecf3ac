/**
 * The plan lifecycle on a ManualClock: full-time switching when a plan becomes valid and
 * when it lapses (expiry timer), the periodic refresh, the cache across restarts, and
 * nothing reported while detached. No network, no recording: runs in milliseconds.
 */
import test from 'ava';
import { join } from 'node:path';
import { PlanLifecycle } from '../../actors/cloud/plan-lifecycle.js';
import type { ObjectStore } from '../../actors/cloud/object-store.js';
import { ManualClock } from '../../runtime/clock.js';
import { tempDir } from '../helpers/media.js';

function fakeStore(plan: () => unknown): ObjectStore & { gets: number } {
  const store = {
    description: 'fake',
    gets: 0,
    get: async (): Promise<Uint8Array | undefined> => {
      store.gets++;
      return new TextEncoder().encode(JSON.stringify(plan()));
    },
    put: async (): Promise<void> => undefined,
    list: async (): Promise<string[]> => [],
    delete: async (): Promise<void> => undefined,
  };
  return store;
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

test('full-time follows the plan: on when valid, off at its expiry (clock-driven), refreshed every refreshS', async (t) => {
  const clock = new ManualClock();
  let wall = 1_800_000_000_000;
  let plan: unknown = { fullTime: { enabled: true, expiresAt: wall + 10_000 }, storageDays: 7 };
  const store = fakeStore(() => plan);
  const switched: boolean[] = [];
  const problems: string[] = [];
  const life = new PlanLifecycle({ source: { kind: 'store', store, device: 'dev1' }, cachePath: join(tempDir(t), 'plan-cache.json'), refreshS: 60, refreshTimeoutS: () => 1, onFullTime: (on) => switched.push(on), problem: (p) => problems.push(p), clock, wallNow: () => wall });
  life.attach();
  t.is((await life.query(1)).code, 'IV_ERR_NONE');
  life.start();
  t.deepEqual(switched, [true]);
  t.true(life.fullTime);
  t.true(life.anyService());
  wall += 10_005;
  clock.advance(10_005);
  t.deepEqual(switched, [true, false], 'the expiry timer turned full-time off');
  t.false(life.anyService());
  plan = { fullTime: { enabled: true, expiresAt: null }, storageDays: 7 };
  const before = store.gets;
  clock.advance(60_000);
  await settle();
  t.is(store.gets, before + 1, 'refreshed after refreshS');
  t.deepEqual(switched, [true, false, true]);
  clock.advance(60_000);
  await settle();
  t.is(store.gets, before + 2, 'and again');
  life.stop();
  life.detach();
  t.false(life.fullTime);
  t.is(clock.pending, 0, 'stop() leaves no timer');
  t.deepEqual(problems, []);
});

test('the cache survives a restart; a failed query keeps it; nothing is switched while detached', async (t) => {
  const dir = tempDir(t);
  const clock = new ManualClock();
  const wall = 1_800_000_000_000;
  const switched: boolean[] = [];
  const opts = { cachePath: join(dir, 'plan-cache.json'), refreshS: 3_600, refreshTimeoutS: () => 1, onFullTime: (on: boolean) => switched.push(on), clock, wallNow: () => wall };
  const first = new PlanLifecycle({ ...opts, source: { kind: 'store', store: fakeStore(() => ({ fullTime: { enabled: true }, storageDays: 7 })), device: 'dev1' }, problem: () => undefined });
  await first.query(1);
  t.deepEqual(switched, [], 'detached: no switching');
  const failing: ObjectStore = { ...fakeStore(() => ({})), get: () => Promise.reject(new Error('down')) };
  const problems: string[] = [];
  const second = new PlanLifecycle({ ...opts, source: { kind: 'store', store: failing, device: 'dev1' }, problem: (p) => problems.push(p) });
  t.true(second.info.fullTime.enabled, 'the cached plan is loaded');
  second.attach();
  const r = await second.query(1);
  t.is(r.code, 'IV_ERR_CS_QUERY_SERVICE_TIMEOUT');
  t.true(r.info.fullTime.enabled, 'the failed query answers the cache');
  second.start();
  t.deepEqual(switched, [true], 'the cached plan decides');
  t.regex(problems[0] ?? '', /plan query failed: down/);
  second.stop();
});
