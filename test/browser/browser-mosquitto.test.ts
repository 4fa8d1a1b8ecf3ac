/**
 * The viewer page over an external broker: Debian's mosquitto set up as docs/DEPLOY.md
 * says (password file, ACL, a websockets listener next to the TCP one), `ivgw run`
 * connected to it over TCP, the page (served by the gateway) over WebSocket with its peer
 * id and token as credentials. Live H.264 plays and a command comes back, while another
 * app logged in over the same websockets listener, subscribed to the page's topics, reads
 * nothing of it (the ACL applies there too); a token mosquitto does not know for that peer
 * is refused and the page says why in words; with the gateway stopped the page says the
 * device is offline.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import mqtt from 'mqtt';
import { chromium } from 'playwright-core';
import { SAMPLE } from '../../actors/capture/index.js';
import { mintToken } from '../../shared/protocol/access-token.js';
import { GatewayHttpServer } from '../../gateway/http-server.js';
import { CHROMIUM, WWW } from '../helpers/browser.js';
import { freePort } from '../helpers/free-port.js';
import { startIvgw } from '../helpers/ivgw-process.js';
import { startMosquitto } from '../helpers/mosquitto.js';

const DEVICE = 'mq-browser-dev';
const SECRET = 'browser-mosquitto-test-secret-0123456789';

test('through mosquitto\'s websockets listener with password file and ACL: the page streams and commands; an unknown token is refused in words; a stopped device is offline', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ivgw-browser-mq-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755);
  const brokerPassword = 'browser-mq-broker-password';
  const peer = 'webapp';
  const token = mintToken(SECRET, { deviceId: DEVICE, peerId: peer, expires: Math.floor(Date.now() / 1000) + 600, rights: ['live', 'command'] });
  const malloryToken = mintToken(SECRET, { deviceId: DEVICE, peerId: 'mallory', expires: Math.floor(Date.now() / 1000) + 600, rights: ['live'] });
  const passwords = join(dir, 'passwd');
  writeFileSync(passwords, '');
  for (const [u, p] of [['ivgw', brokerPassword], [peer, token], ['mallory', malloryToken]] as const) {
    t.is(spawnSync('mosquitto_passwd', ['-b', passwords, u, p]).status, 0);
  }
  const acl = join(dir, 'acl');
  writeFileSync(acl, `user ivgw\ntopic read iv/${DEVICE}/peer/+/up\ntopic write iv/${DEVICE}/peer/+/down\npattern write iv/+/peer/%u/up\npattern read iv/+/peer/%u/down\n`);
  chmodSync(passwords, 0o644);
  const mq = await startMosquitto(dir, [], { passwordFile: passwords, aclFile: acl }, { websocket: true });
  t.teardown(() => mq.stop());
  const http = await freePort();
  writeFileSync(join(dir, 'ivgw.yaml'), `device: { id: ${DEVICE}, data: data }
cameras:
  - { name: cam, channel: 0, source: "file:${SAMPLE.h264}", audioFile: "${SAMPLE.aac}", audio: aac, fps: 25, recording: off }
signaling: { external: { url: "${mq.url}", username: ivgw, password: "\${BROKER_PASSWORD}" } }
cloud: { local: { dir: data/cloud } }
http: { listen: "127.0.0.1:${http}" }
`);
  const gw = await startIvgw(['--config', join(dir, 'ivgw.yaml'), '--secret', SECRET, '--seconds', '120'], { env: { BROKER_PASSWORD: brokerPassword }, configHttp: true });
  t.teardown(async () => {
    await gw.stop();
  });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  t.teardown(() => browser.close().catch(() => undefined));
  const url = (tok: string): string => `http://127.0.0.1:${http}/#${new URLSearchParams({ broker: mq.wsUrl ?? '', device: DEVICE, peer, token: tok }).toString()}`;

  // another app of this device, on the same listener, tries to read the page's signaling
  const snooper = await mqtt.connectAsync(mq.wsUrl ?? '', { username: 'mallory', password: malloryToken, reconnectPeriod: 0 });
  t.teardown(() => void snooper.endAsync().catch(() => undefined));
  const snooped: string[] = [];
  snooper.on('message', (topic) => snooped.push(topic));
  await snooper.subscribeAsync([`iv/${DEVICE}/peer/${peer}/down`, `iv/${DEVICE}/peer/${peer}/up`, `iv/${DEVICE}/peer/+/down`, '#']);

  const page = await browser.newPage();
  await page.goto(url(token));
  await page.waitForFunction('window.ivgw.state === "streaming" && window.ivgw.videoFrames >= 50 || window.ivgw.error !== ""', undefined, { timeout: 20_000 });
  const p = await page.evaluate<{ error: string; connectMs: number; videoFrames: number; violations: string[] }>('window.ivgw');
  t.log(`over mosquitto ${mq.wsUrl}: connected in ${Math.round(p.connectMs)} ms, ${p.videoFrames} frames`);
  t.is(p.error, '', p.error);
  t.deepEqual(p.violations, []);
  await page.fill('#command-text', 'via mosquitto');
  await page.click('#command button[type=submit]');
  await page.waitForFunction('document.getElementById("command-reply").textContent.includes("via mosquitto")', undefined, { timeout: 5_000 });
  await page.close();
  t.deepEqual(snooped, [], 'the ACL keeps the page\'s offer, answer and candidates from another app');

  // a token of another device for the same peer id: mosquitto's password file does not have it
  const other = mintToken('another-devices-secret-0123456789', { deviceId: 'someone-else', peerId: peer, expires: Math.floor(Date.now() / 1000) + 600, rights: ['live'] });
  const refused = await browser.newPage();
  await refused.goto(url(other));
  await refused.waitForFunction('window.ivgw.state === "failed"', undefined, { timeout: 15_000 });
  const text = await refused.textContent('#error') ?? '';
  t.log(text);
  t.regex(text, /^IV_ERR_AUTH_INVALID: .*someone-else/);
  await refused.close();

  // the device offline: the broker takes the page (served from elsewhere now), nobody answers its offer
  await gw.stop();
  const pages = await GatewayHttpServer.start({ listen: '127.0.0.1:0', staticDir: WWW, metrics: async () => ({ contentType: 'text/plain', text: '' }), health: () => ({ ok: true, reasons: [] }), status: async () => ({}) });
  t.teardown(() => pages.close());
  const alone = await browser.newPage();
  await alone.goto(url(token).replace(`http://127.0.0.1:${http}`, pages.url));
  await alone.waitForFunction('window.ivgw.state === "failed"', undefined, { timeout: 20_000 });
  const offline = await alone.textContent('#error') ?? '';
  t.log(offline);
  t.regex(offline, /^IV_ERR_TIMEOUT: no answer from mq-browser-dev within \d+ ms: the device is offline/);
});
