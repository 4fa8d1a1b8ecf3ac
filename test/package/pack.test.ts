/**
 * The installable package: `npm pack` (its prepack builds) gives a tarball that installs
 * into an empty project and works there — the README's embed example (examples/device.mjs
 * and examples/app.mjs, and examples/gateway.mjs — the whole Gateway — watched by the same
 * app; shipped in the package and run verbatim from the installed copy):
 * a P2pModule device with an embedded broker and a camera channel, an AppClient (a
 * second process: node-datachannel may load in one thread of a process only, and the
 * device's p2p worker has it) that watches it live, and a CloudModule recording into a
 * local directory; then `npx ivgw --version`. Also: the README shows those files verbatim.
 * Offline-friendly: the install uses the npm cache (`--prefer-offline`); the C API addon
 * ships prebuilt, node-datachannel's binary comes from its platform package.
 */
import test from 'ava';
import { execFile, spawn } from 'node:child_process';
import { readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { tempDir } from '../helpers/media.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const run = promisify(execFile);
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };

interface PackResult { filename: string; size: number; unpackedSize: number; files: { path: string }[] }

/** A child's stdout JSON lines, one at a time. */
function lines(proc: ReturnType<typeof spawn>): () => Promise<Record<string, unknown>> {
  const queue: string[] = [];
  const waiters: ((l: string) => void)[] = [];
  createInterface({ input: proc.stdout! }).on('line', (l) => {
    if (!l.startsWith('{')) {
      return;
    }
    const w = waiters.shift();
    if (w) {
      w(l);
    } else {
      queue.push(l);
    }
  });
  return () => {
    const l = queue.shift();
    return l !== undefined ? Promise.resolve(JSON.parse(l) as Record<string, unknown>) : new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no line within 30 s')), 30_000);
      waiters.push((line) => {
        clearTimeout(timer);
        resolve(JSON.parse(line) as Record<string, unknown>);
      });
    });
  };
}

test('the README embed section is examples/gateway.mjs, device.mjs and app.mjs verbatim', (t) => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  for (const file of ['gateway.mjs', 'device.mjs', 'app.mjs']) {
    const code = readFileSync(join(ROOT, 'examples', file), 'utf8');
    t.true(readme.includes(`\`\`\`js\n${code}\`\`\``), `README shows examples/${file}`);
  }
});

