/**
 * Where the cameras are captured (`ivgw run --capture-worker auto|own|io`, config
 * `memory.captureWorker`): with `io` the capture actors run on the io worker, so the gateway
 * has one worker (one V8 isolate) less; with `own` on a worker of their own; `auto` (the
 * default) is io on a machine of 2 cores or fewer. Either way everything a user sees works:
 * both demo cameras up and recorded, apps stream live, /healthz is 200, /metrics lists the
 * workers that exist; the same under the small-box setting (`node --lite-mode
 * --v8-pool-size=1`, docs/DEPLOY.md). The start-up log says how V8 runs
 * (`--optimize-for-size` unless IVGW_OPTIMIZE_FOR_SIZE=0) and where the cameras are
 * captured, and no worker maps a copy of V8's builtins of its own (`--no-short-builtin-calls`,
 * runtime/v8-size.ts). A bad value is refused by name, on the command line and from an embedder.
 */
import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { mkdtemp, readdir } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Gateway } from '../../gateway/gateway.js';
import { captureWorkerFor } from '../../gateway/gateway-workers.js';
import { isIvError } from '../../runtime/errors.js';
import { IVGW, startGateway } from '../helpers/gateway.js';
import { freePort } from '../helpers/free-port.js';
import { RemoteApps } from '../helpers/remote-apps.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Executable mappings of node's own binary outside its text segment: the copies of V8's
 * builtins an isolate maps next to its code range (short builtin calls, on machines of 4 GB
 * or more). The main isolate makes one before `ivgw run` can turn them off.
 */
function builtinCopies(pid: number): number {
  const node = realpathSync(process.execPath);
  const code = readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n').map((l) => l.split(/\s+/)).filter((f) => f[1] === 'r-xp' && f[5] === node).map((f) => {
    const [from, to] = (f[0] ?? '').split('-').map((x) => Number.parseInt(x, 16));
    return { offset: Number.parseInt(f[2] ?? '', 16), size: (to ?? 0) - (from ?? 0) };
  });
  // a copy maps file pages that a bigger mapping (node's text) maps too
  return code.filter((m) => code.some((n) => n !== m && n.size > m.size && n.offset <= m.offset && m.offset < n.offset + n.size)).length;
}

/** The cameras up and recorded, an app streaming live, /healthz 200, the workers `placement` implies. */
async function placementWorks(t: ExecutionContext, flags: string[], nodeFlags: string[], placement: 'own' | 'io', says: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ivgw-capture-'));
  const port = await freePort();
  const gw = await startGateway([...flags, '--record', dir, '--http', `127.0.0.1:${port}`], `dev-${process.pid}`, [], IVGW, nodeFlags);
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
  t.deepEqual(workers, placement === 'io' ? ['io', 'p2p'] : ['capture', 'io', 'p2p'], placement === 'io' ? 'the p2p and io workers, no capture worker' : 'a capture worker beside p2p and io');
  const runtime = gw.log.find((l) => l.includes('cameras captured on the'));
  t.true(runtime?.includes(`node ${process.version}${nodeFlags.map((f) => ` ${f}`).join('')}; V8 optimized for size on; ${says}`), `the start-up log says how it runs: ${runtime}`);
  // lite mode has no code range to put a copy in; otherwise only the main isolate's (made before ivgw ran)
  t.true(builtinCopies(gw.proc.pid as number) <= 1, `no worker maps its own copy of V8's builtins: ${builtinCopies(gw.proc.pid as number)}`);
  const files = (await readdir(dir, { recursive: true })).map(String);
  t.true(files.filter((f) => f.endsWith('.m4s')).length >= 2, `both cameras recorded segments: ${files.filter((f) => f.endsWith('.m4s')).join(', ')}`);
}

test('auto (the default) captures on io on 2 cores or fewer and on a worker of its own above; own and io are what they say', (t) => {
  t.is(captureWorkerFor(undefined, 1), 'io');
  t.is(captureWorkerFor(undefined, 2), 'io');
  t.is(captureWorkerFor('auto', 2), 'io');
  t.is(captureWorkerFor('auto', 3), 'own');
  t.is(captureWorkerFor(undefined, 16), 'own');
  t.is(captureWorkerFor('own', 1), 'own');
  t.is(captureWorkerFor('io', 64), 'io');
});

test.serial('by default (auto) the cameras are captured where this machine\'s cores say, recorded, and streamed live', (t) => {
  const cores = availableParallelism();
  const placement = cores <= 2 ? 'io' : 'own';
  return placementWorks(t, [], [], placement, `cameras captured on the ${placement === 'io' ? 'io' : 'capture'} worker (auto: ${cores} cores)`);
});

test.serial('with the capture on a worker of its own the cameras are up and recorded and an app streams live', (t) => placementWorks(t, ['--capture-worker', 'own'], [], 'own', 'cameras captured on the capture worker'));

test.serial('with the capture on the io worker the cameras are up and recorded, an app streams live, and there is no capture worker', (t) => placementWorks(t, ['--capture-worker', 'io'], [], 'io', 'cameras captured on the io worker'));

// the small-box command docs/DEPLOY.md gives: V8 without any JIT (nor WebAssembly)
test.serial('the small-box setting (node --lite-mode, capture on io) serves, records and streams the same', (t) => placementWorks(t, ['--capture-worker', 'io'], ['--lite-mode', '--v8-pool-size=1'], 'io', 'cameras captured on the io worker'));

test('IVGW_OPTIMIZE_FOR_SIZE=0 leaves V8 as node starts it, and the start-up log says so', (t) => {
  const r = spawnSync(process.execPath, [IVGW, 'run', '--seconds', '1', '--mqtt-port', '0', '--http', 'off', '--no-record', '--capture-worker', 'own'], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, IVGW_OPTIMIZE_FOR_SIZE: '0' } });
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /V8 optimized for size off \(IVGW_OPTIMIZE_FOR_SIZE=0\); cameras captured on the capture worker"/);
});

test('a capture worker that is not auto, own or io is refused naming the flag', (t) => {
  const r = spawnSync(process.execPath, [IVGW, 'run', '--capture-worker', 'main', '--seconds', '1'], { encoding: 'utf8', timeout: 20_000 });
  t.is(r.status, 2);
  t.regex(r.stderr, /--capture-worker must be auto, own, io, got main/);
});

test('an embedder\'s captureWorker that is not auto, own or io is a typed error naming the option, before anything starts', async (t) => {
  const gw = new Gateway({ captureWorker: 'main' as never, http: { listen: '127.0.0.1:0' } });
  const err = await t.throwsAsync(gw.start());
  t.true(isIvError(err, 'IV_ERR_INVALID_PARAM'), String(err));
  t.is((err as { field?: string }).field, 'captureWorker');
  t.regex(err?.message ?? '', /captureWorker: expected auto, own, io, got "main"/);
});
