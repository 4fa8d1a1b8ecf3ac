/**
 * The device's MQTT client (actors/p2p/mqtt-connection.ts): on mqtt:// and mqtts:// it
 * opens its own socket, so the gateway's main thread never loads mqtt.js's SOCKS and
 * WebSocket clients; TLS still checks the broker's certificate and name, and refuses
 * loudly; every other way of reaching a broker goes through mqtt.js's own connect.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ownSocketKind } from '../../actors/p2p/mqtt-connection.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../actors/p2p/embedded-broker.js';
import { SignalingServer } from '../../actors/p2p/signaling.js';
import { generateCertificate } from '../../gateway/identity/device-identity.js';

const CHILD = fileURLToPath(new URL('../fixtures/mqtt-connection-child.js', import.meta.url));
const DEVICE = 'dev-mqtt-conn';
const SECRET = 'mqtt-conn-secret';
const handler = { offer: () => undefined, candidate: () => undefined, answer: () => undefined, bye: () => undefined };
const device = { username: `device:${DEVICE}`, password: SECRET };

test('signaling over mqtt:// and mqtts:// loads neither the SOCKS nor the WebSocket client', (t) => {
  const r = spawnSync(process.execPath, [CHILD], { encoding: 'utf8', timeout: 30_000 });
  t.is(r.status, 0, r.stderr);
  const m = JSON.parse(r.stdout) as { ready: string[]; packages: string[] };
  t.deepEqual(m.ready, ['mqtt:', 'mqtts:'], 'the device subscribed over both');
  t.true(m.packages.includes('mqtt'), m.packages.join(' '));
  for (const p of ['socks', 'ip-address', 'smart-buffer', 'ws']) {
    t.false(m.packages.includes(p), `${p} loaded: ${m.packages.join(' ')}`);
  }
});

test('the TLS path verifies the broker: a name the certificate lacks, or no CA, is refused with the TLS error', async (t) => {
  const { certificate, key } = await generateCertificate('localhost');
  const broker: EmbeddedBroker = await startEmbeddedBroker({ acl: { deviceId: DEVICE, secret: SECRET }, tls: { cert: certificate, key, listen: [{ host: '127.0.0.1', port: 0 }] } });
  t.teardown(() => broker.close());
  const byIp = broker.tlsUrl as string;
  const byName = byIp.replace('127.0.0.1', 'localhost');
  const attempt = async (url: string, tls: { ca?: string; rejectUnauthorized?: boolean }): Promise<string> => {
    const s = new SignalingServer({ url, deviceId: DEVICE, secret: SECRET, handler, connectOptions: { ...device, ...tls, reconnectPeriod: 0 } });
    try {
      await s.whenReady();
      return 'ready';
    } catch (err) {
      return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    } finally {
      await s.close();
    }
  };
  t.is(await attempt(byName, { ca: certificate }), 'ready', 'the CA and the name match');
  t.is(await attempt(byIp, { ca: certificate }), 'ERR_TLS_CERT_ALTNAME_INVALID', 'the IP address is not in the certificate');
  t.is(await attempt(byName, {}), 'DEPTH_ZERO_SELF_SIGNED_CERT', 'no CA: the self-signed certificate is not trusted');
  t.is(await attempt(byIp, { rejectUnauthorized: false }), 'ready', 'verification off, as the option says');
});

test('the options mqtt.js itself must handle go to its own connect, and signaling still works over ws://', async (t) => {
  t.is(ownSocketKind('mqtt://127.0.0.1:1883', {}, {}), 'tcp');
  t.is(ownSocketKind('tcp://broker.example', {}, {}), 'tcp');
  t.is(ownSocketKind('mqtts://[::1]:8883', { ca: 'x' }, {}), 'tls');
  t.is(ownSocketKind('ssl://broker.example', {}, {}), 'tls');
  t.is(ownSocketKind('ws://127.0.0.1:8080/mqtt', {}, {}), undefined, 'WebSocket');
  t.is(ownSocketKind('mqtt://u:p@127.0.0.1', {}, {}), undefined, 'credentials in the URL');
  t.is(ownSocketKind('mqtt://127.0.0.1?clientId=x', {}, {}), undefined, 'a query');
  t.is(ownSocketKind('mqtt://127.0.0.1', { socksProxy: 'socks5://127.0.0.1:1080' }, {}), undefined, 'a SOCKS proxy option');
  t.is(ownSocketKind('mqtt://127.0.0.1', {}, { MQTTJS_SOCKS_PROXY: 'socks5://127.0.0.1:1080' }), undefined, 'a SOCKS proxy in the environment');
  t.is(ownSocketKind('mqtt://127.0.0.1', { servers: [{ host: 'a', port: 1 }] }, {}), undefined, 'a server list');
  t.is(ownSocketKind('mqtt://127.0.0.1', { port: 1884 }, {}), undefined, 'a port beside the URL');
  t.is(ownSocketKind('mqtt://127.0.0.1', { cert: 'c', key: 'k' }, {}), undefined, 'a client certificate on mqtt://, which mqtt.js makes mqtts://');
  t.is(ownSocketKind('not a url', {}, {}), undefined);
  const broker = await startEmbeddedBroker({ acl: { deviceId: DEVICE, secret: SECRET }, websocket: [{ host: '127.0.0.1', port: 0 }] });
  t.teardown(() => broker.close());
  const s = new SignalingServer({ url: broker.wsUrls[0] as string, deviceId: DEVICE, secret: SECRET, handler, connectOptions: device });
  await s.whenReady();
  await s.close();
  t.pass();
});
