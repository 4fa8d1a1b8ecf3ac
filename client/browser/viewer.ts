/**
 * viewer — the page script of dist/www/index.html: reads the connection from the URL
 * fragment (never sent to any server: `#broker=ws://…&device=…&peer=…&token=…[&fp=sha-256 …][&channel=0]`),
 * connects with BrowserClient, lists the device's cameras (`channels`: codec, size, and
 * whether this browser can decode them), plays `action=live&channel=N` in the <video>
 * with mpegts.js (live-player.ts; H.264 + AAC; G.711 audio through Web Audio,
 * g711-player.ts; an H.265 channel this browser cannot decode gets a message saying so
 * instead, and no stream), plays back what the channel recorded from its timeline
 * (timeline.ts) and returns to live, talks through the microphone (mic-intercom.ts),
 * sends commands from the text box and shows the replies, survives the device's ICE
 * restart (the stream goes on, `restarts` counts them), and shows live numbers
 * (view-state.ts; all of it is also `window.ivgw` for tests).
 * `window.ivgwControl` (tests and the console): `setAcking(false)` holds the stream's acks
 * (the device's watermarks then pause it), `playback(startMs, endMs)`, `live()`,
 * `talk(on)`.
 * Capture-to-screen latency: the newest presented picture's due time on the device's clock
 * (offset from ping) minus its capture time (`stream_time` originMs + its FLV timestamp,
 * which mpegts.js keeps as the media time: live timestamps start at 0).
 * Owns: the page's one connection and its one stream, closed on `pagehide`. Must never:
 * put the token anywhere but the fragment.
 */
import type { ChannelInfo } from '../../shared/protocol/control.js';
import type { StreamReceiver } from '../stream-receiver.js';
import { BrowserClient } from './browser-client.js';
import { G711Player } from './g711-player.js';
import { LivePlayer, videoSupport } from './live-player.js';
import { MicIntercom } from './mic-intercom.js';
import { playbackParams, renderTimeline } from './timeline.js';
import { newProgress, show, type ChannelView, type Progress } from './view-state.js';

declare global {
  interface Window {
    ivgw: Progress;
    ivgwControl: { setAcking(on: boolean): void; playback(startMs: number, endMs: number): Promise<void>; live(): Promise<void>; talk(on: boolean): Promise<void> };
  }
}

const progress = newProgress();
window.ivgw = progress;
const $ = (id: string): HTMLElement => document.getElementById(id) as HTMLElement;

function errorText(err: unknown): { code: string; text: string } {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  return { code, text: `${code ? `${code}: ` : ''}${typeof e.message === 'string' ? e.message : String(err)}` };
}

function fail(state: 'failed' | 'closed', err: unknown): void {
  const { code, text } = errorText(err);
  progress.state = state;
  progress.code = code;
  progress.error = text;
  show(progress);
}

