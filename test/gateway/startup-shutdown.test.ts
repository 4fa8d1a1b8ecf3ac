/**
 * Start-up and shut-down as an operator meets them: a start that cannot succeed (port in
 * use, bad broker URL, unreadable config, a missing file) exits non-zero within 5 s with
 * one line naming the cause; an external broker that is down at boot is retried until it
 * appears; SIGINT/SIGTERM stop cleanly (exit 0) with mosquitto after apps came and went,
 * ten times in a row (the case that used to end in SIGSEGV/SIGABRT).
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { spawnIvgw, startIvgw } from '../helpers/ivgw-process.js';
import { tempDir } from '../helpers/media.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { RemoteApps } from '../helpers/remote-apps.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function listening(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, port: (server.address() as AddressInfo).port };
}

test('a start that cannot succeed exits non-zero within 5 s with one line naming the cause', async (t) => {
  const dir = tempDir(t);
  const busy = await listening();
  t.teardown(() => busy.server.close());
  writeFileSync(join(dir, 'missing.yaml'), 'cameras:\n  - { name: a, source: "file:no-such.h264" }\n');
  const cases: [string[], RegExp][] = [
    [['--mqtt-port', String(busy.port)], new RegExp(`cannot listen on 127\\.0\\.0\\.1:${busy.port}: the port is in use`)],
    [['--broker', 'http://broker.example'], /--broker must be an MQTT URL/],
    [['--config', dir], /cannot read the config file/],
    [['--config', join(dir, 'nope.yaml')], /cannot read the config file: no such file/],
    [['--config', join(dir, 'missing.yaml')], /cameras\[0\]\.source: cannot read .*no-such\.h264: no such file/],
  ];
  for (const [args, cause] of cases) {
    const started = Date.now();
    const p = spawnIvgw(['run', '--data', join(dir, 'data'), '--no-record', ...args]);
    const { code } = await p.exited;
    const ms = Date.now() - started;
    const errors = p.lines.filter((l) => l.trim() !== '' && !l.startsWith('ivgw: created the device identity'));
    t.true(code !== 0 && code !== null, `${args.join(' ')}: exit ${code}`);
    t.true(ms < 5_000, `${args.join(' ')}: ${ms} ms`);
    t.is(errors.length, 1, `${args.join(' ')}: one line, got:\n${errors.join('\n')}`);
    t.regex(errors[0] ?? '', cause);
  }
});

async function get(url: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url);
  return { status: res.status, text: await res.text() };
}

test.serial('an external broker that is down at boot is retried; meanwhile /healthz says why, /metrics and /api/status show the cameras; the gateway comes up when it appears', async (t) => {
  const dir = tempDir(t);
  const { server, port } = await listening();
  await new Promise<void>((r) => server.close(() => r())); // a free port nobody listens on yet
  const gw = spawnIvgw(['run', '--broker', `mqtt://user:pw-not-for-logs@127.0.0.1:${port}`, '--data', join(dir, 'data'), '--no-record', '--seconds', '120']);
  t.teardown(() => gw.stop('SIGKILL'));
  const http = /HTTP (http:\/\/\S+) \(/.exec(await gw.waitFor(/HTTP http:\/\/\S+ \(/, 15_000))?.[1] as string;
  await gw.waitFor(/broker mqtt:\/\/user:\*\*\*@127\.0\.0\.1:\d+ not reachable .*retrying \(attempt 1\)/, 15_000);
  await sleep(2_500);
  t.is(gw.proc.exitCode, null, 'still running while the broker is away');
  const health = await get(`${http}/healthz`);
  t.is(health.status, 503);
  t.deepEqual(JSON.parse(health.text), { ok: false, reasons: [`signaling: not connected to the broker mqtt://user:***@127.0.0.1:${port} (start-up waits for it)`] });
  const metrics = await get(`${http}/metrics`);
  t.is(metrics.status, 200);
  t.regex(metrics.text, /^ivgw_camera_fps\{camera="[^"]+",channel="0"\} [1-9]/m, 'the cameras capture while the broker is away');
  const status = JSON.parse((await get(`${http}/api/status`)).text) as { device: { signaling: { connected: boolean } }; cameras: unknown[]; apps: unknown[] };
  t.false(status.device.signaling.connected);
  t.is(status.cameras.length, 2);
  t.deepEqual(status.apps, []);
  writeFileSync(join(dir, 'm.conf'), `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
  const mq = spawn('mosquitto', ['-c', join(dir, 'm.conf')], { stdio: 'ignore' });
  t.teardown(() => mq.kill('SIGKILL'));
  await gw.waitFor(/ivgw: device \S+ up; signaling/, 30_000);
  t.is((await get(`${http}/healthz`)).status, 200);
  t.deepEqual(await gw.stop('SIGINT'), { code: 0, signal: null });
  t.false(gw.raw.some((l) => l.includes('pw-not-for-logs')), 'the broker password is never logged');
});

test.serial('SIGINT while start-up waits for the broker: the recordings are closed and drained, then the gateway exits', async (t) => {
  const dir = tempDir(t);
  const { server, port } = await listening();
  await new Promise<void>((r) => server.close(() => r()));
  const gw = spawnIvgw(['run', '--broker', `mqtt://127.0.0.1:${port}`, '--data', join(dir, 'data'), '--seconds', '120']);
  t.teardown(() => gw.stop('SIGKILL'));
  await gw.waitFor(/not reachable .*retrying \(attempt 1\)/, 15_000);
  await sleep(4_000); // the demo cameras record a few segments
  const { code } = await gw.stop('SIGINT');
  const closed = gw.lines.filter((l) => /\[cloud [^\]]+\] closed; \d+ objects of the local recording not yet uploaded/.test(l));
  t.is(closed.length, 2, `both recordings drained:\n${gw.lines.slice(-15).join('\n')}`);
  t.not(code, null, 'exited by itself');
});

test.serial('with mosquitto, after apps connected and left, SIGINT and SIGTERM stop the gateway cleanly, 10 times in a row', async (t) => {
  const dir = tempDir(t);
  const mq = await startMosquitto(dir);
  t.teardown(() => mq.stop());
  const apps = new RemoteApps();
  t.teardown(() => apps.exit());
  const secret = 's3cret-for-this-test';
  const { mintToken } = await import('../../shared/protocol/access-token.js');
  for (let i = 0; i < 10; i++) {
    const gw = await startIvgw(['--broker', mq.url, '--device', 'stop-dev', '--secret', secret, '--no-record', '--seconds', '120']);
    const peer = `app-${i}`;
    const token = mintToken(secret, { deviceId: 'stop-dev', peerId: peer, expires: Math.floor(Date.now() / 1000) + 600, rights: ['live'] });
    await apps.connect(peer, { url: mq.url, deviceId: 'stop-dev', peerId: peer, token, bindAddress: '127.0.0.1' });
    const s = await apps.open(peer, `action=live&channel=${i % 2}`);
    await sleep(800);
    t.true((await apps.stats(peer, s)).videoFrames > 5, `run ${i}: the app streamed`);
    await apps.call('close', { client: peer });
    await sleep(i % 3 === 0 ? 0 : 300);
    const signal = i % 2 === 0 ? 'SIGINT' : 'SIGTERM';
    const exit = await gw.stop(signal, 20_000);
    t.deepEqual(exit, { code: 0, signal: null }, `run ${i} (${signal}): ${gw.lines.slice(-5).join('\n')}`);
    t.true(gw.lines.includes('ivgw: stopped'), `run ${i}: stopped in order`);
  }
});
