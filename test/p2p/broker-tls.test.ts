/**
 * The embedded broker also listens with TLS (mqtts) from the config's certificate files,
 * so tokens never cross a network in clear: an app authenticates over mqtts, and the TLS
 * port does not speak plain MQTT.
 */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'mqtt';
import { mintToken } from '../../shared/protocol/access-token.js';
import { generateCertificate } from '../../gateway/identity/device-identity.js';
import { startIvgw } from '../helpers/ivgw-process.js';
import { tempDir } from '../helpers/media.js';
import { readFileSync } from 'node:fs';

test('an app signals over mqtts with its token; plain MQTT on the TLS port gets nowhere', async (t) => {
  const dir = tempDir(t);
  const { certificate, key } = await generateCertificate('broker');
  writeFileSync(join(dir, 'broker.crt'), certificate);
  writeFileSync(join(dir, 'broker.key'), key);
  writeFileSync(join(dir, 'ivgw.yaml'), `device: { id: tls-dev, data: data }
cameras: [{ name: cam, source: "file:${join(dir, 'x.h264')}", video: h264, recording: off }]
signaling: { embedded: { listen: ["127.0.0.1:0"], tls: { cert: broker.crt, key: broker.key, listen: ["127.0.0.1:0"] } } }
`);
  writeFileSync(join(dir, 'x.h264'), readFileSync(new URL('../../../actors/capture/samples/demo-h264.h264', import.meta.url)));
  const gw = await startIvgw(['--config', join(dir, 'ivgw.yaml'), '--seconds', '60']);
  t.teardown(() => gw.stop('SIGKILL'));
  const line = await gw.waitFor(/TLS mqtts:\/\//);
  const tlsUrl = /TLS (mqtts:\/\/\S+)/.exec(line)?.[1] as string;
  const secret = (JSON.parse(readFileSync(join(dir, 'data', 'device.json'), 'utf8')) as { secret: string }).secret;
  const token = mintToken(secret, { deviceId: 'tls-dev', peerId: 'phone', expires: Math.floor(Date.now() / 1000) + 60, rights: ['live'] });
  const app = connect(tlsUrl, { username: 'phone', password: token, rejectUnauthorized: false, reconnectPeriod: 0, connectTimeout: 5_000 });
  await new Promise<void>((resolve, reject) => {
    app.once('connect', () => resolve());
    app.once('error', reject);
  });
  const granted = await app.subscribeAsync('iv/tls-dev/peer/phone/down');
  t.is(granted[0]?.qos, 0, 'authenticated over TLS');
  await app.endAsync();
  const plain = connect(tlsUrl.replace('mqtts:', 'mqtt:'), { username: 'phone', password: token, reconnectPeriod: 0, connectTimeout: 2_000 });
  const plainResult = await new Promise<string>((resolve) => {
    plain.once('connect', () => resolve('connected'));
    plain.once('error', () => resolve('error'));
    plain.once('close', () => resolve('closed'));
  });
  plain.end(true);
  t.not(plainResult, 'connected');
  t.deepEqual(await gw.stop('SIGTERM'), { code: 0, signal: null });
});
