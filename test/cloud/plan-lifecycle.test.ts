/**
 * The plan lifecycle on a ManualClock: full-time switching when a plan becomes valid and
 * when it lapses (expiry timer), a free trial (what it grants, its seconds left, its end,
 * its checks), the periodic refresh, the cache across restarts, and nothing reported
 * while detached. No network, no recording: runs in milliseconds.
 */
import test from 'ava';
import { join } from 'node:path';
import { PlanLifecycle } from '../../actors/cloud/plan-lifecycle.js';
import { activeServices, parsePlan } from '../../actors/cloud/plan.js';
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

test('a free trial grants its service until it ends: full time on, then off at its end; a paid plan takes the report over', async (t) => {
  const clock = new ManualClock();
  let wall = 1_800_000_000_000;
  let plan: unknown = { freeTrial: { enabled: true, expiresAt: wall + 7_200_000, service: 'fullTime' }, storageDays: 3 };
  const switched: boolean[] = [];
  const life = new PlanLifecycle({ source: { kind: 'store', store: fakeStore(() => plan), device: 'dev1' }, cachePath: join(tempDir(t), 'plan-cache.json'), refreshS: 3_600, refreshTimeoutS: () => 1, onFullTime: (on) => switched.push(on), problem: () => undefined, clock, wallNow: () => wall });
  life.attach();
  const r = await life.query(1);
  life.start();
  t.deepEqual(activeServices(r.info, wall), { fullTime: true, event: false, trial: true, trialRemainingS: 7_200, csType: 3 });
  t.deepEqual(switched, [true], 'the trial records full time');
  wall += 3_599_000;
  clock.advance(3_599_000);
  t.is(activeServices(life.info, wall).trialRemainingS, 3_601, 'its seconds count down');
  wall += 3_601_005;
  clock.advance(3_601_005); // the hourly refresh at 3 600 s, then the end's timer
  await settle();
  t.deepEqual(switched, [true, false], 'off at the trial end');
  t.false(life.anyService());
  t.deepEqual(activeServices(life.info, wall), { fullTime: false, event: false, trial: false, trialRemainingS: 0, csType: 0 });
  plan = { event: { enabled: true }, freeTrial: { enabled: true, expiresAt: wall + 60_000, service: 'fullTime' } };
  await life.query(1);
  t.like(activeServices(life.info, wall), { fullTime: true, event: true, trial: true, csType: 2 });
  life.stop();
  life.detach();
});

test('a free trial must say when it ends and what it grants', (t) => {
  for (const [trial, field] of [
    [{ enabled: true, service: 'event' }, 'plan.freeTrial.expiresAt'],
    [{ enabled: true, expiresAt: 1_900_000_000_000, service: 'both' }, 'plan.freeTrial.service'],
    [{ enabled: 'yes' }, 'plan.freeTrial.enabled'],
  ] as const) {
    const err = t.throws(() => parsePlan(JSON.stringify({ freeTrial: trial }), 0));
    t.like(err, { code: 'IV_ERR_CS_STORE', field }, JSON.stringify(trial));
  }
  t.deepEqual(parsePlan('{"freeTrial":{"enabled":false}}', 0).freeTrial, { enabled: false, expiresAt: null, service: 'event' });
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
