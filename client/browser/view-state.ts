/**
 * view-state — what the viewer page knows and shows: one `Progress` record (also
 * `window.ivgw`, for tests and the console) and the one function that renders it into the
 * page's text. Every number a user sees is here, named as they see it.
 * Owns: the record and the rendering. Must never: hold anything secret (the token stays
 * in the URL fragment) or do I/O.
 */
import type { ChannelInfo } from '../../shared/protocol/control.js';

export interface ChannelView extends ChannelInfo {
  /** Whether this browser can decode the channel's video, and if not why, in words. */
  playable: boolean;
  why: string;
}

export interface AudioView {
  /** How the stream's audio is played: MSE with the video (AAC), Web Audio (G.711), not at all. */
  mode: 'mse' | 'webaudio' | 'none';
  codec: string;
  /** G.711 frames decoded and scheduled; dropped for arriving too late to play. */
  frames: number;
  late: number;
  /** Seconds of decoded audio whose time to play has come. */
  playedS: number;
  /** RMS level of what is playing (0..1), from an AnalyserNode. */
  level: number;
  /** The AudioContext's state ('suspended' until the user clicks, under autoplay rules). */
  context: string;
}

export interface IntercomView {
  state: 'off' | 'starting' | 'on' | 'error';
  /** The format sent (`action=voice&codec=g711a&rate=8000&channels=1`). */
  params: string;
  framesSent: number;
  /** Frames dropped while a restart was under way. */
  dropped: number;
  error: string;
}

export interface PlaybackView {
  state: 'off' | 'opening' | 'playing' | 'ended' | 'failed';
  /** The window asked for, unix ms. */
  startMs: number;
  endMs: number;
  /** Why it ended (the device's reason) or failed. */
  reason: string;
}

export interface Progress {
  /** `unplayable`: connected, but this browser cannot decode the channel (no stream is opened). */
  state: 'connecting' | 'streaming' | 'playback' | 'unplayable' | 'interrupted' | 'failed' | 'closed';
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
  /** Timestamp jumps those pauses (and restarts) announced (StreamReceiver). */
  pauseGaps: number;
  /** Those pauses video came back from, with or without a jump (StreamReceiver). */
  resumes: number;
  /** Seeks to the live edge the page made. */
  seeks: number;
  /** Device-initiated ICE restarts the page went through, and how long each took (offer → control open). */
  restarts: number;
  restartMs: number[];
  /** Times the stream moved to a new data channel (restarts), bytes of cut tags dropped. */
  channelRestarts: number;
  droppedBytes: number;
  /** The device's cameras (`channels`), empty until they are known. */
  channels: ChannelView[];
  /** The channel playing. */
  channel: number;
  audio: AudioView;
  intercom: IntercomView;
  playback: PlaybackView;
  /** The player's error in words ('' when none). */
  playerError: string;
  /** The ICE candidate pair in use (BrowserClient.selectedPath). */
  path: string;
  /** Why it failed, closed or is interrupted, in words (the device's or the broker's reason). */
  error: string;
  code: string;
}

export function newProgress(): Progress {
  return {
    state: 'connecting', connectMs: -1, firstFrameMs: -1, bytes: 0, videoFrames: 0, audioFrames: 0, keyframes: 0, gaps: 0, violations: [],
    latencyMs: -1, screenLatencyMs: -1, bufferLatencyMs: -1, firstDecodedMs: -1, firstDecodedPageMs: -1, kbps: 0, watermarkPauses: 0, pauseGaps: 0, resumes: 0,
    seeks: 0, restarts: 0, restartMs: [], channelRestarts: 0, droppedBytes: 0, channels: [], channel: 0,
    audio: { mode: 'none', codec: '', frames: 0, late: 0, playedS: 0, level: 0, context: '' },
    intercom: { state: 'off', params: '', framesSent: 0, dropped: 0, error: '' },
    playback: { state: 'off', startMs: 0, endMs: 0, reason: '' },
    playerError: '', path: '', error: '', code: '',
  };
}

const $ = (id: string): HTMLElement => document.getElementById(id) as HTMLElement;
const ms = (n: number): string => `${Math.round(n)} ms`;

/** Render the record into the page. */
export function show(p: Progress): void {
  $('state').textContent = p.state === 'playback' ? `playback (${p.playback.state})` : p.state;
  const moving = p.state === 'streaming' || p.state === 'playback' || p.state === 'interrupted';
  $('stats').textContent = moving || p.videoFrames > 0
    ? `connected in ${ms(p.connectMs)}; first frame ${ms(p.firstFrameMs)}, on screen ${ms(p.firstDecodedMs)}; ${p.videoFrames} video / ${p.audioFrames} audio frames, ${(p.bytes / 1024).toFixed(0)} KiB; ${p.violations.length} violations`
    : '';
  $('live').textContent = moving
    ? `${p.kbps.toFixed(0)} kbit/s; latency capture→receive ${ms(p.latencyMs)}, capture→screen ${ms(p.screenLatencyMs)} (≈ ${ms(p.bufferLatencyMs)} from the buffer); ${p.watermarkPauses} watermark pauses; ${p.restarts} restarts${p.restartMs.length > 0 ? ` (last ${ms(p.restartMs[p.restartMs.length - 1] ?? 0)})` : ''}; ${p.seeks} seeks to the live edge${p.playerError ? `; player: ${p.playerError}` : ''}`
    : '';
  const a = p.audio;
  $('audio').textContent = a.mode === 'webaudio'
    ? `audio ${a.codec} via Web Audio: ${a.frames} frames, ${a.playedS.toFixed(1)} s played, level ${(a.level * 100).toFixed(0)} %, ${a.late} late${a.context === 'suspended' ? ' — click “Sound on” to hear it' : ''}`
    : a.mode === 'mse' ? `audio ${a.codec} with the video` : a.codec ? `audio ${a.codec}: not played` : '';
  const i = p.intercom;
  $('intercom-state').textContent = i.state === 'on'
    ? `talking: ${i.framesSent} frames sent (${i.params})${i.dropped ? `, ${i.dropped} dropped during a restart` : ''}`
    : i.state === 'error' ? `intercom: ${i.error}` : i.state === 'starting' ? 'starting the microphone…' : i.framesSent > 0 ? `intercom off (${i.framesSent} frames sent)` : '';
  const b = p.playback;
  $('playback-state').textContent = b.state === 'off' ? '' : `playback ${new Date(b.startMs).toLocaleTimeString()}–${new Date(b.endMs).toLocaleTimeString()}: ${b.state}${b.reason ? ` (${b.reason})` : ''}`;
  $('error').textContent = p.error;
}
