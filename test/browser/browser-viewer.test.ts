/**
 * The browser client in real Chromium (Debian `chromium` driven by playwright-core, no
 * flags that change WebRTC): the page dist/www/index.html, served by the gateway's HTTP
 * server (`staticDir`), connects to `ivgw run` over MQTT on WebSocket with the token in
 * the URL fragment, gets channel 0's live FLV over its own RTCPeerConnection, and counts
 * frames with the shared StreamReceiver: ≥ 50 video frames, zero integrity violations.
 * The browser offers only mDNS `.local` host candidates; the device answers with its
 * host candidate on 127.0.0.1 and the connection forms on the browser's peer-reflexive
 * address (PROTOCOL.md, "Browsers"). A bad token shows the refusal in words; a pinned
 * fingerprint that is not the device's is refused with IV_ERR_AUTH_INVALID.
 */
import test from 'ava';
import type { Browser, Page } from 'playwright-core';
import type { GatewayHttpServer } from '../../gateway/http-server.js';
import type { Gateway } from '../helpers/gateway.js';
import { startBrowserRig, type BrowserRig } from '../helpers/browser.js';


interface Progress { state: string; connectMs: number; firstFrameMs: number; bytes: number; videoFrames: number; audioFrames: number; keyframes: number; gaps: number; violations: string[]; latencyMs: number; path: string; error: string; code: string }

let rig: BrowserRig;
let gw: Gateway;
let wsUrl: string;
let http: GatewayHttpServer;
let browser: Browser;

test.before(async () => {
  rig = await startBrowserRig([], []);
  ({ gw, wsUrl, http, browser } = rig);
});

test.after.always(async () => {
  await rig?.close();
});

function viewerUrl(f: Record<string, string>): string {
  return `${http.url}/#${new URLSearchParams(f).toString()}`;
}

async function openPage(fragment: Record<string, string>): Promise<{ page: Page; requests: string[] }> {
  const page = await browser.newPage();
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(viewerUrl(fragment));
  return { page, requests };
}

const progress = (page: Page) => page.evaluate<Progress>('window.ivgw');

test.serial('the page connects over WebSocket signaling and receives live FLV with no integrity violation', async (t) => {
  const peer = 'browser1';
  const { page, requests } = await openPage({ broker: wsUrl, device: gw.deviceId, peer, token: gw.token(peer) });
  await page.waitForFunction('window.ivgw && window.ivgw.videoFrames >= 50 || (window.ivgw && window.ivgw.error !== "")', undefined, { timeout: 20_000 });
  const p = await progress(page);
  t.log(`connect ${Math.round(p.connectMs)} ms, first frame ${Math.round(p.firstFrameMs)} ms after open, ${p.videoFrames} video + ${p.audioFrames} audio frames, ${p.bytes} bytes, latency ${Math.round(p.latencyMs)} ms; path ${p.path}`);
  t.is(p.error, '', p.error);
  t.is(p.state, 'streaming');
  t.true(p.videoFrames >= 50, `${p.videoFrames} video frames`);
  t.true(p.keyframes >= 1 && p.audioFrames > 0, `${p.keyframes} keyframes, ${p.audioFrames} audio frames`);
  t.deepEqual(p.violations, []);
  t.is(p.gaps, 0);
  t.true(p.connectMs > 0 && p.connectMs < 5_000, `connect ${p.connectMs} ms`);
  t.regex(p.path, /^local prflx \S+ → remote host 127\.0\.0\.1:\d+$/, 'the device\'s loopback host candidate, the browser as peer-reflexive');
  t.regex(await page.textContent('#stats') ?? '', /video \/ \d+ audio frames/);
  t.false(requests.some((u) => u.includes(gw.token(peer).split('.')[1] as string) || u.includes('token=')), 'the token never leaves the page in a request');
  // leaving the page closes the connection (pagehide → bye + pc.close()): the device sees the app go at once
  const closedAt = Date.now();
  const from = gw.log.length;
  await page.close({ runBeforeUnload: true });
  while (!gw.log.slice(from).some((l) => l.startsWith(`[peer ${peer}] closed`)) && Date.now() - closedAt < 10_000) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const seen = Date.now() - closedAt;
  t.log(`the device saw the page go after ${seen} ms`);
  t.true(seen < 3_000, `the device noticed the closed tab after ${seen} ms:\n${gw.log.slice(from).join('\n')}`);
});

test.serial('a bad token shows the refusal reason in the page', async (t) => {
  const { page } = await openPage({ broker: wsUrl, device: gw.deviceId, peer: 'browser2', token: 'iv1.bm90LWEtdG9rZW4.AAAA' });
  await page.waitForFunction('window.ivgw && window.ivgw.state === "failed"', undefined, { timeout: 15_000 });
  const text = await page.textContent('#error') ?? '';
  t.regex(text, /IV_ERR_AUTH_INVALID: the broker refused this app/);
  t.regex(text, /not an iv1 access token/);
  const expired = await openPage({ broker: wsUrl, device: gw.deviceId, peer: 'browser3', token: gw.token('browser3', ['live'], -30) });
  await expired.page.waitForFunction('window.ivgw && window.ivgw.state === "failed"', undefined, { timeout: 15_000 });
  t.regex(await expired.page.textContent('#error') ?? '', /IV_ERR_AUTH_INVALID: the broker refused this app .*; the access token expired \d+ s ago/);
  await page.close();
  await expired.page.close();
});

test.serial('a pinned fingerprint that is not the device\'s: the answer is ignored and the page says so', async (t) => {
  const fake = `sha-256 ${Array.from({ length: 32 }, () => 'AB').join(':')}`;
  const { page } = await openPage({ broker: wsUrl, device: gw.deviceId, peer: 'browser4', token: gw.token('browser4'), fp: fake });
  await page.waitForFunction('window.ivgw && window.ivgw.state === "failed"', undefined, { timeout: 20_000 });
  t.regex(await page.textContent('#error') ?? '', /IV_ERR_AUTH_INVALID: .*is not the pinned sha-256 AB:AB/);
  await page.close();
});

test.serial('the URL ivgw run prints opens the viewer it serves at / and streams channel 0; the token stays in the fragment', async (t) => {
  const line = gw.log.find((l) => l.includes('watch it in a browser: ')) ?? '';
  const url = /watch it in a browser: (\S+)/.exec(line)?.[1];
  t.truthy(url, `ivgw run printed the viewer URL:\n${gw.log.join('\n')}`);
  const token = new URLSearchParams(new URL(url as string).hash.slice(1)).get('token') ?? '';
  t.true(token.startsWith('iv1.'), 'the URL carries a token in its fragment');
  const page = await browser.newPage();
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(url as string);
  await page.waitForFunction('window.ivgw && (window.ivgw.videoFrames >= 25 || window.ivgw.error !== "")', undefined, { timeout: 20_000 });
  const p = await progress(page);
  t.is(p.error, '', p.error);
  t.true(p.videoFrames >= 25, `${p.videoFrames} video frames`);
  t.deepEqual(p.violations, []);
  t.true(requests.length >= 2 && requests.every((r) => !r.includes(token)), 'the page and its script were fetched from the gateway, and no request carried the token');
  await page.close();
});