test('npm pack → npm install in an empty project → the embed example runs there, and npx ivgw --version', async (t) => {
  t.timeout(180_000);
  const dir = tempDir(t);
  const timings: Record<string, number> = {};
  let t0 = Date.now();
  const packed = await run('npm', ['pack', '--json', '--pack-destination', dir, '--loglevel=error'], { cwd: ROOT, maxBuffer: 64 << 20, env: { ...process.env, npm_config_update_notifier: 'false' } });
  timings.packMs = Date.now() - t0;
  // prepack's build (tsc, node-gyp's make) prints on stdout before npm's JSON
  const info = (JSON.parse(packed.stdout.slice(packed.stdout.search(/^\[$/m))) as PackResult[])[0] as PackResult;
  const files = info.files.map((f) => f.path);
  for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/client/index.js', 'dist/client/index.d.ts', 'dist/runtime/index.js', 'dist/runtime/index.d.ts', 'dist/bin/ivgw-main.js', 'bin/ivgw.js',
    'native/build/Release/iv_native.node', 'native/include/iv_av.h', 'native/include/iv_cs.h', 'actors/capture/samples/demo-h264.h264', 'examples/gateway.mjs', 'examples/device.mjs', 'examples/app.mjs', 'README.md', 'docs/ARCHITECTURE.md', 'package.json']) {
    t.true(files.includes(f), `the tarball has ${f}`);
  }
  t.deepEqual(files.filter((f) => /^dist\/(test|bench)\/|\.map$|\.ts$/.test(f) && !f.endsWith('.d.ts')), [], 'no tests, benchmarks, sources or maps');
  const tarball = join(dir, info.filename);
  t.log(`tarball ${info.filename}: ${(statSync(tarball).size / 1024).toFixed(0)} KiB packed, ${(info.unpackedSize / 1024).toFixed(0)} KiB unpacked, ${files.length} files; npm pack (with prepack build) ${timings.packMs} ms`);

  const project = join(dir, 'project');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'embed-try', private: true, type: 'module' }));
  t0 = Date.now();
  await run('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: project, maxBuffer: 64 << 20, env: { ...process.env, npm_config_update_notifier: 'false' } });
  timings.installMs = Date.now() - t0;
  t.log(`npm install of the tarball: ${timings.installMs} ms`);

  // the three entry points resolve from the installed copy, with their types where package.json says
  const entries = await run(process.execPath, ['--input-type=module', '-e', `
    const root = await import('iotvideo-gateway'); const client = await import('iotvideo-gateway/client'); const runtime = await import('iotvideo-gateway/runtime');
    const pkg = (await import('iotvideo-gateway/package.json', { with: { type: 'json' } })).default;
    console.log(JSON.stringify({ root: Object.keys(root), client: Object.keys(client), runtime: Object.keys(runtime), exports: pkg.exports }));`], { cwd: project });
  const e = JSON.parse(entries.stdout) as { root: string[]; client: string[]; runtime: string[]; exports: Record<string, { types?: string }> };
  t.true(['P2pModule', 'CloudModule', 'AppClient', 'IvError', 'isIvError'].every((n) => e.root.includes(n)));
  t.true(e.client.includes('AppClient') && e.runtime.includes('ActorSystem'));
  for (const [sub, target] of Object.entries(e.exports)) {
    if (typeof target === 'object' && target.types) {
      t.notThrows(() => statSync(join(project, 'node_modules', pkg.name, target.types as string)), `types of ${sub}`);
    }
  }

  // the embed example, from the installed package
  const examples = join(project, 'node_modules', pkg.name, 'examples');
  const device = spawn(process.execPath, [join(examples, 'device.mjs')], { cwd: project, stdio: ['ignore', 'pipe', 'pipe'] });
  let deviceErr = '';
  device.stderr?.on('data', (d: Buffer) => (deviceErr += d.toString()));
  t.teardown(() => device.kill('SIGKILL'));
  const next = lines(device);
  const ready = await next().catch((err: Error) => t.fail(`${err.message}: ${deviceErr}`));
  const recordingSince = Date.now();
  t.like(ready, { deviceId: 'cam-1', peerId: 'app-1' });
  t.regex(String(ready.broker), /^mqtt:\/\/127\.0\.0\.1:\d+$/);

  const app = spawn(process.execPath, [join(examples, 'app.mjs'), JSON.stringify(ready)], { cwd: project, stdio: ['ignore', 'pipe', 'pipe'] });
  let appErr = '';
  app.stderr?.on('data', (d: Buffer) => (appErr += d.toString()));
  t.teardown(() => app.kill('SIGKILL'));
  const watched = await lines(app)().catch((err: Error) => t.fail(`app: ${err.message}: ${appErr}`));
  t.log(`app: ${JSON.stringify(watched)}`);
  t.true((watched.videoFrames as number) >= 25, 'about 3 s of 25 fps video arrived');
  t.true((watched.keyframes as number) >= 1);
  t.true((watched.bytes as number) > 10_000);
  t.deepEqual(watched.violations, [], 'FLV that parses, timestamps in order, starting at a keyframe');

  await new Promise((r) => setTimeout(r, Math.max(0, 4_000 - (Date.now() - recordingSince)))); // two 2 s segments at least
  device.kill('SIGTERM');
  const stopped = await next().catch((err: Error) => t.fail(`${err.message}: ${deviceErr}`));
  const segments = stopped.segments as string[];
  t.log(`recorded: ${segments.join(', ')}`);
  t.true(segments.length >= 2, 'segments in the local cloud directory');
  t.true(segments.every((s) => /^cam-1\/0\/\d{4}-\d{2}-\d{2}\/[^/]+\/seg-\d{6}\.m4s$/.test(s)));
  t.true(segments.every((s) => statSync(join(project, 'cloud', s)).size > 1_000));

  // the whole gateway from code (examples/gateway.mjs), watched by the same app
  const gw = spawn(process.execPath, [join(examples, 'gateway.mjs')], { cwd: project, stdio: ['ignore', 'pipe', 'pipe'] });
  let gwErr = '';
  gw.stderr?.on('data', (d: Buffer) => (gwErr += d.toString()));
  t.teardown(() => gw.kill('SIGKILL'));
  const gwReady = await lines(gw)().catch((err: Error) => t.fail(`gateway: ${err.message}: ${gwErr}`));
  t.like(gwReady, { deviceId: 'nvr-1', peerId: 'app-1' });
  const health = await fetch(`${String(gwReady.http)}/healthz`);
  t.is(health.status, 200, 'the embedded gateway is healthy');
  const app2 = spawn(process.execPath, [join(examples, 'app.mjs'), JSON.stringify(gwReady)], { cwd: project, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => app2.kill('SIGKILL'));
  const watched2 = await lines(app2)().catch((err: Error) => t.fail(`app of the gateway: ${err.message}: ${gwErr}`));
  t.true((watched2.videoFrames as number) >= 25 && (watched2.violations as unknown[]).length === 0, `the app watched the gateway's channel 0: ${JSON.stringify(watched2)}`);
  const status = await (await fetch(`${String(gwReady.http)}/api/status`)).json() as { cameras: { name: string; state: string }[] };
  t.deepEqual(status.cameras.map((c) => c.name), ['demo-h264', 'demo-h265']);
  const gwExit = new Promise((r) => gw.once('exit', r));
  gw.kill('SIGTERM');
  t.is(await gwExit, 0, gwErr);
  t.true(gwErr.includes('[peer app-1] connected'), 'the gateway logged the app');

  const v = await run('npx', ['--no-install', 'ivgw', '--version'], { cwd: project });
  t.is(v.stdout.trim().split(' ').slice(0, 2).join(' '), `${pkg.name} ${pkg.version}`);
});
