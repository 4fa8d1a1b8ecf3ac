/**
 * The load tester's parts on their own: the run plan (mix, ramp, channels, workers),
 * option checks, the latency histogram, the report's verdict, and the IPC schema
 * (a worker answers a message that breaks it with LOAD_FAULT and exits).
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { isIvError } from '../../runtime/errors.js';
import { checkLoadMessage, LOAD_PROTOCOL_VERSION } from '../../client/load/load-ipc.js';
import { bucketLowerMs, bucketOf, bucketUpperMs, Histogram } from '../../client/load/histogram.js';
import { checkLoadOptions, parseMix, planApps, type LoadOptions } from '../../client/load/load-plan.js';
import { buildReport } from '../../client/load/load-report.js';
import type { LoadAppResult } from '../../client/load/load-types.js';
import { describeMachine } from '../../shared/machine.js';

const options = (over: Partial<LoadOptions> = {}): LoadOptions => ({
  broker: 'mqtt://127.0.0.1:1883', device: 'd', secret: 's', bind: '127.0.0.1', peers: 100, seconds: 30, rampPerS: 20, workers: 3,
  mix: parseMix('live=70,playback=10,voice=5,command=5,stall=5,churn=5'), channels: [0, 1], stallSeconds: 8, ...over,
});

test('the plan gives every scenario its share, spreads them over the ramp, channels and workers', (t) => {
  const plan = planApps(options(), 'run1');
  const apps = plan.flat().sort((a, b) => a.index - b.index);
  t.is(apps.length, 100);
  const count = (s: string) => apps.filter((a) => a.scenario === s).length;
  t.deepEqual([count('live'), count('playback'), count('voice'), count('command'), count('stall'), count('churn')], [70, 10, 5, 5, 5, 5]);
  t.deepEqual(plan.map((w) => w.length), [34, 33, 33]);
  t.is(new Set(apps.map((a) => a.peer)).size, 100, 'peer ids are unique');
  t.true(apps.every((a) => a.startAtMs === a.index * 50), '20 apps per second');
  t.deepEqual([...new Set(apps.map((a) => a.channel))].sort(), [0, 1]);
  // the 5 stalled apps are spread over the ramp, not bunched at its start or end
  const stall = apps.filter((a) => a.scenario === 'stall').map((a) => a.index);
  t.true(stall[0] as number < 20 && (stall[4] as number) > 80, `stall apps at ${stall.join(', ')}`);
  // largest remainder keeps the total exact for awkward sizes
  t.is(planApps(options({ peers: 7 }), 'r').flat().length, 7);
});

test('bad options are refused naming the flag', (t) => {
  const bad: [Partial<LoadOptions> | string, string][] = [
    [{ peers: 0 }, '--peers'], [{ peers: 2.5 }, '--peers'], [{ seconds: 0 }, '--seconds'], [{ rampPerS: 0 }, '--ramp'],
    [{ workers: 0 }, '--workers'], [{ channels: [] }, '--channels'], [{ channels: [300] }, '--channels'], [{ secret: '' }, '--secret'],
    [{ broker: 'http://x' }, '--broker'], [{ stallSeconds: -1 }, '--stall-seconds'],
  ];
  for (const [over, flag] of bad) {
    const err = t.throws(() => checkLoadOptions(options(over as Partial<LoadOptions>)));
    t.true(isIvError(err, 'IV_ERR_INVALID_PARAM') && err.field === flag, `${JSON.stringify(over)}: ${err?.message}`);
  }
  for (const mix of ['walk=3', 'live=-1', 'live=0', 'live=x']) {
    const err = t.throws(() => parseMix(mix));
    t.true(isIvError(err, 'IV_ERR_INVALID_PARAM') && err.field === '--mix', `${mix}: ${err?.message}`);
  }
});

test('the latency histogram merges and answers percentiles within a bucket', (t) => {
  for (const ms of [0, 0.5, 42.7, 99.9, 100, 555, 999, 1_000, 4_321, 9_999]) {
    const b = bucketOf(ms);
    t.true(bucketLowerMs(b) <= ms && ms < bucketUpperMs(b), `${ms} ms in bucket ${b} [${bucketLowerMs(b)}, ${bucketUpperMs(b)})`);
  }
  t.is(bucketOf(-3), 0, 'clock skew below zero counts as 0');
  t.is(bucketUpperMs(bucketOf(50_000)), Infinity);
  const a = new Histogram();
  const b = new Histogram();
  for (let i = 1; i <= 990; i++) {
    a.add(i % 30); // 0..29 ms
  }
  for (let i = 0; i < 10; i++) {
    b.add(400 + i);
  }
  a.merge(b.pairs());
  t.is(a.total, 1000);
  t.is(a.percentile(50), 16, 'the upper edge of the bucket of 15 ms');
  t.is(a.percentile(99), 30);
  t.is(a.percentile(99.5), 410, 'the bucket [400, 410): merged samples are known to their bucket');
  t.is(a.percentile(100), 410);
  const exact = new Histogram();
  exact.add(404.2);
  t.is(exact.percentile(100), 404.2, 'never above the largest sample seen');
});

const app = (over: Partial<LoadAppResult> = {}): LoadAppResult => ({
  index: 0, peer: 'p0', scenario: 'live', channel: 0, sessions: 1, connects: 1, connectRetries: 0, connectMs: [50], firstFrameMs: 10, seconds: 10, bytes: 275_000,
  videoFrames: 250, audioFrames: 160, gaps: 0, pauseGaps: 0, resumes: 0, violations: 0, violationSamples: [], errors: 0, errorSamples: [], latency: [[12, 200]],
  commandRttMs: [], voiceFrames: 0, watermarkEvents: 0, playbackRounds: 0, ...over,
});

test('the verdict fails on errors, violations, unexplained gaps, apps without video and missing apps, never on announced pauses', (t) => {
  const report = (apps: LoadAppResult[], peers = apps.length, faults: string[] = []) =>
    buildReport({ options: options({ peers }), startedAt: 'now', machine: describeMachine(), apps, samples: [{ t: 1, bytes: 1000, videoFrames: 25, connected: 1, errors: 0, latency: [[12, 25]] }], faults });
  const ok = report([app(), app({ index: 1, scenario: 'stall', pauseGaps: 2, watermarkEvents: 4 })]);
  t.true(ok.verdict.ok, ok.verdict.problems.join('; '));
  t.is(ok.appKbps.p50, 220);
  t.is(ok.latencyMs.p50, 13);
  t.deepEqual(ok.timeline, [{ t: 1, mbps: 0.01, videoFps: 25, connected: 1, errors: 0, latencyP50: 13, latencyP99: 13 }]);
  t.false('secret' in ok.options, 'the device secret never reaches a report');
  const cases: [LoadAppResult[], number, string[], RegExp][] = [
    [[app({ errors: 1, errorSamples: [{ code: 'IV_ERR_TIMEOUT', message: 'x' }] })], 1, [], /1 errors/],
    [[app({ violations: 1, violationSamples: ['video timestamp went back'] })], 1, [], /1 integrity violations/],
    [[app({ gaps: 2 })], 1, [], /2 gaps/],
    [[app({ videoFrames: 0 })], 1, [], /received no video/],
    [[app({ connects: 0, connectMs: [] })], 1, [], /never connected/],
    [[app()], 2, [], /1 apps reported no result/],
    [[app()], 1, ['worker 7 died'], /1 worker faults/],
  ];
  for (const [apps, peers, faults, why] of cases) {
    const r = report(apps, peers, faults);
    t.false(r.verdict.ok);
    t.regex(r.verdict.problems.join('; '), why);
  }
  t.is(report([app({ violations: 1, violationSamples: ['v'] })]).problems[0]?.kind, 'violation');
});

test('IPC messages are checked: version, method, direction and body, naming the field', (t) => {
  const ok = checkLoadMessage({ v: LOAD_PROTOCOL_VERSION, method: 'LOAD_STOP', body: {} }, 'toWorker');
  t.true(ok.ok);
  const bad: [unknown, 'toWorker' | 'toParent', string, string][] = [
    [{ v: 99, method: 'LOAD_STOP', body: {} }, 'toWorker', 'IV_ERR_PROTOCOL', 'v'],
    [{ v: LOAD_PROTOCOL_VERSION, method: 'LOAD_DANCE', body: {} }, 'toWorker', 'IV_ERR_UNKNOWN_METHOD', 'method'],
    [{ v: LOAD_PROTOCOL_VERSION, method: 'LOAD_RESULT', body: { apps: [] } }, 'toWorker', 'IV_ERR_PROTOCOL', 'method'],
    [{ v: LOAD_PROTOCOL_VERSION, method: 'LOAD_SAMPLE', body: { t: 1, bytes: -1, videoFrames: 0, connected: 0, errors: 0, latency: [] } }, 'toParent', 'IV_ERR_INVALID_PARAM', 'body.bytes'],
    ['hello', 'toParent', 'IV_ERR_PROTOCOL', 'message'],
  ];
  for (const [msg, dir, code, field] of bad) {
    const r = checkLoadMessage(msg, dir);
    t.true(!r.ok && isIvError(r.error, code as never) && r.error.field === field, `${JSON.stringify(msg)} → ${r.ok ? 'ok' : `${r.error.code} ${r.error.field} ${r.error.message}`}`);
  }
});

test('a load worker answers a message that breaks the schema with LOAD_FAULT and exits 1', async (t) => {
  const worker = fork(fileURLToPath(new URL('../../client/load/load-worker.js', import.meta.url)), [], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
  const fault = new Promise<unknown>((resolve) => worker.once('message', resolve));
  const exit = new Promise<number | null>((resolve) => worker.once('exit', resolve));
  worker.send({ v: LOAD_PROTOCOL_VERSION, method: 'LOAD_DANCE', body: {} });
  const m = await fault as { method: string; body: { code: string; message: string } };
  t.is(m.method, 'LOAD_FAULT');
  t.is(m.body.code, 'IV_ERR_UNKNOWN_METHOD');
  t.regex(m.body.message, /LOAD_DANCE/);
  t.is(await exit, 1);
});
