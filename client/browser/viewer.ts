/**
 * viewer — the page script of dist/www/index.html: reads the connection from the URL
 * fragment (never sent to any server: `#broker=ws://…&device=…&peer=…&token=…[&fp=sha-256 …][&channel=0]`),
 * connects with BrowserClient, lists the device's cameras (`channels`: codec, size, and
 * whether this browser can decode them), plays `action=live&channel=N` in the <video>
 * with mpegts.js (live-player.ts; H.264 + AAC; an H.265 channel this browser cannot decode
 * gets a message saying so instead, and no stream), sends commands from the text box and shows the
 * replies, and shows live numbers. Everything is also on `window.ivgw` for tests: state,
 * connect time, bytes, frames, integrity violations (the shared StreamReceiver counts the
 * same bytes the player gets), bitrate, latencies, watermark pauses, the refusal reason;
 * `window.ivgwControl.setAcking(false)` holds the stream's acks (the device's watermarks
 * then pause it).
 * Capture-to-screen latency: the newest presented picture's due time on the device's clock
 * (offset from ping) minus its capture time (`stream_time` originMs + its FLV timestamp,
 * which mpegts.js keeps as the media time: live timestamps start at 0); as a cross-check,
 * capture-to-receive (StreamReceiver) plus how far the picture is behind the buffered end.
 * Owns: the page's one connection, closed on `pagehide`. Must never: put the token anywhere
 * but the fragment.
 * Not yet: playback timeline, intercom, G.711 audio (a channel without AAC plays video only).
 */
import type { ChannelInfo } from '../../shared/protocol/control.js';
import { BrowserClient } from './browser-client.js';
import { LivePlayer, videoSupport } from './live-player.js';

interface ChannelView extends ChannelInfo {
  /** Whether this browser can decode the channel's video, and if not why, in words. */
  playable: boolean;
  why: string;
}

interface Progress {
  /** `unplayable`: connected, but this browser cannot decode the channel (no stream is opened). */
  state: 'connecting' | 'streaming' | 'unplayable' | 'failed' | 'closed';
  connectMs: number;
  firstFrameMs: number;
  bytes: number;
  videoFrames: number;
  audioFrames: number;
  keyframes: number;
  gaps: number;
  violations: string[];
  /** Capture-to-receive, ms (StreamReceiver). */
  latencyMs: number;
  /**
   * Capture-to-screen, ms, of the newest picture presented: when it was due on screen (device
   * clock, with the offset from ping) − (the stream's `originMs` + its timestamp); -1 before.
   */
  screenLatencyMs: number;
  /** The same estimated another way: latencyMs + what the <video> is behind its buffered end. */
  bufferLatencyMs: number;
  /** ms from the open request to the <video>'s first decoded frame on screen (-1 before). */
  firstDecodedMs: number;
  /** The same from the page's navigation start (page load → first decoded frame). */
  firstDecodedPageMs: number;
  /** Received stream bitrate over the last second, kbit/s. */
  kbps: number;
  /** `watermark high` events (the device paused the stream). */
  watermarkPauses: number;
  /** Timestamp jumps those pauses announced (StreamReceiver). */
  pauseGaps: number;
  /** Seeks to the live edge the page made. */
  seeks: number;
  /** The device's cameras (`channels`), empty until they are known. */
  channels: ChannelView[];
  /** The channel playing. */
  channel: number;
  /** The player's error in words ('' when none). */
  playerError: string;
  /** The ICE candidate pair in use (BrowserClient.selectedPath). */
  path: string;
  /** Why it failed or closed, in words (the device's or the broker's reason). */
  error: string;
  code: string;
}

declare global {
  interface Window {
    ivgw: Progress;
    /** For tests and the console: stop or resume acking the live stream (the device's watermarks then pause it). */
    ivgwControl: { setAcking(on: boolean): void };
  }
}

const progress: Progress = { state: 'connecting', connectMs: -1, firstFrameMs: -1, bytes: 0, videoFrames: 0, audioFrames: 0, keyframes: 0, gaps: 0, violations: [], latencyMs: -1, screenLatencyMs: -1, bufferLatencyMs: -1, firstDecodedMs: -1, firstDecodedPageMs: -1, kbps: 0, watermarkPauses: 0, pauseGaps: 0, seeks: 0, channels: [], channel: 0, playerError: '', path: '', error: '', code: '' };
window.ivgw = progress;

