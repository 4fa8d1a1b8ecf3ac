/**
 * browser — `npm run bench -- browser`: the viewer page in Debian Chromium (playwright-core)
 * against `ivgw run` on its embedded defaults, opened 10 times (3 with --quick) at the URL
 * the gateway prints, each in a fresh browser context: page load (navigation start) →
 * first decoded frame on screen, and capture-to-screen latency sampled every 250 ms for
 * 3 s once it plays (the page's own measure: the presented picture's display time on the
 * device's clock − its capture time). Baselines in the same run and browser: the same
 * page's DOMContentLoaded (what loading costs before any connection), and an in-page
 * RTCPeerConnection pair on loopback up to an open data channel (what WebRTC costs here).
 * Targets (issue 14): page load → first decoded frame p99 ≤ 1.5 s.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { BenchOptions } from './run.js';
import { percentile, round } from './stats.js';

const IVGW = fileURLToPath(new URL('../../bin/ivgw.js', import.meta.url));
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** `ivgw run` on embedded defaults; resolves with the viewer URL it prints. */
async function startGateway(): Promise<{ url: string; stop(): Promise<void> }> {
  const proc = spawn(process.execPath, [IVGW, 'run', '--mqtt-port', '0', '--http', '127.0.0.1:0', '--seconds', '900', '--no-record'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ivgw run printed no viewer URL:\n${out}`)), 30_000);
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /watch it in a browser: (http:\/\/[^\s"]+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.once('exit', (code) => reject(new Error(`ivgw run exited ${code}:\n${out}`)));
  });
  return {
    url,
    stop: async () => {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    },
  };
}

const LOOPBACK = `(async () => {
  const a = new RTCPeerConnection(), b = new RTCPeerConnection();
  a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate);
  b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);
  const t0 = performance.now();
  const dc = a.createDataChannel('x');
  const open = new Promise((r) => dc.onopen = r);
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription);
  await open;
  const ms = performance.now() - t0;
  a.close(); b.close();
  return ms;
})()`;

export async function run(opts: BenchOptions): Promise<Record<string, unknown>> {
  const runs = opts.quick ? 3 : 10;
  const gw = await startGateway();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required'] });
  const firstFrame: number[] = [];
  const domReady: number[] = [];
  const loopback: number[] = [];
  const screen: number[] = [];
  const perRun: { firstDecodedMs: number; connectMs: number; domContentLoadedMs: number; screenP50Ms: number }[] = [];
  try {
    await new Promise((r) => setTimeout(r, 2_000)); // the demo cameras publishing
    for (let i = 0; i < runs; i++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(gw.url);
      await page.waitForFunction('window.ivgw && (window.ivgw.firstDecodedPageMs > 0 || window.ivgw.error !== "")', undefined, { timeout: 20_000, polling: 20 });
      const p = await page.evaluate<{ firstDecodedPageMs: number; connectMs: number; error: string }>('window.ivgw');
      if (p.error) {
        throw new Error(`run ${i}: ${p.error}`);
      }
      const dcl = await page.evaluate<number>('performance.getEntriesByType("navigation")[0].domContentLoadedEventEnd');
      await new Promise((r) => setTimeout(r, 1_000));
      const mine: number[] = [];
      for (let k = 0; k < 12; k++) {
        const s = await page.evaluate<number>('window.ivgw.screenLatencyMs');
        if (s > 0) {
          mine.push(s);
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      loopback.push(await page.evaluate<number>(LOOPBACK));
      await context.close();
      firstFrame.push(p.firstDecodedPageMs);
      domReady.push(dcl);
      screen.push(...mine);
      perRun.push({ firstDecodedMs: round(p.firstDecodedPageMs, 0), connectMs: round(p.connectMs, 0), domContentLoadedMs: round(dcl, 0), screenP50Ms: round(percentile(mine, 50), 0) });
    }
  } finally {
    await browser.close().catch(() => undefined);
    await gw.stop();
  }
  return {
    runs,
    pageLoadToFirstFrameP50Ms: round(percentile(firstFrame, 50), 0),
    pageLoadToFirstFrameP99Ms: round(percentile(firstFrame, 99), 0),
    pageLoadToFirstFrameTargetP99Ms: 1_500,
    captureToScreenP50Ms: round(percentile(screen, 50), 0),
    captureToScreenP99Ms: round(percentile(screen, 99), 0),
    captureToScreenSamples: screen.length,
    baseline: {
      domContentLoadedP50Ms: round(percentile(domReady, 50), 0),
      loopbackDataChannelOpenP50Ms: round(percentile(loopback, 50), 1),
    },
    perRun,
  };
}
