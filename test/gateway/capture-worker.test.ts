/**
 * `ivgw run --capture-worker io` (config `memory.captureWorker: io`): the cameras' capture
 * actors run on the io worker, so the gateway has one worker (one V8 isolate) less, and
 * everything a user sees still works: both demo cameras up and recorded, apps stream live,
 * /healthz is 200, /metrics lists the workers that exist; the same under the small-box
 * setting (`node --lite-mode --v8-pool-size=1`, docs/DEPLOY.md), and the start-up log says
 * how V8 runs (`--optimize-for-size` unless IVGW_OPTIMIZE_FOR_SIZE=0). A bad value is refused
 * by name, on the command line and from an embedder.
 */
import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Gateway } from '../../gateway/gateway.js';
import { isIvError } from '../../runtime/errors.js';
import { IVGW, startGateway } from '../helpers/gateway.js';
import { freePort } from '../helpers/free-port.js';
import { RemoteApps } from '../helpers/remote-apps.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The cameras up and recorded, an app streaming live, /healthz 200, only the p2p and io workers. */
async function captureOnIoWorks(t: ExecutionContext, nodeFlags: string[]): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ivgw-capture-io-'));
  const port = await freePort();
  const gw = await startGateway(['--capture-worker', 'io', '--record', dir, '--http', `127.0.0.1:${port}`], `dev-${process.pid}`, [], IVGW, nodeFlags);
  const apps = new RemoteApps();
  t.teardown(async () => {
    await apps.exit();
    await gw.stop();
  });
  const http = `http://127.0.0.1:${port}`;
  await apps.call('connect', { client: 'viewer', options: { url: gw.url, deviceId: gw.deviceId, peerId: 'viewer', token: gw.token('viewer'), bindAddress: '127.0.0.1', timeoutMs: 30_000 } }, 45_000);
  const stream = await apps.open('viewer', 'action=live&channel=0');
  await sleep(5_000); // more than one 2 s segment per camera
  const stats = await apps.stats('viewer', stream);
  t.true(stats.videoFrames >= 50, `the app streams live: ${stats.videoFrames} video frames in 5 s`);
  const status = (await (await fetch(`${http}/api/status`)).json()) as { cameras: { name: string; state: string; fps: number }[] };
  t.is(status.cameras.length, 2);
  t.true(status.cameras.every((c) => c.state === 'up' && c.fps > 0), JSON.stringify(status.cameras));
  t.is((await fetch(`${http}/healthz`)).status, 200);
  const metrics = await (await fetch(`${http}/metrics`)).text();
  const workers = [...metrics.matchAll(/^ivgw_worker_heap_used_bytes\{worker="(\w+)"\}/gm)].map((m) => m[1]).sort();
  t.deepEqual(workers, ['io', 'p2p'], 'the p2p and io workers, no capture worker');
  const runtime = gw.log.find((l) => l.includes('cameras captured on the'));
  t.true(runtime?.includes(`node ${process.version}${nodeFlags.map((f) => ` ${f}`).join('')}; V8 optimized for size on; cameras captured on the io worker`), `the start-up log says how it runs: ${runtime}`);
  const files = (await readdir(dir, { recursive: true })).map(String);
  t.true(files.filter((f) => f.endsWith('.m4s')).length >= 2, `both cameras recorded segments: ${files.filter((f) => f.endsWith('.m4s')).join(', ')}`);
}

test.serial('with the capture on the io worker the cameras are up and recorded, an app streams live, and there is no capture worker', (t) => captureOnIoWorks(t, []));

// the small-box command docs/DEPLOY.md gives: V8 without any JIT (nor WebAssembly)
test.serial('the small-box setting (node --lite-mode, capture on io) serves, records and streams the same', (t) => captureOnIoWorks(t, ['--lite-mode', '--v8-pool-size=1']));

test('IVGW_OPTIMIZE_FOR_SIZE=0 leaves V8 as node starts it, and the start-up log says so', (t) => {
  const r = spawnSync(process.execPath, [IVGW, 'run', '--seconds', '1', '--mqtt-port', '0', '--http', 'off', '--no-record'], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, IVGW_OPTIMIZE_FOR_SIZE: '0' } });
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /V8 optimized for size off \(IVGW_OPTIMIZE_FOR_SIZE=0\); cameras captured on the capture worker/);
});

test('a capture worker that is neither own nor io is refused naming the flag', (t) => {
  const r = spawnSync(process.execPath, [IVGW, 'run', '--capture-worker', 'main', '--seconds', '1'], { encoding: 'utf8', timeout: 20_000 });
  t.is(r.status, 2);
  t.regex(r.stderr, /--capture-worker must be own or io, got main/);
});

test('an embedder\'s captureWorker that is neither own nor io is a typed error naming the option, before anything starts', async (t) => {
  const gw = new Gateway({ captureWorker: 'main' as never, http: { listen: '127.0.0.1:0' } });
  const err = await t.throwsAsync(gw.start());
  t.true(isIvError(err, 'IV_ERR_INVALID_PARAM'), String(err));
  t.is((err as { field?: string }).field, 'captureWorker');
  t.regex(err?.message ?? '', /captureWorker: expected own or io, got "main"/);
});
