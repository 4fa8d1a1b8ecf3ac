/**
 * MQTT over WebSocket on the embedded broker (actors/p2p/embedded-broker.ts), the way a
 * browser reaches it: mqtt.js over `ws://` with an app's peer id and token connects and is
 * held to the same topic ACL as on TCP (another peer's `down` delivers nothing, a publish
 * elsewhere cuts it off); a wrong token is refused. The config's
 * `signaling.embedded.websocket` is validated at its path, and `ivgw run` on embedded
 * defaults gets a listener on 127.0.0.1.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { connect, type MqttClient } from 'mqtt';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../actors/p2p/embedded-broker.js';
import { mintToken } from '../../shared/protocol/access-token.js';
import { downTopic, upTopic } from '../../shared/protocol/signaling-messages.js';
import { ConfigError, loadConfig } from '../../gateway/config/load.js';
import { optionsFromConfig } from '../../bin/run-config.js';
import { applyRunFlags } from '../../bin/run-flags.js';
import { tempDir } from '../helpers/media.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const deviceId = 'ws-dev';
const secret = 'ws-secret-0123456789';
const token = (peer: string, ttlS = 600) => mintToken(secret, { deviceId, peerId: peer, expires: Math.floor(Date.now() / 1000) + ttlS, rights: ['live'] });

function mqttAs(url: string, username: string, password: string): Promise<{ client: MqttClient } | { refused: Error & { code?: unknown } }> {
  return new Promise((resolve) => {
    const client = connect(url, { reconnectPeriod: 0, connectTimeout: 5_000, username, password });
    client.once('connect', () => resolve({ client }));
    client.once('error', (err) => {
      client.end(true);
      resolve({ refused: err });
    });
  });
}

let broker: EmbeddedBroker;
const refusals: string[] = [];
test.before(async () => {
  broker = await startEmbeddedBroker({ port: 0, websocket: [{ host: '127.0.0.1', port: 0 }], acl: { deviceId, secret, onRefused: (what, who, detail) => refusals.push(`${what} ${who} ${detail}`) } });
});
test.after.always(async () => {
  await broker?.close();
});

test.serial('an app over ws:// with its token connects, reads its own down and nobody else\'s; a publish elsewhere cuts it off', async (t) => {
  t.is(broker.wsUrls.length, 1);
  t.regex(broker.wsUrls[0] ?? '', /^ws:\/\/127\.0\.0\.1:\d+$/);
  const ws = broker.wsUrls[0] as string;
  const device = await mqttAs(broker.url, `device:${deviceId}`, secret); // the device on TCP
  const app = await mqttAs(ws, 'alice', token('alice'));
  if (!('client' in device) || !('client' in app)) {
    t.fail('device and app connect');
    return;
  }
  const got: string[] = [];
  app.client.on('message', (topic, payload) => got.push(`${topic} ${payload.toString()}`));
  const own = await app.client.subscribeAsync(downTopic(deviceId, 'alice'), { qos: 1 });
  t.is(own[0]?.qos, 1, 'its own down topic is granted');
  const foreign = await app.client.subscribeAsync([downTopic(deviceId, 'bob'), '#', `iv/${deviceId}/peer/+/up`])
    .then((g) => g.map((x) => x.qos), (err: { packet?: { granted?: number[] } }) => err.packet?.granted ?? []);
  t.deepEqual(foreign, [128, 128, 128], 'foreign subscriptions are refused in the SUBACK');
  // the device reads the app's up over the other transport
  const ups: string[] = [];
  device.client.on('message', (topic) => ups.push(topic));
  await device.client.subscribeAsync(`iv/${deviceId}/peer/+/up`, { qos: 1 });
  await app.client.publishAsync(upTopic(deviceId, 'alice'), '{"type":"bye","peer":"alice"}', { qos: 1 });
  await device.client.publishAsync(downTopic(deviceId, 'bob'), 'for bob', { qos: 1 });
  await device.client.publishAsync(downTopic(deviceId, 'alice'), 'for alice', { qos: 1 });
  await sleep(300);
  t.deepEqual(got, [`${downTopic(deviceId, 'alice')} for alice`], 'only its own down arrives');
  t.deepEqual(ups, [upTopic(deviceId, 'alice')], 'the device got the app\'s up');
  // publishing on another peer's up disconnects it, as on TCP
  const closed = new Promise<void>((r) => app.client.once('close', () => r()));
  app.client.publish(upTopic(deviceId, 'bob'), 'forged', { qos: 1 });
  await Promise.race([closed, sleep(3_000).then(() => t.fail('the forger was not disconnected'))]);
  t.true(refusals.some((r) => r.startsWith('publish app alice')), refusals.join('\n'));
  app.client.end(true);
  device.client.end(true);
});

test.serial('over ws:// a wrong, foreign or expired token is refused (CONNACK 4/5)', async (t) => {
  const ws = broker.wsUrls[0] as string;
  for (const [what, user, pass] of [
    ['a made-up token', 'mallory', 'iv1.e30.AAAA'],
    ['another peer\'s token', 'mallory', token('alice')],
    ['an expired token', 'late', token('late', -5)],
    ['a wrong device secret', `device:${deviceId}`, 'guess'],
  ] as const) {
    const r = await mqttAs(ws, user, pass);
    t.true('refused' in r, `${what}: refused`);
    if ('refused' in r) {
      t.true(r.refused.code === 4 || r.refused.code === 5, `${what}: CONNACK ${String(r.refused.code)}`);
    } else {
      r.client.end(true);
    }
  }
});

test.serial('a plain HTTP request to the WebSocket listener gets 426', async (t) => {
  const r = await fetch((broker.wsUrls[0] as string).replace('ws:', 'http:'));
  t.is(r.status, 426);
});

test('signaling.embedded.websocket: parsed, defaulted to port 8083, problems at their path; ivgw run defaults and --ws-port', (t) => {
  const dir = tempDir(t);
  const good = join(dir, 'good.yaml');
  writeFileSync(good, 'device: { id: w1 }\ncameras: [{ name: c, source: "test:testsrc2", recording: off }]\nsignaling: { embedded: { websocket: [127.0.0.1, "0.0.0.0:9001"] } }\n');
  const c = loadConfig(good);
  t.like(c.signaling, { kind: 'embedded', websocket: [{ host: '127.0.0.1', port: 8083 }, { host: '0.0.0.0', port: 9001 }] });
  const opts = optionsFromConfig(c);
  t.deepEqual(opts.brokerWebsocket, [{ host: '127.0.0.1', port: 8083 }, { host: '0.0.0.0', port: 9001 }]);
  const over = applyRunFlags({ 'ws-port': '0' }, opts);
  t.true(typeof over !== 'number' && over.brokerWebsocket?.[0]?.port === 0 && over.brokerWebsocket[1]?.port === 9001, '--ws-port overrides the first listener');
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'device: { id: w1 }\ncameras: [{ name: c, source: "test:testsrc2" }]\nsignaling: { embedded: { websocket: [127.0.0.1:8083, "nowhere:99999"] } }\n');
  const err = t.throws<ConfigError>(() => loadConfig(bad), { instanceOf: ConfigError });
  t.deepEqual(err.problems.map((p) => p.path), ['signaling.embedded.websocket[1]']);
  t.regex(err.problems[0]?.message ?? '', /expected HOST:PORT/);
  // no config: embedded defaults get a WebSocket listener on loopback; a config without one, none
  const demo = applyRunFlags({}, { seconds: undefined });
  t.true(typeof demo !== 'number' && demo.brokerWebsocket?.length === 1 && demo.brokerWebsocket[0]?.host === '127.0.0.1');
  const fixed = applyRunFlags({ 'ws-port': '8090' }, { seconds: undefined });
  t.true(typeof fixed !== 'number' && fixed.brokerWebsocket?.[0]?.port === 8090);
  const external = applyRunFlags({ broker: 'mqtt://127.0.0.1:1883' }, { seconds: undefined });
  t.true(typeof external !== 'number' && external.brokerWebsocket === undefined, 'an external broker: no embedded listener');
  writeFileSync(join(dir, 'none.yaml'), 'device: { id: w1 }\ncameras: [{ name: c, source: "test:testsrc2", recording: off }]\n');
  const none = applyRunFlags({}, optionsFromConfig(loadConfig(join(dir, 'none.yaml'))));
  t.true(typeof none !== 'number' && none.brokerWebsocket === undefined, 'a config without websocket: none');
  t.is(applyRunFlags({ 'ws-port': '70000' }, { seconds: undefined }), 2);
});
