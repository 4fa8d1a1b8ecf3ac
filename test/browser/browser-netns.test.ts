/**
 * The viewer page and the gateway in different network namespaces, in real Chromium:
 * `ivgw run --config` runs inside a namespace the test creates (a veth pair to the host;
 * its embedded broker's TCP and WebSocket listeners, its HTTP server and ICE on the
 * namespace's address, `ice.bind: any`, keep-alive probes to coturn on the host end);
 * Chromium runs in the host namespace and loads the viewer from the gateway's address.
 * The page streams across the veth pair; then the gateway's link is cut: the device's
 * keep-alive reports PEER_ERROR, the supervisor replaces the silent app's peer actor, and
 * once the link is back the device's ICE-restart offer moves the page to a new peer
 * connection — the same page (no reload), the same stream going on in the <video>, the
 * restart counted on the page, commands still answered. (Needs root for `ip netns`; CI
 * runs as root.)
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { chromium } from 'playwright-core';
import { SAMPLE } from '../../actors/capture/index.js';
import { mintToken } from '../../shared/protocol/access-token.js';
import { CHROMIUM } from '../helpers/browser.js';
import { startCoturn } from '../helpers/coturn.js';
import { startIvgw } from '../helpers/ivgw-process.js';
import { createNetNs } from '../helpers/netns.js';

const DEVICE = 'netns-browser-dev';
const SECRET = 'browser-netns-test-secret-0123456789';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Progress {
  state: string; error: string; videoFrames: number; violations: string[]; gaps: number; pauseGaps: number; path: string;
  restarts: number; restartMs: number[]; channelRestarts: number; droppedBytes: number; playerError: string;
}

test('page in the host namespace, gateway in another: it streams across, and survives the device\'s ICE restart after a link cut without a reload', async (t) => {
  const ns = createNetNs();
  t.teardown(() => ns.remove());
  const dir = mkdtempSync(join(tmpdir(), 'ivgw-browser-netns-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755);
  const turn = await startCoturn(ns.hostIp);
  t.teardown(() => turn.kill());
  const [mqtt, ws, http] = [21_883, 21_884, 21_885];
  writeFileSync(join(dir, 'ivgw.yaml'), `device: { id: ${DEVICE}, data: data }
cameras:
  - { name: cam, channel: 0, source: "file:${SAMPLE.h264}", audioFile: "${SAMPLE.aac}", audio: aac, fps: 25, recording: off }
signaling: { embedded: { listen: ["${ns.nsIp}:${mqtt}"], websocket: ["${ns.nsIp}:${ws}"] } }
ice: { bind: any, servers: ["${turn.url}"] }
keepAlive: { interval: 1s, probes: 2 }
cloud: { local: { dir: data/cloud } }
http: { listen: "${ns.nsIp}:${http}" }
`);
  const gw = await startIvgw(['--config', join(dir, 'ivgw.yaml'), '--secret', SECRET, '--seconds', '300'], { configHttp: true, prefix: ns.exec });
  t.teardown(async () => {
    await gw.stop();
  });
  await gw.waitFor(/\[p2p\] PEER_READY/, 10_000);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required'] });
  t.teardown(() => browser.close().catch(() => undefined));
  const page = await browser.newPage();
  const consoleLines: string[] = [];
  page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  const peer = 'crossing';
  const token = mintToken(SECRET, { deviceId: DEVICE, peerId: peer, expires: Math.floor(Date.now() / 1000) + 600, rights: ['live', 'command'] });
  await page.goto(`http://${ns.nsIp}:${http}/#${new URLSearchParams({ broker: `ws://${ns.nsIp}:${ws}`, device: DEVICE, peer, token }).toString()}`);
  await page.evaluate('window.loadedOnce = true');
  await page.waitForFunction('window.ivgw.state === "streaming" && window.ivgw.videoFrames >= 50 || window.ivgw.error !== ""', undefined, { timeout: 20_000 });
  // the page reads the pair in use every second; ICE may settle on it after the first frames
  await page.waitForFunction('window.ivgw.path.startsWith("local ") || window.ivgw.error !== ""', undefined, { timeout: 5_000 }).catch(() => undefined);
  const before = await page.evaluate<Progress>('window.ivgw');
  t.is(before.error, '', before.error);
  t.log(`across the namespaces: ${before.path}`);
  t.regex(before.path, new RegExp(`remote host ${ns.nsIp.replace(/\./g, '\\.')}:`), 'the pair uses the device\'s address in its namespace');
  const frames0 = await page.evaluate<number>('document.getElementById("video").getVideoPlaybackQuality().totalVideoFrames');

  ns.setLink(false);
  await gw.waitFor(/\[p2p\] PEER_ERROR/, 8_000);
  await gw.waitFor(new RegExp(`\\[peer ${peer}\\] respawned`), 8_000);
  await sleep(4_000);
  ns.setLink(true);
  const upAt = Date.now();
  await page.waitForFunction('window.ivgw.restarts >= 1 && window.ivgw.state === "streaming"', undefined, { timeout: 30_000, polling: 100 }).catch(async (err: unknown) => {
    // what each side saw, for a restart that did not come
    t.log(`the page: ${JSON.stringify(await page.evaluate('({ ...window.ivgw, channels: undefined })'))}`);
    t.log(`the page's console:\n${consoleLines.slice(-20).join('\n')}`);
    t.log(`the gateway:\n${gw.lines.filter((l) => /\[(p2p|peer|signaling|keep-alive)/.test(l)).slice(-40).join('\n')}`);
    throw err;
  });
  t.log(`restarted ${Date.now() - upAt} ms after the link came back; offer → new control channel ${(await page.evaluate<Progress>('window.ivgw')).restartMs.join(', ')} ms`);
  const mid = await page.evaluate<Progress>('window.ivgw');
  const decodedAtRestart = await page.evaluate<number>('document.getElementById("video").getVideoPlaybackQuality().totalVideoFrames');
  // 4 s of pictures on the new connection, received and on screen
  await page.waitForFunction(`window.ivgw.videoFrames >= ${mid.videoFrames + 100} && document.getElementById("video").getVideoPlaybackQuality().totalVideoFrames >= ${decodedAtRestart + 100}`, undefined, { timeout: 20_000, polling: 100 });
  const after = await page.evaluate<Progress>('window.ivgw');
  const frames1 = await page.evaluate<number>('document.getElementById("video").getVideoPlaybackQuality().totalVideoFrames');
  t.log(`${before.videoFrames} → ${after.videoFrames} frames received, ${frames0} → ${frames1} decoded; ${after.channelRestarts} channel moves, ${after.droppedBytes} bytes of a cut tag dropped, ${after.pauseGaps} announced jumps; ${after.path}`);
  t.true(await page.evaluate<boolean>('window.loadedOnce === true'), 'the same page: no reload');
  t.regex(after.path, /^local .+ → remote /, 'the page shows the new connection\'s path');
  t.is(after.error, '', after.error);
  t.is(after.playerError, '', after.playerError);
  t.deepEqual(after.violations, []);
  t.is(after.gaps, 0, 'no unannounced gap');
  t.true(after.channelRestarts >= 1, 'the stream moved to the new connection\'s channel');
  t.true(frames1 >= decodedAtRestart + 100, `the <video> goes on decoding: ${frames0} before the cut, ${decodedAtRestart} at the restart, ${frames1} now`);
  t.regex(await page.textContent('#live') ?? '', /\b[1-9]\d* restarts \(last \d+ ms\)/);
  await page.fill('#command-text', 'after the restart');
  await page.click('#command button[type=submit]');
  await page.waitForFunction('document.getElementById("command-reply").textContent.includes("after the restart")', undefined, { timeout: 5_000 });
  t.is(gw.lines.filter((l) => l.includes(`[peer ${peer}] connected`)).length, 1, 'one session: connected once, then restarted');
  await page.close();
});
