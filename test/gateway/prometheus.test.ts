/**
 * Operating a gateway the way an operator does: Debian's Prometheus scrapes `ivgw run`
 * (external mosquitto with a password, a local recording), a PromQL query over
 * Prometheus' HTTP API sees the apps-connected gauge go 0 → 1 → 0 as an app connects and
 * leaves, `/metrics` counts the memory look's code-page drops (`memory.trimEvery: 1s`)
 * and the collections and trim after the app left (`memory.trimAfterLeave`),
 * `/healthz` turns 503 (with the reason) when the broker goes away and 200 when it
 * is back, and nothing the run wrote — JSON log lines included — holds the device secret,
 * the broker password or the app's token.
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { freePort } from '../helpers/free-port.js';
import { join } from 'node:path';
import { IVGW } from '../helpers/gateway.js';
import { startIvgw } from '../helpers/ivgw-process.js';
import { parseRecord } from '../helpers/log-lines.js';
import { tempDir } from '../helpers/media.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { RemoteApps } from '../helpers/remote-apps.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) {
      return v;
    }
    if (Date.now() > end) {
      throw new Error(`no ${what} within ${timeoutMs} ms`);
    }
    await sleep(250);
  }
}

test('Prometheus sees apps connected go 0 → 1 → 0; /healthz follows the broker; no secret in the output', async (t) => {
  const dir = tempDir(t);
  chmodSync(dir, 0o755);
  const secret = 'prom-test-device-secret-0123456789';
  const brokerPassword = 'prom-test-broker-password';
  const device = 'prom-dev';
  const passwords = join(dir, 'passwd');
  writeFileSync(passwords, '');
  t.is(spawnSync('mosquitto_passwd', ['-b', passwords, 'ivgw', brokerPassword]).status, 0);
  const acl = join(dir, 'acl');
  writeFileSync(acl, `user ivgw\ntopic read iv/${device}/peer/+/up\ntopic write iv/${device}/peer/+/down\npattern write iv/+/peer/%u/up\npattern read iv/+/peer/%u/down\n`);
  chmodSync(passwords, 0o644);
  const mq = await startMosquitto(dir, [], { passwordFile: passwords, aclFile: acl });
  let broker = mq.proc;
  t.teardown(() => broker.kill('SIGKILL'));
  const httpPort = await freePort();
  writeFileSync(join(dir, 'ivgw.yaml'), `device: { id: ${device}, data: data }
cameras: [{ name: cam, source: test:testsrc2, recording: full-time }]
signaling: { external: { url: "${mq.url}", username: ivgw, password: "\${BROKER_PASSWORD}" } }
cloud: { local: { dir: data/cloud } }
http: { listen: "127.0.0.1:${httpPort}" }
memory: { trimEvery: 1s }
`);
  const gw = await startIvgw(['--config', join(dir, 'ivgw.yaml'), '--secret', secret, '--seconds', '180', '--log-level', 'debug'], { env: { BROKER_PASSWORD: brokerPassword }, configHttp: true });
  t.teardown(() => gw.stop('SIGKILL'));
  const http = `http://127.0.0.1:${httpPort}`;
  await gw.waitFor(/\[cam\] source-up/, 30_000);

  // Prometheus from Debian, scraping every second
  const promPort = await freePort();
  writeFileSync(join(dir, 'prometheus.yml'), `global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: ivgw
    static_configs: [{ targets: ["127.0.0.1:${httpPort}"] }]
`);
  const prom = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${promPort}`], { stdio: 'ignore' });
  t.teardown(() => prom.kill('SIGKILL'));
  const promApi = `http://127.0.0.1:${promPort}/api/v1`;
  const appsNow = async (): Promise<number | undefined> => {
    const r = await (await fetch(`${promApi}/query?query=ivgw_p2p_apps_connected`)).json() as { data: { result: { value: [number, string] }[] } };
    const v = r.data.result[0]?.value[1];
    return v === undefined ? undefined : Number(v);
  };
  t.is(await until('a first scrape', appsNow, 30_000), 0, 'no app yet');
  const t0 = Date.now() / 1000;

  const apps = new RemoteApps();
  t.teardown(() => apps.exit());
  const token = JSON.parse(spawnSync(process.execPath, [IVGW, 'token', '--device', device, '--secret', secret, '--peer', 'phone', '--json'], { encoding: 'utf8' }).stdout) as { token: string };
  // with mosquitto's ACL the app logs in as its peer id with its token (docs/DEPLOY.md)
  writeFileSync(passwords, '');
  for (const [u, p] of [['ivgw', brokerPassword], ['phone', token.token]] as const) {
    spawnSync('mosquitto_passwd', ['-b', passwords, u, p]);
  }
  broker.kill('SIGHUP'); // mosquitto reloads the password file
  await sleep(300);
  await apps.connect('phone', { url: mq.url, deviceId: device, peerId: 'phone', token: token.token });
  const s = await apps.open('phone', 'action=live&channel=0');
  t.is(await until('apps connected = 1', async () => ((await appsNow()) === 1 ? 1 : undefined), 20_000), 1);
  t.true(await until('video at the app', async () => ((await apps.stats('phone', s)).videoFrames > 0 ? true : undefined), 10_000), 'the app streams');
  await apps.call('close', { client: 'phone' });
  t.is(await until('apps connected = 0 again', async () => ((await appsNow()) === 0 ? 0 : undefined), 20_000), 0);
  await sleep(2_500); // a step of the range query after the scrape that saw 0
  const range = await (await fetch(`${promApi}/query_range?query=ivgw_p2p_apps_connected&start=${t0 - 2}&end=${Date.now() / 1000}&step=1`)).json() as { data: { result: { values: [number, string][] }[] } };
  const seen = (range.data.result[0]?.values ?? []).map(([, v]) => Number(v)).filter((v, i, a) => i === 0 || v !== a[i - 1]);
  t.deepEqual(seen, [0, 1, 0], 'the gauge over time, as PromQL returns it');
  // the app left: 2 s later (memory.trimAfterLeave) the p2p worker and the main thread collect, then the trim
  const afterLeave = await until('a release after the app left', async () => {
    const m = /^ivgw_memory_after_leave_releases_total (\d+)$/m.exec(await (await fetch(`${http}/metrics`)).text());
    return m && Number(m[1]) >= 1 ? Number(m[1]) : undefined;
  }, 15_000);
  const metrics = await (await fetch(`${http}/metrics`)).text();
  const releaseSeconds = Number(/^ivgw_memory_after_leave_release_seconds_total (\S+)$/m.exec(metrics)?.[1]);
  t.log(`after the app left: ${afterLeave} release(s), ${(releaseSeconds * 1000).toFixed(1)} ms collecting`);
  t.true(releaseSeconds > 0 && releaseSeconds < 2, 'the collections took a measured, short time');
  t.regex(metrics, /^ivgw_memory_after_leave_trims_total [1-9]/m, 'and the trim followed');
  t.regex(metrics, /ivgw_p2p_connect_seconds_count 1\b/, 'the connect time was observed');
  t.regex(metrics, /ivgw_p2p_first_frame_seconds_count [1-9]/, 'the first frame time was observed');
  t.regex(metrics, /ivgw_camera_fps\{camera="cam",channel="0"\} [1-9]/);
  t.regex(metrics, /ivgw_cloud_segments_accepted\{camera="cam"\} [1-9]/);
  // the memory look every second: it ran, and gave code pages back (memory.dropIdleCode is on by default)
  const count = (name: string): number => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(metrics)?.[1] ?? NaN);
  t.log(`memory looks: ${count('ivgw_memory_looks_total')}, trims ${count('ivgw_memory_trims_total')}, code drops ${count('ivgw_memory_code_drops_total')} (${(count('ivgw_memory_code_dropped_bytes_total') / 1e6).toFixed(1)} MB)`);
  t.true(count('ivgw_memory_looks_total') >= 4, 'the look runs every trimEvery');
  t.true(count('ivgw_memory_code_drops_total') >= 4, 'and drops idle code pages at each');
  t.true(count('ivgw_memory_code_dropped_bytes_total') > 1e6, 'megabytes of them');

  // the broker goes away, and comes back
  t.is((await fetch(`${http}/healthz`)).status, 200);
  broker.kill('SIGKILL');
  const down = await until('503', async () => {
    const r = await fetch(`${http}/healthz`);
    return r.status === 503 ? await r.json() as { ok: boolean; reasons: string[] } : undefined;
  }, 20_000);
  t.false(down.ok);
  t.true(down.reasons.some((r) => r.startsWith('signaling: not connected')), down.reasons.join('; '));
  broker = spawn('mosquitto', ['-c', join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
  await until('200 again', async () => ((await fetch(`${http}/healthz`)).status === 200 ? true : undefined), 30_000);

  t.deepEqual(await gw.stop('SIGTERM'), { code: 0, signal: null });
  const output = gw.raw.join('\n');
  for (const [what, value] of [['device secret', secret], ['broker password', brokerPassword], ['app token', token.token]] as const) {
    t.false(output.includes(value), `the ${what} is not in the output`);
  }
  const records = gw.raw.map(parseRecord).filter((r) => r !== undefined);
  t.true(records.length > 20 && records.length >= gw.raw.filter((l) => l.trim() !== '').length - 1, 'every line is a JSON record (stdout is not a terminal)');
  t.true(records.every((r) => typeof r.time === 'number' && typeof r.component === 'string'), 'each with a time and a component');
  t.true(records.some((r) => r.component === 'peer phone' && r.event === 'connected' && typeof r.connectMs === 'number'), 'an app connecting is one record with fields');
});
