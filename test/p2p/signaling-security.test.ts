/**
 * Signaling security on the embedded broker (actors/p2p/broker-acl.ts): every client
 * authenticates (the device with its secret, an app with its peer id and token) and keeps
 * to its own topics. Against a running `ivgw run`: clients without credentials, with
 * another peer's token or a wrong device secret are refused; one subscribing to `#`,
 * another peer's `down` or the device's `up` topics receives nothing; one publishing on
 * another peer's or the device's topics is cut off; none of it reaches the device, and
 * the honest app keeps streaming.
 */
import test from 'ava';
import { connect, type MqttClient } from 'mqtt';
import type { Gateway } from '../helpers/gateway.js';
import { gatewayWithApps } from '../helpers/gateway-with-apps.js';
import type { RemoteApps } from '../helpers/remote-apps.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Connects; resolves with the client, or with the broker's refusal. */
function mqttAs(url: string, username?: string, password?: string): Promise<{ client: MqttClient } | { refused: Error & { code?: unknown } }> {
  return new Promise((resolve) => {
    const client = connect(url, { reconnectPeriod: 0, connectTimeout: 5_000, ...(username !== undefined ? { username } : {}), ...(password !== undefined ? { password } : {}) });
    client.once('connect', () => resolve({ client }));
    client.once('error', (err) => {
      client.end(true);
      resolve({ refused: err });
    });
  });
}

let gw: Gateway;
let apps: RemoteApps;
gatewayWithApps([], (g, a) => {
  gw = g;
  apps = a;
});

test.serial('clients without credentials, with another peer\'s token or a wrong device secret are refused by the broker', async (t) => {
  for (const [what, user, pass] of [
    ['no credentials', undefined, undefined],
    ['another peer\'s token', 'thief', gw.token('owner')],
    ['a made-up token', 'thief', 'iv1.e30.AAAA'],
    ['a wrong device secret', `device:${gw.deviceId}`, 'guess'],
    ['an expired token', 'late', gw.token('late', ['live'], -5)],
  ] as const) {
    const r = await mqttAs(gw.url, user, pass);
    t.true('refused' in r, `${what}: refused`);
    if ('refused' in r) {
      t.true(r.refused.code === 4 || r.refused.code === 5, `${what}: CONNACK ${String(r.refused.code)}`);
    } else {
      r.client.end(true);
    }
  }
  t.true(gw.log.some((l) => /\[broker\] refused connect/.test(l)), 'refusals are logged');
  t.false(gw.log.join('\n').includes(gw.token('owner').split('.')[2] as string), 'no token is logged');
});

test.serial('a token without live is admitted to its own topics until it expires, not longer: then the broker cuts its publish off', async (t) => {
  const r = await mqttAs(gw.url, 'cmdonly', gw.token('cmdonly', ['command'], 3));
  if (!('client' in r)) {
    t.fail(`refused: ${r.refused.message}`);
    return;
  }
  const c = r.client;
  t.teardown(() => c.end(true));
  const up = `iv/${gw.deviceId}/peer/cmdonly/up`;
  await c.publishAsync(up, JSON.stringify({ type: 'bye', peer: 'cmdonly' }), { qos: 1 });
  t.true(c.connected, 'publishing on its own topic while the token is valid');
  await sleep(4_500);
  const closed = new Promise<boolean>((resolve) => {
    c.once('close', () => resolve(true));
    setTimeout(() => resolve(false), 5_000);
  });
  c.publish(up, JSON.stringify({ type: 'bye', peer: 'cmdonly' }), { qos: 1 });
  t.true(await closed, 'the publish after the token expired ends the connection');
  t.true(gw.log.some((l) => /\[broker\] refused publish of app cmdonly/.test(l)), gw.log.filter((l) => l.includes('broker')).join('\n'));
});

