/**
 * The viewer page's audio, intercom and playback in real Chromium (Debian `chromium`,
 * playwright-core), against `ivgw run --config` with a camera of H.264 video and G.711
 * A-law audio, recorded full-time, its page served by the gateway itself at `/`:
 * - G.711 audio (which MSE cannot carry) is decoded in the page and played with Web Audio
 *   next to the mpegts.js video: frames scheduled, seconds played, a non-silent level;
 * - intercom from the microphone (Chromium's fake audio device): the device's voice
 *   handler gets 20 ms G.711 frames in the format the page names, and the session's end;
 * - a recorded window chosen on the page's timeline plays back in the <video> until the
 *   device's `end of recording`, and the page goes back to live.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { chromium, type Browser, type Page } from 'playwright-core';
import { SAMPLE } from '../../actors/capture/index.js';
import { mintToken } from '../../shared/protocol/access-token.js';
import { CHROMIUM } from '../helpers/browser.js';
import { freePort } from '../helpers/free-port.js';
import { startIvgw, type IvgwProcess } from '../helpers/ivgw-process.js';

const DEVICE = 'media-dev';
const SECRET = 'browser-media-test-secret-0123456789';

interface Progress {
  state: string; error: string; videoFrames: number; violations: string[]; gaps: number; playerError: string;
  audio: { mode: string; codec: string; frames: number; late: number; playedS: number; level: number; context: string };
  intercom: { state: string; params: string; framesSent: number; dropped: number; error: string };
  playback: { state: string; startMs: number; endMs: number; reason: string };
  channels: { channel: number; recorded?: [number, number][] }[];
}

let gw: IvgwProcess;
let browser: Browser;
let base: string;
let wsUrl: string;
let dir: string;

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ivgw-browser-media-'));
  chmodSync(dir, 0o755);
  const [mqtt, ws, http] = [await freePort(), await freePort(), await freePort()];
  writeFileSync(join(dir, 'ivgw.yaml'), `device: { id: ${DEVICE}, data: data }
cameras:
  - { name: g711-cam, channel: 0, source: "file:${SAMPLE.h264}", audioFile: "${SAMPLE.g711a}", audio: g711a, fps: 25, recording: full-time }
signaling: { embedded: { listen: ["127.0.0.1:${mqtt}"], websocket: ["127.0.0.1:${ws}"] } }
cloud: { local: { dir: data/cloud } }
http: { listen: "127.0.0.1:${http}" }
`);
  gw = await startIvgw(['--config', join(dir, 'ivgw.yaml'), '--secret', SECRET, '--seconds', '300'], { configHttp: true });
  base = `http://127.0.0.1:${http}`;
  wsUrl = `ws://127.0.0.1:${ws}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream'] });
});

test.after.always(async () => {
  await browser?.close().catch(() => undefined);
  await gw?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const token = (peer: string): string => mintToken(SECRET, { deviceId: DEVICE, peerId: peer, expires: Math.floor(Date.now() / 1000) + 600, rights: ['live', 'playback', 'voice', 'command'] });

async function openPage(peer: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 900, height: 1000 } });
  await page.goto(`${base}/#${new URLSearchParams({ broker: wsUrl, device: DEVICE, peer, token: token(peer) }).toString()}`);
  await page.waitForFunction('window.ivgw && (window.ivgw.state === "streaming" || window.ivgw.error !== "")', undefined, { timeout: 20_000 });
  return page;
}

const progress = (page: Page) => page.evaluate<Progress>('window.ivgw');
const videoTime = (page: Page) => page.evaluate<{ t: number; frames: number }>('(() => { const v = document.getElementById("video"); return { t: v.currentTime, frames: v.getVideoPlaybackQuality().totalVideoFrames }; })()');

test.serial('G.711 audio is decoded in the page and played with Web Audio next to the video', async (t) => {
  const page = await openPage('listener');
  await page.waitForFunction('window.ivgw.audio.playedS >= 6 || window.ivgw.error !== ""', undefined, { timeout: 30_000, polling: 250 });
  let level = 0;
  for (let i = 0; i < 8; i++) {
    level = Math.max(level, (await progress(page)).audio.level);
    await new Promise((r) => setTimeout(r, 100));
  }
  const p = await progress(page);
  const v = await videoTime(page);
  t.log(`audio ${p.audio.codec} via ${p.audio.mode}: ${p.audio.frames} frames, ${p.audio.playedS.toFixed(1)} s played, ${p.audio.late} late, peak level ${level.toFixed(3)}, context ${p.audio.context}; video at ${v.t.toFixed(1)} s, ${v.frames} frames`);
  t.is(p.error, '', p.error);
  t.is(p.playerError, '', p.playerError);
  t.is(p.audio.mode, 'webaudio');
  t.is(p.audio.codec, 'g711a');
  t.is(p.audio.context, 'running');
  t.true(p.audio.frames >= 40, `${p.audio.frames} G.711 frames scheduled`);
  t.true(p.audio.late <= p.audio.frames / 4, `${p.audio.late} of ${p.audio.frames} frames too late to play`);
  t.true(level > 0.05, `the 660 Hz tone is heard: RMS ${level}`);
  t.true(v.frames >= 100, `the video plays too: ${v.frames} frames`);
  t.deepEqual(p.violations, []);
  t.regex(await page.textContent('#audio') ?? '', /^audio g711a via Web Audio: \d+ frames, [\d.]+ s played/);
  await page.close();
});

test.serial('intercom from the microphone: the device gets 20 ms G.711 frames in order and the end of the session', async (t) => {
  const page = await openPage('talker');
  const from = gw.lines.length;
  await page.click('#talk');
  await page.waitForFunction('window.ivgw.intercom.state !== "starting" && window.ivgw.intercom.state !== "off"', undefined, { timeout: 10_000 });
  const started = await progress(page);
  t.is(started.intercom.state, 'on', started.intercom.error);
  await new Promise((r) => setTimeout(r, 3_000));
  t.is(await page.textContent('#talk'), 'Stop talking');
  const stopAt = Date.now();
  await page.click('#talk');
  await page.waitForFunction('window.ivgw.intercom.state === "off"', undefined, { timeout: 5_000 });
  const p = await progress(page);
  const line = await gw.waitFor(/\[voice talker\] ended: \d+ frames/, 5_000, from);
  // the device ends a session at its in-band end marker, or 1 s after voice_stop without one
  t.log(`page sent ${p.intercom.framesSent} frames (${p.intercom.params}); device, ${Date.now() - stopAt} ms after the stop click: ${line}`);
  const m = /ended: (\d+) frames, (\d+) bytes \((.*)\)/.exec(line);
  const frames = Number(m?.[1]);
  t.is(m?.[3], 'action=voice&codec=g711a&rate=8000&channels=1');
  t.is(frames, p.intercom.framesSent, 'every frame the page sent reached the voice handler, then the end marker');
  t.is(Number(m?.[2]), frames * 160, '160 bytes (20 ms of 8 kHz G.711) per frame');
  t.true(frames >= 100 && frames <= 200, `${frames} frames for ~3 s of talking (50 per second)`);
  t.is(p.intercom.dropped, 0);
  await page.close();
});

test.serial('a recorded window picked on the page\'s timeline plays back to the end of the recording, then back to live', async (t) => {
  // the camera has recorded since the gateway started; wait until there is a range of ≥ 8 s
  let page = await openPage('replayer');
  for (const until = Date.now() + 30_000; ; ) {
    const rec = (await progress(page)).channels.find((c) => c.channel === 0)?.recorded ?? [];
    const last = rec[rec.length - 1];
    if (last && last[1] - last[0] >= 8_000) {
      break;
    }
    t.true(Date.now() < until, `no recorded range of 8 s: ${JSON.stringify(rec)}`);
    await page.close();
    await new Promise((r) => setTimeout(r, 2_000));
    page = await openPage('replayer');
  }
  const button = page.locator('#timeline button.play-range').first();
  const range = { start: Number(await button.getAttribute('data-start')), end: Number(await button.getAttribute('data-end')) };
  await button.click();
  await page.waitForFunction('window.ivgw.playback.state === "playing" || window.ivgw.playback.state === "failed"', undefined, { timeout: 10_000 });
  const v0 = await videoTime(page);
  await page.waitForFunction('window.ivgw.playback.state !== "playing"', undefined, { timeout: (range.end - range.start) + 20_000, polling: 250 });
  const v = await videoTime(page);
  const p = await progress(page);
  t.log(`window ${((range.end - range.start) / 1000).toFixed(1)} s: video ${v0.t.toFixed(1)} → ${v.t.toFixed(1)} s, ${v.frames - v0.frames} frames decoded; ${p.videoFrames} received; ${p.playback.state}: ${p.playback.reason}`);
  t.is(p.playback.state, 'ended', p.playback.reason);
  t.is(p.playback.reason, 'end of recording');
  t.is(p.playback.startMs, range.start);
  t.true(v.t - v0.t >= 5, `the <video> played back ${v.t - v0.t} s`);
  t.true(v.frames - v0.frames >= 125, `${v.frames - v0.frames} frames decoded in playback`);
  t.deepEqual(p.violations, []);
  t.regex(await page.textContent('#playback-state') ?? '', /^playback .*: ended \(end of recording\)$/);
  await page.click('#back-live');
  await page.waitForFunction('window.ivgw.state === "streaming" && window.ivgw.videoFrames > 50', undefined, { timeout: 15_000 });
  t.true(await page.isHidden('#back-live'));
  await page.close();
});