const $ = (id: string): HTMLElement => document.getElementById(id) as HTMLElement;
function show(): void {
  $('state').textContent = progress.state;
  $('stats').textContent = progress.state === 'streaming' || progress.videoFrames > 0
    ? `connected in ${Math.round(progress.connectMs)} ms; first frame ${Math.round(progress.firstFrameMs)} ms, on screen ${Math.round(progress.firstDecodedMs)} ms; ${progress.videoFrames} video / ${progress.audioFrames} audio frames, ${(progress.bytes / 1024).toFixed(0)} KiB; ${progress.violations.length} violations`
    : '';
  $('live').textContent = progress.state === 'streaming'
    ? `${progress.kbps.toFixed(0)} kbit/s; latency capture→receive ${Math.round(progress.latencyMs)} ms, capture→screen ${Math.round(progress.screenLatencyMs)} ms (≈ ${Math.round(progress.bufferLatencyMs)} ms from the buffer); ${progress.watermarkPauses} watermark pauses; ${progress.seeks} seeks to the live edge${progress.playerError ? `; player: ${progress.playerError}` : ''}`
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

function showChannels(list: ChannelView[]): void {
  const ul = $('channels');
  ul.replaceChildren(...list.map((c) => {
    const li = document.createElement('li');
    const v = c.video ? `${c.video.codec.toUpperCase()}${c.video.width ? ` ${c.video.width}×${c.video.height}` : ''}${c.video.fps ? ` ${c.video.fps} fps` : ''}` : 'no video';
    const a = c.audio ? `, audio ${c.audio.codec} ${c.audio.sampleRate} Hz` : '';
    li.textContent = `channel ${c.channel}: ${v}${a}${c.playable ? '' : ` — ${c.why}`}`;
    li.dataset.channel = String(c.channel);
    if (!c.playable) {
      li.className = 'unplayable';
    }
    return li;
  }));
}

function commandBox(client: BrowserClient): void {
  const form = $('command') as HTMLFormElement;
  const input = $('command-text') as HTMLInputElement;
  const out = $('command-reply');
  form.hidden = false;
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = input.value;
    out.textContent = '…';
    client.command(text).then((reply) => {
      out.textContent = reply.byteLength === 0 ? '(empty reply: the device closed the channel)' : new TextDecoder().decode(reply);
    }, (err: unknown) => {
      const x = err as { code?: unknown; message?: unknown };
      out.textContent = `error ${typeof x.code === 'string' ? x.code : ''}: ${typeof x.message === 'string' ? x.message : String(err)}`;
    });
  });
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
  const view: { player?: LivePlayer } = {};
  client.onClosed = (reason) => {
    view.player?.destroy();
    fail('closed', new Error(reason));
  };
  window.addEventListener('pagehide', () => {
    // the connection first: nothing the player does on its way out may keep it open
    client.close();
    try {
      view.player?.destroy();
    } catch {
      // the page is going anyway
    }
  });
  commandBox(client);
  const channel = Number(q.get('channel') ?? '0');
  progress.channel = channel;
  const [, list] = await Promise.all([client.syncClock().catch(() => undefined), client.channels().catch(() => [] as ChannelInfo[])]);
  progress.channels = list.map((c) => ({ ...c, ...(c.video ? (({ ok, reason }) => ({ playable: ok, why: reason }))(videoSupport(c.video.codec)) : { playable: false, why: 'no video' }) }));
  showChannels(progress.channels);
  const info = progress.channels.find((c) => c.channel === channel);
  const video = $('video') as HTMLVideoElement;
  if (info && !info.playable) {
    $('player-message').textContent = `channel ${channel}: ${info.why}`;
    video.hidden = true;
    progress.state = 'unplayable';
    show();
    return;
  }
  const live = new LivePlayer(video, info?.audio?.codec === 'aac');
  view.player = live;
  let originMs = -1;
  client.onEvent = (msg) => {
    if (msg.op === 'event' && msg.event === 'watermark' && msg.level === 'high') {
      progress.watermarkPauses++;
    } else if (msg.op === 'event' && msg.event === 'stream_time') {
      originMs = msg.originMs;
    }
  };
  const openedAt = performance.now();
  video.requestVideoFrameCallback(() => {
    progress.firstDecodedMs = performance.now() - openedAt;
    progress.firstDecodedPageMs = performance.now();
  });
  const receiver = await client.open(`action=live&channel=${channel}`, 5_000, (b) => live.push(b));
  progress.state = 'streaming';
  window.ivgwControl = { setAcking: (on) => client.setAcking(receiver.stream, on) };
  progress.path = await client.selectedPath().catch(() => 'unknown');
  let lastBytes = 0;
  let lastAt = performance.now();
  setInterval(() => {
    const s = receiver.stats;
    Object.assign(progress, { bytes: s.bytes, videoFrames: s.videoFrames, audioFrames: s.audioFrames, keyframes: s.keyframes, gaps: s.gaps, pauseGaps: s.pauseGaps, firstFrameMs: s.firstFrameMs, violations: [...s.violations], latencyMs: s.lastLatencyMs });
    const now = performance.now();
    if (now - lastAt >= 1_000) {
      progress.kbps = ((s.bytes - lastBytes) * 8) / (now - lastAt);
      lastBytes = s.bytes;
      lastAt = now;
    }
    progress.seeks = live.seeks;
    progress.playerError = live.error;
    progress.bufferLatencyMs = s.lastLatencyMs >= 0 ? s.lastLatencyMs + live.behindS() * 1_000 : -1;
    if (originMs >= 0 && live.presentedAtMs >= 0) {
      progress.screenLatencyMs = performance.timeOrigin + live.presentedAtMs + client.clockOffsetMs - (originMs + live.presentedMediaS * 1_000);
    }
    show();
  }, 250);
  show();
}

show();
main().catch((err: unknown) => fail('failed', err));
