/**
 * The viewer page under congestion in real Chromium: the page holds its acks
 * (`window.ivgwControl.setAcking(false)`), the device's backlog for the stream passes the
 * `high` watermark (low watermarks: `--watermarks 30000,60000,120000`) and it pauses the
 * stream with a `watermark high` event; acks resume, the device resumes at the camera's
 * latest keyframe. The page counts the pause, the StreamReceiver sees the jump as the
 * announced pause (no unannounced gap, no violation), and the <video> is back within
 * about a second of the live edge and keeps playing.
 */
import test from 'ava';
import type { Browser } from 'playwright-core';
import type { GatewayHttpServer } from '../../gateway/http-server.js';
import type { Gateway } from '../helpers/gateway.js';
import { startBrowserRig, type BrowserRig } from '../helpers/browser.js';


interface Progress { state: string; videoFrames: number; violations: string[]; gaps: number; pauseGaps: number; resumes: number; watermarkPauses: number; seeks: number; screenLatencyMs: number; playerError: string; error: string }

let rig: BrowserRig;
let gw: Gateway;
let wsUrl: string;
let http: GatewayHttpServer;
let browser: Browser;

test.before(async () => {
  rig = await startBrowserRig(['--watermarks', '30000,60000,120000'], ['--autoplay-policy=no-user-gesture-required']);
  ({ gw, wsUrl, http, browser } = rig);
});

test.after.always(async () => {
  await rig?.close();
});

test('held acks: the device pauses the stream, the page counts the watermark pause and is back at the live edge', async (t) => {
  const page = await browser.newPage();
  await page.goto(`${http.url}/#${new URLSearchParams({ broker: wsUrl, device: gw.deviceId, peer: 'wm1', token: gw.token('wm1') }).toString()}`);
  await page.waitForFunction('window.ivgw && (document.getElementById("video").currentTime > 2 || window.ivgw.error !== "")', undefined, { timeout: 20_000 });
  await page.evaluate('window.ivgwControl.setAcking(false)');
  const heldAt = Date.now();
  await page.waitForFunction('window.ivgw.watermarkPauses >= 1 || window.ivgw.error !== ""', undefined, { timeout: 30_000 });
  const pausedAfter = Date.now() - heldAt;
  await new Promise((r) => setTimeout(r, 1_000));
  await page.evaluate('window.ivgwControl.setAcking(true)');
  await page.waitForFunction('window.ivgw.resumes >= 1 || window.ivgw.error !== ""', undefined, { timeout: 15_000 });
  const t0 = await page.evaluate<number>('document.getElementById("video").currentTime');
  await page.waitForFunction(`document.getElementById("video").currentTime > ${t0 + 3}`, undefined, { timeout: 15_000 });
  const p = await page.evaluate<Progress>('window.ivgw');
  const behind = await page.evaluate<number>('(() => { const v = document.getElementById("video"); const b = v.buffered; return b.end(b.length - 1) - v.currentTime; })()');
  t.log(`paused ${pausedAfter} ms after the acks stopped; ${p.watermarkPauses} pauses, ${p.resumes} resumes (${p.pauseGaps} with a jump), ${p.gaps} gaps, ${p.seeks} seeks; ${behind.toFixed(2)} s behind the buffered end, capture→screen ${Math.round(p.screenLatencyMs)} ms`);
  t.is(p.error, '', p.error);
  t.is(p.playerError, '', p.playerError);
  t.true(p.watermarkPauses >= 1);
  t.true(p.resumes >= 1 && p.pauseGaps <= p.resumes, `${p.resumes} resumes, ${p.pauseGaps} with a jump`);
  t.is(p.gaps, 0);
  t.deepEqual(p.violations, []);
  t.true(behind < 1.5, `${behind} s behind`);
  t.regex(await page.textContent('#live') ?? '', /[1-9]\d* watermark pauses/);
  await page.close();
});
