/**
 * The device identity as a deployment depends on it: `ivgw run --data DIR` creates
 * DIR/device.json once and keeps it, never prints the secret, tokens minted before a
 * restart work after it, every peer connection presents the device certificate (an app
 * pinning its fingerprint connects), and a forged answer on the app's `down` topic gets
 * nowhere with a pinned app.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'mqtt';
import { generateCertificate, certificateFingerprint } from '../../gateway/identity/device-identity.js';
import { pinProblem, sdpFingerprints } from '../../shared/protocol/fingerprint-pin.js';
import { IVGW } from '../helpers/gateway.js';
import { startIvgw } from '../helpers/ivgw-process.js';
import { tempDir } from '../helpers/media.js';
import { RemoteApps } from '../helpers/remote-apps.js';
import { startMosquitto } from '../helpers/mosquitto.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function token(dataDir: string, peer: string): { token: string; fingerprint: string; device: string } {
  const r = spawnSync(process.execPath, [IVGW, 'token', '--data', dataDir, '--peer', peer, '--ttl', '1h', '--json'], { encoding: 'utf8', env: { ...process.env, IVGW_DEVICE_ID: '', IVGW_DEVICE_SECRET: '' } });
  if (r.status !== 0) {
    throw new Error(r.stderr);
  }
  return JSON.parse(r.stdout) as { token: string; fingerprint: string; device: string };
}

test.serial('a persistent identity: created once, secret never printed, tokens survive a restart, apps pin the certificate', async (t) => {
  const data = join(tempDir(t), 'data');
  const apps = new RemoteApps();
  t.teardown(() => apps.exit());
  let gw = await startIvgw(['--data', data, '--mqtt-port', '0', '--no-record', '--seconds', '300']);
  t.teardown(() => gw.stop('SIGKILL'));
  const file = join(data, 'device.json');
  t.is(statSync(file).mode & 0o777, 0o600);
  const identity = JSON.parse(readFileSync(file, 'utf8')) as { id: string; secret: string; certificate: string };
  t.is(identity.id, 'ivgw-demo');
  const before = token(data, 'phone');
  t.is(before.fingerprint, certificateFingerprint(identity.certificate));
  t.regex(await gw.waitFor(/DTLS certificate fingerprint/), new RegExp(before.fingerprint), 'ivgw run prints the certificate fingerprint');
  const options = (url: string, tok: string, fingerprint?: string) => ({ url, deviceId: before.device, peerId: 'phone', token: tok, bindAddress: '127.0.0.1', timeoutMs: 8_000, ...(fingerprint ? { fingerprint } : {}) });
  await apps.connect('a1', options(gw.url, before.token, before.fingerprint));
  const s1 = await apps.open('a1', 'action=live&channel=0');
  await sleep(1_500);
  t.true((await apps.stats('a1', s1)).videoFrames > 10, 'a pinned app streams');
  await apps.call('close', { client: 'a1' });
  t.deepEqual(await gw.stop('SIGTERM'), { code: 0, signal: null }, gw.lines.slice(-8).join('\n'));
  t.false(gw.lines.join('\n').includes(identity.secret), 'the secret is never printed');

  // the second run uses an external broker without ACLs (the case pinning protects)
  const mq = await startMosquitto(tempDir(t));
  t.teardown(() => mq.stop());
  gw = await startIvgw(['--data', data, '--broker', mq.url, '--no-record', '--seconds', '300']);
  t.false(gw.lines.some((l) => /created the device identity/.test(l)), 'the second start keeps the identity');
  t.is((JSON.parse(readFileSync(file, 'utf8')) as { secret: string }).secret, identity.secret);
  await apps.connect('a2', options(gw.url, before.token, before.fingerprint));
  const s2 = await apps.open('a2', 'action=live&channel=1');
  await sleep(1_500);
  t.true((await apps.stats('a2', s2)).videoFrames > 10, 'the token minted before the restart works after it');
  await apps.call('close', { client: 'a2' });

  const other = certificateFingerprint((await generateCertificate('impostor')).certificate);
  const err = await t.throwsAsync(apps.connect('a3', options(gw.url, before.token, other)));
  t.is((err as { code?: string }).code, 'IV_ERR_AUTH_INVALID', 'an app pinning another certificate refuses the device');
  t.regex(err?.message ?? '', /not the pinned/);

  // a forger who can read the app's offer (a broker without ACLs) answers it first with its own certificate
  const forger = connect(gw.url, { clientId: 'forger' });
  await forger.subscribeAsync(`iv/${before.device}/peer/+/up`);
  let forged = 0;
  forger.on('message', (topic, payload) => {
    const m = JSON.parse(payload.toString()) as { type?: string; peer?: string; requestId?: string; sdp?: string };
    if (m.type === 'offer' && m.sdp) {
      const sdp = m.sdp.replace(/^a=fingerprint:.*$/m, `a=fingerprint:${other}`).replace(/a=setup:(actpass|active)/, (_, role: string) => `a=setup:${role === 'actpass' ? 'active' : 'passive'}`); // a well-formed answer
      forged++;
      forger.publish(topic.replace(/\/up$/, '/down'), JSON.stringify({ type: 'answer', requestId: m.requestId, sdp }));
    }
  });
  await apps.connect('a4', options(gw.url, before.token, before.fingerprint));
  const s4 = await apps.open('a4', 'action=live&channel=0');
  await sleep(1_500);
  t.true(forged > 0, 'the forger answered');
  t.true((await apps.stats('a4', s4)).videoFrames > 10, 'the pinned app ignored the forged answer and streams from the device');
  await forger.endAsync();
  t.deepEqual(await gw.stop('SIGTERM'), { code: 0, signal: null }, gw.lines.slice(-8).join('\n'));
});

test('pinning compares every a=fingerprint of a description, in any letter case', (t) => {
  const fp = 'sha-256 AB:CD:EF:01';
  const sdp = 'v=0\r\na=fingerprint:SHA-256 ab:cd:ef:01\r\nm=application 9\r\na=fingerprint:sha-256 AB:CD:EF:01\r\n';
  t.deepEqual(sdpFingerprints(sdp), [fp, fp]);
  t.is(pinProblem(sdp, fp), undefined);
  t.is(pinProblem(sdp, undefined), undefined, 'nothing pinned: anything goes');
  t.regex(pinProblem(sdp.replace('ab:cd:ef:01', '00:11:22:33'), fp) ?? '', /00:11:22:33 is not the pinned/);
  t.regex(pinProblem('v=0\r\n', fp) ?? '', /no a=fingerprint/);
  t.regex(pinProblem(sdp, 'md5 zz') ?? '', /not "sha-256/);
});
