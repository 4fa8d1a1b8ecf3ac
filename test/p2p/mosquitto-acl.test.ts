/**
 * An external mosquitto set up as docs/DEPLOY.md says (password file: the device's MQTT
 * user and each app by peer id with its token as password; a pattern ACL): the gateway
 * signals through it with its config's credentials, the honest app streams, an
 * unregistered client is refused, and a registered app cannot read or write another
 * peer's signaling.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'mqtt';
import { mintToken } from '../../shared/protocol/access-token.js';
import { startIvgw } from '../helpers/ivgw-process.js';
import { tempDir } from '../helpers/media.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { RemoteApps } from '../helpers/remote-apps.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('with mosquitto\'s password file and pattern ACL, apps reach only their own topics and the honest app streams', async (t) => {
  const dir = tempDir(t);
  const secret = 'acl-test-device-secret';
  const device = 'acl-dev';
  const mint = (peer: string) => mintToken(secret, { deviceId: device, peerId: peer, expires: Math.floor(Date.now() / 1000) + 3600, rights: ['live'] });
  const tokens = { phone: mint('phone'), snoop: mint('snoop') }; // the backend registers each app's token as its password
  const tok = (peer: 'phone' | 'snoop') => tokens[peer];
  const passwords = join(dir, 'passwd');
  writeFileSync(passwords, '');
  for (const [user, pass] of [['ivgw-acl-dev', 'device-mqtt-password'], ['phone', tok('phone')], ['snoop', tok('snoop')]] as const) {
    const r = spawnSync('mosquitto_passwd', ['-b', passwords, user, pass], { encoding: 'utf8' });
    t.is(r.status, 0, r.stderr);
  }
  const acl = join(dir, 'acl');
  writeFileSync(acl, `# the gateway
user ivgw-acl-dev
topic read iv/${device}/peer/+/up
topic write iv/${device}/peer/+/down

# every app: its own topics only (%u = user name = peer id)
pattern write iv/+/peer/%u/up
pattern read iv/+/peer/%u/down
`);
  // mosquitto started as root drops to its own user: it must be able to read both files
  chmodSync(dir, 0o755);
  chmodSync(passwords, 0o644);
  const mq = await startMosquitto(dir, [], { passwordFile: passwords, aclFile: acl });
  t.teardown(() => mq.stop());
  writeFileSync(join(dir, 'ivgw.yaml'), `device: { id: ${device}, data: data }
cameras: [{ name: cam, source: test:testsrc2, recording: off }]
signaling: { external: { url: "${mq.url}", username: ivgw-acl-dev, password: "\${DEVICE_MQTT_PASSWORD}" } }
`);
  const gw = await startIvgw(['--config', join(dir, 'ivgw.yaml'), '--secret', secret, '--seconds', '120'], { env: { DEVICE_MQTT_PASSWORD: 'device-mqtt-password' } });
  t.teardown(() => gw.stop('SIGKILL'));
  const apps = new RemoteApps();
  t.teardown(() => apps.exit());

  const anonymous = await new Promise<string>((resolve) => {
    const c = connect(mq.url, { reconnectPeriod: 0, username: 'stranger', password: 'x' });
    c.once('connect', () => resolve('connected'));
    c.once('error', (e: Error & { code?: unknown }) => resolve(`refused ${String(e.code)}`));
  });
  t.regex(anonymous, /^refused [45]$/, 'a client not in the password file is refused');

  const snoop = connect(mq.url, { username: 'snoop', password: tok('snoop'), reconnectPeriod: 0 });
  await new Promise((resolve, reject) => {
    snoop.once('connect', resolve);
    snoop.once('error', reject);
  });
  const seen: string[] = [];
  snoop.on('message', (topic) => seen.push(topic));
  await snoop.subscribeAsync(['#', `iv/${device}/peer/phone/down`, `iv/${device}/peer/+/up`]).catch(() => undefined);

  await apps.connect('phone', { url: mq.url, deviceId: device, peerId: 'phone', token: tok('phone'), bindAddress: '127.0.0.1' });
  const s = await apps.open('phone', 'action=live&channel=0');
  snoop.publish(`iv/${device}/peer/phone/up`, JSON.stringify({ type: 'bye', peer: 'phone' }), { qos: 1 });
  snoop.publish(`iv/${device}/peer/phone/down`, JSON.stringify({ type: 'bye', reason: 'forged' }), { qos: 1 });
  await sleep(2_500);
  t.deepEqual(seen, [], 'the snoop read nothing of the phone\'s or the device\'s signaling');
  const stats = await apps.stats('phone', s);
  t.true(stats.videoFrames > 30, `the phone streams: ${stats.videoFrames} frames`);
  t.false(gw.lines.some((l) => /\[peer phone\] closed/.test(l)), 'the forged byes reached nobody');
  await snoop.endAsync();
  await apps.call('close', { client: 'phone' });
  t.deepEqual(await gw.stop('SIGINT'), { code: 0, signal: null });
});
