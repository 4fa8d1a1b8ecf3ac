/**
 * viewer — the page script of dist/www/index.html (a minimal viewer; the full one with
 * playback in <video> comes later): reads the connection from the URL fragment (never
 * sent to any server: `#broker=ws://…&device=…&peer=…&token=…[&fp=sha-256 …][&channel=0]`),
 * connects with BrowserClient, opens `action=live&channel=N`, and shows progress in the
 * page and on `window.ivgw` (state, connect time, bytes, frames, integrity violations,
 * the refusal reason) for people and tests.
 * Owns: the page's one connection. Must never: put the token anywhere but the fragment.
 */
import { BrowserClient } from './browser-client.js';

interface Progress {
  state: 'connecting' | 'streaming' | 'failed' | 'closed';
  connectMs: number;
  firstFrameMs: number;
  bytes: number;
  videoFrames: number;
  audioFrames: number;
  keyframes: number;
  gaps: number;
  violations: string[];
  latencyMs: number;
  /** The ICE candidate pair in use (BrowserClient.selectedPath). */
  path: string;
  /** Why it failed or closed, in words (the device's or the broker's reason). */
  error: string;
  code: string;
}

declare global {
  interface Window {
    ivgw: Progress;
  }
}

const progress: Progress = { state: 'connecting', connectMs: -1, firstFrameMs: -1, bytes: 0, videoFrames: 0, audioFrames: 0, keyframes: 0, gaps: 0, violations: [], latencyMs: -1, path: '', error: '', code: '' };
window.ivgw = progress;

const $ = (id: string): HTMLElement => document.getElementById(id) as HTMLElement;
function show(): void {
  $('state').textContent = progress.state;
  $('stats').textContent = progress.state === 'streaming' || progress.videoFrames > 0
    ? `connected in ${Math.round(progress.connectMs)} ms; first frame ${Math.round(progress.firstFrameMs)} ms; ${progress.videoFrames} video / ${progress.audioFrames} audio frames, ${(progress.bytes / 1024).toFixed(0)} KiB; ${progress.violations.length} violations; latency ${Math.round(progress.latencyMs)} ms`
    : '';
  $('error').textContent = progress.error;
}

function fail(state: 'failed' | 'closed', err: unknown): void {
  const e = err as { code?: unknown; message?: unknown };
  progress.state = state;
  progress.code = typeof e.code === 'string' ? e.code : '';
  progress.error = `${progress.code ? `${progress.code}: ` : ''}${typeof e.message === 'string' ? e.message : String(err)}`;
  show();
}

async function main(): Promise<void> {
  const q = new URLSearchParams(location.hash.slice(1));
  const need = (k: string): string => {
    const v = q.get(k);
    if (!v) {
      throw Object.assign(new Error(`the page address lacks #${k}=… (give broker, device, peer and token in the fragment)`), { code: 'IV_ERR_INVALID_PARAM' });
    }
    return v;
  };
  const fp = q.get('fp');
  const client = await BrowserClient.connect({ url: need('broker'), deviceId: need('device'), peerId: need('peer'), token: need('token'), ...(fp ? { fingerprint: fp } : {}) });
  progress.connectMs = client.connectMs;
  client.onClosed = (reason) => fail('closed', new Error(reason));
  window.addEventListener('pagehide', () => client.close());
  await client.syncClock().catch(() => undefined);
  const receiver = await client.open(`action=live&channel=${Number(q.get('channel') ?? '0')}`);
  progress.state = 'streaming';
  progress.path = await client.selectedPath().catch(() => 'unknown');
  setInterval(() => {
    const s = receiver.stats;
    Object.assign(progress, { bytes: s.bytes, videoFrames: s.videoFrames, audioFrames: s.audioFrames, keyframes: s.keyframes, gaps: s.gaps, firstFrameMs: s.firstFrameMs, violations: [...s.violations], latencyMs: s.lastLatencyMs });
    show();
  }, 250);
  show();
}

show();
main().catch((err: unknown) => fail('failed', err));