function showChannels(list: ChannelView[]): void {
  $('channels').replaceChildren(...list.map((c) => {
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
    out.textContent = '…';
    client.command(input.value).then((reply) => {
      out.textContent = reply.byteLength === 0 ? '(empty reply: the device closed the channel)' : new TextDecoder().decode(reply);
    }, (err: unknown) => {
      out.textContent = `error ${errorText(err).text}`;
    });
  });
}

/** The stream on screen: live or a recorded window, its player(s). */
interface Showing {
  kind: 'live' | 'playback';
  receiver: StreamReceiver | undefined;
  player: LivePlayer;
  g711: G711Player | undefined;
  originMs: number;
}

class Viewer {
  private showing: Showing | undefined;
  private readonly video = $('video') as HTMLVideoElement;
  private firstLive = true;
  private lastBytes = 0;
  private lastAt = performance.now();

  constructor(private readonly client: BrowserClient, private readonly info: ChannelView | undefined, private readonly channel: number) {}

  /** Play `params` in the <video>, replacing what plays. */
  async open(kind: 'live' | 'playback', params: string): Promise<void> {
    await this.stop();
    const audio = this.info?.audio;
    const g711 = audio && (audio.codec === 'g711a' || audio.codec === 'g711u') ? audio.codec : undefined;
    const player = new LivePlayer(this.video, audio?.codec === 'aac', kind === 'live');
    const s: Showing = { kind, receiver: undefined, player, originMs: -1, g711: g711 && audio ? new G711Player(g711, audio.sampleRate, () => this.mediaNow()) : undefined };
    this.showing = s;
    progress.audio = { ...progress.audio, mode: audio?.codec === 'aac' ? 'mse' : g711 ? 'webaudio' : 'none', codec: audio?.codec ?? '' };
    $('sound').hidden = !g711;
    const openedAt = performance.now();
    if (kind === 'live' && this.firstLive) {
      this.firstLive = false;
      this.video.requestVideoFrameCallback(() => {
        progress.firstDecodedMs = performance.now() - openedAt;
        progress.firstDecodedPageMs = performance.now();
      });
    }
    const receiver = await this.client.open(params, 5_000, (b) => player.push(b), (reason) => this.ended(s, reason));
    if (this.showing !== s) {
      void this.client.closeStream(receiver.stream).catch(() => undefined);
      return;
    }
    s.receiver = receiver;
    receiver.onTag = (tag) => {
      if (s.g711 && tag.kind === 'audio' && !tag.config) {
        s.g711.push(tag.payload, tag.timestamp);
      }
    };
    window.ivgwControl.setAcking = (on) => this.client.setAcking(receiver.stream, on);
    this.lastBytes = 0;
  }

  /** The stream playing ended on the device's side. */
  private ended(s: Showing, reason: string): void {
    if (this.showing !== s) {
      return;
    }
    s.receiver = undefined;
    if (s.kind === 'playback') {
      progress.playback.state = 'ended';
      progress.playback.reason = reason;
    } else if (/open the stream again/.test(reason)) {
      void this.live(); // a restarted peer actor cannot resume this stream: open it again
    } else {
      progress.error = `the live stream ended: ${reason}`;
    }
    show(progress);
  }

  async live(): Promise<void> {
    progress.playback = { state: 'off', startMs: 0, endMs: 0, reason: '' };
    $('back-live').hidden = true;
    progress.state = 'streaming';
    await this.open('live', `action=live&channel=${this.channel}`);
  }

  async playback(startMs: number, endMs: number): Promise<void> {
    progress.playback = { state: 'opening', startMs, endMs, reason: '' };
    progress.state = 'playback';
    $('back-live').hidden = false;
    show(progress);
    try {
      await this.open('playback', playbackParams(this.channel, startMs, endMs));
      progress.playback.state = 'playing';
    } catch (err) {
      progress.playback.state = 'failed';
      progress.playback.reason = errorText(err).text;
    }
    show(progress);
  }

  /** The stream's time origin (`stream_time`). */
  origin(stream: number, originMs: number): void {
    const s = this.showing;
    if (s && (s.receiver === undefined || s.receiver.stream === stream)) {
      s.originMs = originMs; // before open() resolved it can only be the stream being opened
    }
  }

  /** The media time on screen while the video plays, for lip sync. */
  private mediaNow(): number | undefined {
    const v = this.video;
    return !v.paused && v.readyState >= 2 && v.currentTime > 0 ? v.currentTime : undefined;
  }

  async stop(): Promise<void> {
    const s = this.showing;
    this.showing = undefined;
    if (!s) {
      return;
    }
    s.player.destroy();
    s.g711?.destroy();
    if (s.receiver) {
      await this.client.closeStream(s.receiver.stream).catch(() => undefined);
    }
  }

  /** Let the G.711 audio out (a click: autoplay rules). */
  soundOn(): void {
    void this.showing?.g711?.resume();
  }

  /** Copy the numbers of what plays into the record (every 250 ms). */
  tick(): void {
    const s = this.showing;
    const r = s?.receiver;
    if (!s || !r) {
      return;
    }
    const st = r.stats;
    Object.assign(progress, { bytes: st.bytes, videoFrames: st.videoFrames, audioFrames: st.audioFrames, keyframes: st.keyframes, gaps: st.gaps, pauseGaps: st.pauseGaps, resumes: st.resumes, firstFrameMs: st.firstFrameMs, violations: [...st.violations], latencyMs: st.lastLatencyMs, channelRestarts: st.channelRestarts, droppedBytes: st.droppedBytes });
    const now = performance.now();
    if (now - this.lastAt >= 1_000) {
      progress.kbps = (Math.max(0, st.bytes - this.lastBytes) * 8) / (now - this.lastAt);
      this.lastBytes = st.bytes;
      this.lastAt = now;
    }
    progress.seeks = s.player.seeks;
    progress.playerError = s.player.error;
    progress.bufferLatencyMs = st.lastLatencyMs >= 0 ? st.lastLatencyMs + s.player.behindS() * 1_000 : -1;
    if (s.kind === 'live' && s.originMs >= 0 && s.player.presentedAtMs >= 0) {
      progress.screenLatencyMs = performance.timeOrigin + s.player.presentedAtMs + this.client.clockOffsetMs - (s.originMs + s.player.presentedMediaS * 1_000);
    }
    if (s.g711) {
      Object.assign(progress.audio, { frames: s.g711.frames, late: s.g711.late, playedS: s.g711.played(), level: s.g711.level(), context: s.g711.state });
    }
  }
}

function intercomButton(client: BrowserClient, codec: 'g711a' | 'g711u'): (on: boolean) => Promise<void> {
  const mic = new MicIntercom(client.voice, codec);
  const button = $('talk') as HTMLButtonElement;
  button.hidden = false;
  const sync = (): void => {
    Object.assign(progress.intercom, { state: mic.state, params: mic.params, error: mic.error, framesSent: client.voice.sent, dropped: client.voice.dropped });
    button.textContent = mic.state === 'on' ? 'Stop talking' : 'Talk';
    show(progress);
  };
  const talk = async (on: boolean): Promise<void> => {
    if (on) {
      await mic.start();
    } else {
      await mic.stop().catch((err: unknown) => {
        progress.intercom.error = errorText(err).text;
      });
    }
    sync();
  };
  button.addEventListener('click', () => void talk(mic.state !== 'on'));
  setInterval(() => {
    if (mic.state === 'on') {
      sync();
    }
  }, 500);
  return talk;
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
  const views: { viewer?: Viewer } = {};
  client.onClosed = (reason) => {
    void views.viewer?.stop();
    fail('closed', new Error(reason));
  };
  client.onInterrupted = (reason) => {
    progress.state = 'interrupted';
    progress.error = `connection interrupted (${reason}): waiting for the device to restart it`;
    show(progress);
  };
  client.onRestart = ({ ms }) => {
    progress.restarts = client.restarts.length;
    progress.restartMs.push(ms);
    progress.state = progress.playback.state === 'off' ? 'streaming' : 'playback';
    progress.error = '';
    show(progress);
  };
  window.addEventListener('pagehide', () => {
    // the connection first: nothing the player does on its way out may keep it open
    client.close();
    void views.viewer?.stop().catch(() => undefined);
  });
  commandBox(client);
  const channel = Number(q.get('channel') ?? '0');
  progress.channel = channel;
  const [, list] = await Promise.all([client.syncClock().catch(() => undefined), client.channels().catch(() => [] as ChannelInfo[])]);
  progress.channels = list.map((c) => ({ ...c, ...(c.video ? (({ ok, reason }) => ({ playable: ok, why: reason }))(videoSupport(c.video.codec)) : { playable: false, why: 'no video' }) }));
  showChannels(progress.channels);
  const info = progress.channels.find((c) => c.channel === channel);
  const talk = intercomButton(client, info?.audio?.codec === 'g711u' ? 'g711u' : 'g711a');
  if (info && !info.playable) {
    $('player-message').textContent = `channel ${channel}: ${info.why}`;
    ($('video') as HTMLVideoElement).hidden = true;
    progress.state = 'unplayable';
    window.ivgwControl = { setAcking: () => undefined, playback: async () => undefined, live: async () => undefined, talk };
    show(progress);
    return;
  }
  const viewer = new Viewer(client, info, channel);
  views.viewer = viewer;
  window.ivgwControl = { setAcking: () => undefined, playback: (s, e) => viewer.playback(s, e), live: () => viewer.live(), talk };
  client.onEvent = (msg) => {
    if (msg.op === 'event' && msg.event === 'watermark' && msg.level === 'high') {
      progress.watermarkPauses++;
    } else if (msg.op === 'event' && msg.event === 'stream_time') {
      viewer.origin(msg.stream, msg.originMs);
    }
  };
  $('sound').addEventListener('click', () => viewer.soundOn());
  $('back-live').addEventListener('click', () => void viewer.live());
  const timeline = (): void => {
    renderTimeline($('timeline'), channel, info?.recorded ?? [], (s, e) => void viewer.playback(s, e));
  };
  timeline();
  $('refresh-timeline').addEventListener('click', () => {
    void client.channels().then((l) => {
      const c = l.find((x) => x.channel === channel);
      if (info && c?.recorded) {
        info.recorded = c.recorded;
      }
      timeline();
    }, () => undefined);
  });
  await viewer.live();
  // the path in use, kept current: ICE may settle on its pair after the first frames, and a restart moves it
  const readPath = async (): Promise<void> => {
    progress.path = await client.selectedPath().catch(() => 'unknown');
  };
  await readPath();
  let ticks = 0;
  let reading: Promise<void> | undefined;
  setInterval(() => {
    viewer.tick();
    if (++ticks % 4 === 0 && !reading) {
      reading = readPath().finally(() => (reading = undefined));
    }
    show(progress);
  }, 250);
  show(progress);
}

show(progress);
main().catch((err: unknown) => fail('failed', err));