test.serial('an authenticated app can neither read nor write anybody else\'s topics, and the honest app keeps streaming', async (t) => {
  const victim = 'victim';
  await apps.connect(victim, { url: gw.url, deviceId: gw.deviceId, peerId: victim, token: gw.token(victim), bindAddress: '127.0.0.1' });
  const stream = await apps.open(victim, 'action=live&channel=0');
  const snoop = await mqttAs(gw.url, 'snoop', gw.token('snoop'));
  if (!('client' in snoop)) {
    t.fail(`an app with a valid token connects: ${snoop.refused.message}`);
    return;
  }
  const got: string[] = [];
  snoop.client.on('message', (topic) => got.push(topic));
  const granted = await snoop.client.subscribeAsync(['#', `iv/${gw.deviceId}/peer/${victim}/down`, `iv/${gw.deviceId}/peer/+/up`, `iv/${gw.deviceId}/peer/+/down`])
    .then((g) => g.map((x) => x.qos), (err: { packet?: { granted?: number[] } }) => err.packet?.granted ?? []);
  t.deepEqual(granted, [128, 128, 128, 128], 'every foreign subscription is refused');
  const own = await snoop.client.subscribeAsync(`iv/${gw.deviceId}/peer/snoop/down`);
  t.is(own[0]?.qos, 0, 'its own down topic is allowed');
  // the victim reconnects (offer on its up, answer on its down) while the snoop listens
  await apps.call('close', { client: victim });
  await apps.connect('victim-2', { url: gw.url, deviceId: gw.deviceId, peerId: victim, token: gw.token(victim), bindAddress: '127.0.0.1' });
  const s2 = await apps.open('victim-2', 'action=live&channel=0');
  await sleep(1_000);
  t.deepEqual(got, [], 'the snoop received nothing of the victim\'s signaling');

  for (const topic of [`iv/${gw.deviceId}/peer/${victim}/up`, `iv/${gw.deviceId}/peer/${victim}/down`, `iv/other/peer/snoop/up`]) {
    const mallory = await mqttAs(gw.url, 'mallory', gw.token('mallory'));
    if (!('client' in mallory)) {
      t.fail('mallory connects');
      return;
    }
    const closed = new Promise<void>((r) => mallory.client.once('close', () => r()));
    mallory.client.publish(topic, JSON.stringify({ type: 'bye', peer: victim }), { qos: 1 });
    await Promise.race([closed, sleep(3_000)]);
    t.false(mallory.client.connected, `publishing on ${topic} gets the client cut off`);
    mallory.client.end(true);
  }
  await snoop.client.endAsync();
  await sleep(800);
  const s = await apps.stats('victim-2', s2);
  t.true(s.videoFrames > 30, `the honest app kept streaming: ${s.videoFrames} frames`);
  t.deepEqual(s.violations, []);
  t.false(gw.log.some((l) => /\[peer (snoop|mallory)\]/.test(l)), 'nothing of theirs reached the device');
  void stream;
});

test.serial('200 offers a second from one app are throttled (IV_ERR_BUSY with a reason) and the honest app keeps streaming', async (t) => {
  await apps.connect('honest', { url: gw.url, deviceId: gw.deviceId, peerId: 'honest', token: gw.token('honest'), bindAddress: '127.0.0.1' });
  const s = await apps.open('honest', 'action=live&channel=1');
  const flood = await mqttAs(gw.url, 'flood', gw.token('flood'));
  if (!('client' in flood)) {
    t.fail('the flooding app connects');
    return;
  }
  const down: { type?: string; code?: string; reason?: string }[] = [];
  flood.client.on('message', (_topic, p) => down.push(JSON.parse(p.toString()) as (typeof down)[number]));
  await flood.client.subscribeAsync(`iv/${gw.deviceId}/peer/flood/down`, { qos: 1 });
  const before = (await apps.stats('honest', s)).videoFrames;
  const token = gw.token('flood');
  for (let i = 0; i < 200; i++) {
    flood.client.publish(`iv/${gw.deviceId}/peer/flood/up`, JSON.stringify({ type: 'offer', peer: 'flood', token, requestId: `flood-${i}-${Date.now()}`, ts: Date.now(), sdp: 'v=0\r\n' }), { qos: 1 });
    if (i % 20 === 19) {
      await sleep(100);
    }
  }
  await sleep(2_000);
  const busy = down.filter((m) => m.type === 'refused' && m.code === 'IV_ERR_BUSY');
  t.true(busy.length >= 190, `${busy.length} of 200 offers refused as busy`);
  t.regex(busy[0]?.reason ?? '', /rate limit: peer flood/);
  const after = await apps.stats('honest', s);
  t.true(after.videoFrames - before > 40, `the honest app kept streaming: ${after.videoFrames - before} frames during the flood`);
  t.deepEqual(after.violations, []);
  await flood.client.endAsync();
});
