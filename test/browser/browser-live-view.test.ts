/**
 * The viewer page's live view in real Chromium (Debian `chromium` driven by playwright-core):
 * channel 0's FLV plays in the page's <video> through mpegts.js (fed by BrowserClient, not
 * fetched): the picture advances ≥ 10 s, ≥ 200 frames decoded, 640×360, and a canvas copy of
 * it is not uniformly black; the StreamReceiver counting the same bytes sees no integrity
 * violation; the page stays within about a second of the live edge. The camera list comes
 * from the control `channels` request (an H.265 channel Chromium cannot decode is marked so
 * in words), and a command typed in the page comes back with the device's reply.
 * A screenshot of the page is kept in the test's temp dir (its path is logged).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import type { Browser, Page } from 'playwright-core';
import type { GatewayHttpServer } from '../../gateway/http-server.js';
import type { Gateway } from '../helpers/gateway.js';
import { startBrowserRig, type BrowserRig } from '../helpers/browser.js';


interface ChannelView { channel: number; video?: { codec: string; width?: number; height?: number; fps?: number }; audio?: { codec: string }; playable: boolean; why: string }
interface Progress { state: string; firstFrameMs: number; firstDecodedMs: number; firstDecodedPageMs: number; videoFrames: number; violations: string[]; gaps: number; latencyMs: number; screenLatencyMs: number; bufferLatencyMs: number; kbps: number; watermarkPauses: number; seeks: number; channels: ChannelView[]; playerError: string; error: string }

let rig: BrowserRig;
let gw: Gateway;
let wsUrl: string;
let http: GatewayHttpServer;
let browser: Browser;

test.before(async () => {
  rig = await startBrowserRig([], ['--autoplay-policy=no-user-gesture-required']);
  ({ gw, wsUrl, http, browser } = rig);
});

test.after.always(async () => {
  await rig?.close();
});

async function openPage(peer: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 900, height: 900 } });
  await page.goto(`${http.url}/#${new URLSearchParams({ broker: wsUrl, device: gw.deviceId, peer, token: gw.token(peer) }).toString()}`);
  return page;
}

const progress = (page: Page) => page.evaluate<Progress>('window.ivgw');

interface VideoState { t: number; frames: number; dropped: number; w: number; h: number; behind: number; lumaMin: number; lumaMax: number; lumaMean: number }
const videoState = (page: Page) => page.evaluate<VideoState>(`(() => {
  const v = document.getElementById('video');
  const q = v.getVideoPlaybackQuality();
  const b = v.buffered;
  const c = document.createElement('canvas');
  c.width = 160; c.height = 90;
  const g = c.getContext('2d');
  g.drawImage(v, 0, 0, c.width, c.height);
  const d = g.getImageData(0, 0, c.width, c.height).data;
  let min = 255, max = 0, sum = 0;
  for (let i = 0; i < d.length; i += 4) {
    const y = 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
    min = Math.min(min, y); max = Math.max(max, y); sum += y;
  }
  return { t: v.currentTime, frames: q.totalVideoFrames, dropped: q.droppedVideoFrames, w: v.videoWidth, h: v.videoHeight,
    behind: b.length ? b.end(b.length - 1) - v.currentTime : -1, lumaMin: min, lumaMax: max, lumaMean: sum / (d.length / 4) };
})()`);

test.serial('live H.264 plays in the page\'s <video> via mpegts.js at the live edge: ≥ 10 s, ≥ 200 frames, 640×360, not black', async (t) => {
  const page = await openPage('viewer1');
  await page.waitForFunction('window.ivgw && (window.ivgw.firstDecodedMs >= 0 || window.ivgw.error !== "")', undefined, { timeout: 20_000 });
  const p0 = await progress(page);
  t.is(p0.error, '', p0.error);
  const v0 = await videoState(page);
  await page.waitForFunction(`(() => { const v = document.getElementById('video'); return v.currentTime >= ${v0.t + 10} && v.getVideoPlaybackQuality().totalVideoFrames >= 200; })() || window.ivgw.error !== ''`, undefined, { timeout: 40_000, polling: 250 });
  const v = await videoState(page);
  const p = await progress(page);
  const dir = mkdtempSync(join(tmpdir(), 'ivgw-viewer-'));
  const shot = join(dir, 'viewer.png');
  await page.screenshot({ path: shot, fullPage: true });
  t.log(`page load → first decoded frame ${Math.round(p.firstDecodedPageMs)} ms (open → on screen ${Math.round(p.firstDecodedMs)} ms, open → first frame received ${Math.round(p.firstFrameMs)} ms)`);
  t.log(`video ${v0.t.toFixed(2)} → ${v.t.toFixed(2)} s, ${v.frames} frames decoded, ${v.dropped} dropped, ${v.w}×${v.h}, ${v.behind.toFixed(2)} s behind the buffered end; luma ${v.lumaMin.toFixed(0)}..${v.lumaMax.toFixed(0)} mean ${v.lumaMean.toFixed(0)}`);
  t.log(`${p.videoFrames} frames received, ${p.kbps.toFixed(0)} kbit/s, capture→receive ${Math.round(p.latencyMs)} ms, capture→screen ${Math.round(p.screenLatencyMs)} ms (≈ ${Math.round(p.bufferLatencyMs)} ms from the buffer), ${p.seeks} seeks, ${p.watermarkPauses} watermark pauses`);
  t.log(`screenshot: ${shot}`);
  t.is(p.error, '', p.error);
  t.is(p.playerError, '', p.playerError);
  t.true(p.firstDecodedPageMs > 0 && p.firstDecodedPageMs < 5_000, `page load → first decoded frame ${p.firstDecodedPageMs} ms`);
  t.true(v.t - v0.t >= 10, `currentTime ${v0.t} → ${v.t}`);
  t.true(v.frames >= 200, `${v.frames} frames decoded`);
  t.is(`${v.w}×${v.h}`, '640×360');
  t.true(v.lumaMax - v.lumaMin > 20 && v.lumaMax > 30, `the picture is not uniformly black: luma ${v.lumaMin}..${v.lumaMax}`);
  t.deepEqual(p.violations, []);
  t.is(p.gaps, 0);
  t.true(v.behind >= 0 && v.behind < 1.5, `${v.behind} s behind the newest buffered picture`);
  t.true(p.kbps > 0 && p.latencyMs >= 0 && p.bufferLatencyMs >= p.latencyMs, `kbps ${p.kbps}, latency ${p.latencyMs}, from the buffer ${p.bufferLatencyMs}`);
  t.true(p.screenLatencyMs > 0 && p.screenLatencyMs < 1_500, `capture→screen ${p.screenLatencyMs} ms`);
  t.regex(await page.textContent('#live') ?? '', /kbit\/s; latency capture→receive \d+ ms, capture→screen \d+ ms \(≈ \d+ ms from the buffer\); \d+ watermark pauses/);
  // pagehide: the player is torn down and the connection closed, the device sees the app go at once
  const from = gw.log.length;
  const closedAt = Date.now();
  await page.close({ runBeforeUnload: true });
  while (!gw.log.slice(from).some((l) => l.startsWith('[peer viewer1] closed')) && Date.now() - closedAt < 10_000) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const seen = Date.now() - closedAt;
  t.log(`the device saw the page go after ${seen} ms`);
  t.true(seen < 3_000, `the device noticed the closed tab after ${seen} ms`);
});

test.serial('the page lists the device\'s cameras from the channels request; H.265 where this browser cannot decode it says so', async (t) => {
  const page = await openPage('viewer2');
  await page.waitForFunction('window.ivgw && (window.ivgw.channels.length > 0 || window.ivgw.error !== "")', undefined, { timeout: 20_000 });
  const p = await progress(page);
  t.is(p.error, '', p.error);
  t.log(JSON.stringify(p.channels.map(({ channel, video, audio, playable, why }) => ({ channel, video, audio: audio?.codec, playable, why }))));
  const c0 = p.channels.find((c) => c.channel === 0);
  t.is(c0?.video?.codec, 'h264');
  t.true(c0?.playable);
  const items = await page.$$eval('#channels li', (lis) => lis.map((li) => li.textContent ?? ''));
  t.is(items.length, p.channels.length);
  t.regex(items[0] ?? '', /^channel 0: H264/);
  const hevc = await page.evaluate<boolean>('MediaSource.isTypeSupported(\'video/mp4; codecs="hvc1.1.6.L93.B0"\')');
  for (const c of p.channels.filter((x) => x.video?.codec === 'h265')) {
    t.is(c.playable, hevc);
    if (!hevc) {
      t.regex(c.why, /this browser cannot decode H\.265 \(HEVC\) video/);
      t.true(items.some((i) => i.startsWith(`channel ${c.channel}: H265`) && i.includes('cannot decode H.265')));
    }
  }
  await page.close();
  if (!hevc && p.channels.some((c) => c.channel === 1 && c.video?.codec === 'h265')) {
    // asked to play it: the page says why not instead of a black <video>
    const one = await browser.newPage();
    await one.goto(`${http.url}/#${new URLSearchParams({ broker: wsUrl, device: gw.deviceId, peer: 'viewer4', token: gw.token('viewer4'), channel: '1' }).toString()}`);
    await one.waitForFunction('document.getElementById("player-message").textContent !== "" || window.ivgw.error !== ""', undefined, { timeout: 20_000 });
    t.regex(await one.textContent('#player-message') ?? '', /^channel 1: this browser cannot decode H\.265 \(HEVC\) video/);
    t.true(await one.isHidden('#video'));
    t.is(await one.evaluate<string>('window.ivgw.state'), 'unplayable');
    await one.close();
  }
});

test.serial('a command typed in the page comes back with the device\'s reply', async (t) => {
  const page = await openPage('viewer3');
  await page.waitForSelector('#command:not([hidden])', { timeout: 20_000 });
  await page.fill('#command-text', 'hello from the page');
  const sentAt = Date.now();
  await page.click('#command button[type=submit]');
  await page.waitForFunction('(document.getElementById("command-reply").textContent ?? "").length > 1', undefined, { timeout: 10_000 });
  const reply = await page.textContent('#command-reply') ?? '';
  t.log(`reply after ${Date.now() - sentAt} ms: ${reply}`);
  t.regex(reply, /hello from the page/);
  const parsed = JSON.parse(reply) as Record<string, unknown>;
  t.is(parsed.echo, 'hello from the page');
  await page.close();
});
