/**
 * peer-streams — the streams of one app's peer actor: `open` checked against the token
 * and the limits, live streams from the camera rings (a camera with video: its feed,
 * muxed once per worker and shared by its live viewers; or the user's onSendGet bytes),
 * playback streams from the channel's local recording (a PlaybackFeeder replays it in
 * real time into a private ring and the stream ends with `stream_closed`, reason `end of
 * recording`), each on its own `s<n>` channel; the 10 ms send tick with the shared
 * statistics; a restarted actor's live streams re-attached under their numbers.
 * Owns: PeerState.streams and the stream budget taken for them. Must never: open a
 * stream the token does not grant, or leave a stream without giving its budget back.
 */
import type { DataChannel } from 'node-datachannel';
import type { ActorContext } from '../../runtime/actor.js';
import type { PeerMethods } from './peer-methods.js';
import { FrameRing } from '../../runtime/frame-ring.js';
import { streamLabel } from '../../shared/protocol/transport-rules.js';
import { parseStreamParams, type StreamParams } from '../../shared/protocol/stream-params.js';
import { PlaybackFeeder } from '../../recording/playback-feeder.js';
import { recordedSegments } from '../../recording/recording-index.js';
import { CustomSender } from './custom-sender.js';
import { emitPeerEvent } from './peer-events.js';
import { refuse, send, type CameraChannel, type PeerState } from './peer-state.js';
import { STATS_SLOTS, writeSlot } from './send-stats-block.js';
import type { SessionResume } from './session.js';
import { StreamSender } from './stream-sender.js';
import { LiveSender } from './live-sender.js';
import { WatermarkState } from './watermark.js';
import { closeKept } from './transport-keeper.js';

/** The one way a stream goes: final statistics, its playback ring closed, its place in the device's budget given back. */
export function removeStream(state: PeerState, stream: number): void {
  const s = state.streams.get(stream);
  if (!s) {
    return;
  }
  state.streams.delete(stream);
  writeSlot(state.statsBlock, stream, s.sender.stats(), false);
  if (s.sender instanceof LiveSender) {
    s.sender.close();
  }
  s.playback?.close();
  state.budget?.give();
}

/** The app's `open`: checked here, then served as a live or a playback stream. */
export function openStream(state: PeerState, ctx: ActorContext<PeerMethods>, id: number, params: string): void {
  const p = parseStreamParams(params);
  if ('field' in p) {
    send(state, { op: 'error', id, code: 'IV_ERR_INVALID_PARAM', message: `${p.field}: ${p.message}` });
    return;
  }
  if (refuse(state, id, p.action)) {
    return;
  }
  const cam = state.args.cameras.find((c) => c.channel === p.channel);
  const ring = state.rings.get(p.channel);
  if (!state.args.customSource && (!cam || !ring)) {
    send(state, { op: 'error', id, code: 'IV_ERR_INVALID_PARAM', message: `params.channel: no camera on channel ${p.channel}` });
    return;
  }
  if (!hasStreamSlot(state)) {
    send(state, { op: 'error', id, code: 'IV_ERR_BUSY', message: `admission: at most ${maxStreams(state)} streams per app are open at once; close one first` });
    return;
  }
  if (p.action === 'playback' && !state.args.customSource) { // with onSendGet the firmware serves playback too (its send_init gets the params)
    openPlayback(state, ctx, id, params, p, cam).catch((err: unknown) => send(state, { op: 'error', id, code: 'IV_ERR_INTERNAL', message: `playback: ${(err as Error).message}` }));
    return;
  }
  attachStream(state, ctx, id, params, ring as FrameRing, cam, undefined);
}

/** Serve a data channel for an open stream: a channel that closes by itself ends the stream. */
export function watchStreamChannel(state: PeerState, ctx: ActorContext<PeerMethods>, stream: number, dc: DataChannel): void {
  state.channels.add(dc);
  dc.onClosed(() => {
    if (state.streams.get(stream)?.dc === dc) {
      removeStream(state, stream);
      emitPeerEvent(ctx, { type: 'stream-close', stream, detail: { reason: 'channel closed' } });
    }
    state.channels.delete(dc);
  });
}

function maxStreams(state: PeerState): number {
  return Math.min(state.args.maxStreams ?? 8, STATS_SLOTS - 1);
}

function hasStreamSlot(state: PeerState): boolean {
  return state.streams.size < maxStreams(state) && state.pc !== undefined;
}

/** Stream numbers are reused: a new stream takes the lowest one no open stream has (1..STATS_SLOTS-1). */
function freeStreamNumber(state: PeerState): number {
  let n = 1;
  while (state.streams.has(n)) {
    n++;
  }
  return n;
}

/** `action=playback&channel=N&start=S[&end=E]` (unix seconds): the recording, paced in real time. */
async function openPlayback(state: PeerState, ctx: ActorContext<PeerMethods>, id: number, params: string, p: StreamParams, cam: CameraChannel | undefined): Promise<void> {
  if (!cam?.recording) {
    send(state, { op: 'error', id, code: 'IV_ERR_NOT_SUPPORTED', message: `channel ${p.channel} has no local recording to play back` });
    return;
  }
  if (p.start === undefined) {
    send(state, { op: 'error', id, code: 'IV_ERR_INVALID_PARAM', message: 'params.start: playback needs a start time (unix seconds)' });
    return;
  }
  const startMs = p.start * 1000;
  const endMs = p.end === undefined ? startMs + 3_600_000 : p.end * 1000;
  if (endMs <= startMs) {
    send(state, { op: 'error', id, code: 'IV_ERR_INVALID_PARAM', message: 'params.end: must be after params.start' });
    return;
  }
  let segments: Awaited<ReturnType<typeof recordedSegments>>;
  try {
    segments = await recordedSegments(cam.recording.spoolDir, cam.recording.device, p.channel, startMs, endMs);
  } catch (err) {
    send(state, { op: 'error', id, code: 'IV_ERR_INTERNAL', message: `reading the recording: ${(err as Error).message}` });
    return;
  }
  if (!ctx.alive) {
    return;
  }
  if (segments.length === 0) {
    send(state, { op: 'error', id, code: 'IV_ERR_INVALID_PARAM', message: `params.start: channel ${p.channel} has no recording between ${new Date(startMs).toISOString()} and ${new Date(endMs).toISOString()}` });
    return;
  }
  if (!hasStreamSlot(state)) {
    send(state, { op: 'error', id, code: 'IV_ERR_BUSY', message: `admission: at most ${maxStreams(state)} streams per app are open at once; close one first` });
    return;
  }
  const ring = FrameRing.create({ dataBytes: 4 << 20, slots: 2048 });
  const feederOpts: ConstructorParameters<typeof PlaybackFeeder>[0] = { segments, ring };
  const rec = cam.recording;
  if (endMs > Date.now()) {
    // the window is still being recorded: follow the recording until its end
    feederOpts.follow = { untilMs: endMs, more: (fromMs) => recordedSegments(rec.spoolDir, rec.device, p.channel, fromMs, endMs) };
  }
  if (cam.video) {
    feederOpts.video = cam.video;
  }
  if (cam.audio) {
    feederOpts.audio = cam.audio;
  }
  attachStream(state, ctx, id, params, ring, cam, new PlaybackFeeder(feederOpts));
}

/**
 * Start serving a stream on a new `s<n>` channel. `id` is the app's open request (answered
 * `ok`); a resumed stream (restarted actor) has none and keeps its number `resumeAs`.
 */
function attachStream(state: PeerState, ctx: ActorContext<PeerMethods>, id: number | undefined, params: string, ring: FrameRing, cam: CameraChannel | undefined, playback: PlaybackFeeder | undefined, resumeAs?: number, originMs?: number): void {
  if (!state.pc) {
    return;
  }
  if (state.budget && !state.budget.tryTake()) {
    playback?.close();
    if (id !== undefined) {
      send(state, { op: 'error', id, code: 'IV_ERR_BUSY', message: `admission: the device already serves ${state.budget.limit} streams (its limit); try again later` });
    }
    return;
  }
  const stream = resumeAs ?? freeStreamNumber(state);
  const openedAt = performance.now();
  const dc = state.pc.createDataChannel(streamLabel(stream), {});
  watchStreamChannel(state, ctx, stream, dc);
  const watermarks = new WatermarkState(state.watermarks);
  const senderOpts: ConstructorParameters<typeof StreamSender>[0] = {
    stream,
    channel: dc,
    ring,
    watermarks,
    onWatermark: (level) => {
      send(state, { op: 'event', event: 'watermark', stream, level });
      emitPeerEvent(ctx, { type: 'watermark', stream, detail: { level } });
    },
  };
  if (!playback) {
    senderOpts.onOrigin = (origin) => {
      send(state, { op: 'event', event: 'stream_time', stream, originMs: origin });
      emitPeerEvent(ctx, { type: 'stream-origin', stream, detail: { originMs: origin, firstFrameMs: performance.now() - openedAt } });
    };
    senderOpts.resumeAtLatest = true;
    if (originMs !== undefined) {
      senderOpts.continueFrom = { originMs };
    }
  }
  if (cam?.video) {
    senderOpts.video = cam.video;
  }
  if (cam?.audio) {
    senderOpts.audio = cam.audio;
  }
  const sender = state.args.customSource
    ? new CustomSender(stream, dc, watermarks, senderOpts.onWatermark)
    : !playback && senderOpts.video
      ? new LiveSender({ ...senderOpts, video: senderOpts.video }) // live with video: the camera's feed, muxed once per worker
      : new StreamSender(senderOpts);
  state.streams.set(stream, playback ? { sender, dc, watermarks, playback, params } : { sender, dc, watermarks, params });
  if (id !== undefined) {
    send(state, { op: 'ok', id, stream, label: streamLabel(stream) });
  }
  emitPeerEvent(ctx, { type: 'stream-open', stream, detail: resumeAs === undefined ? { params } : { params, resumed: true } });
}

/** The 10 ms tick: feed playback rings, send, publish statistics, end finished playbacks. */
export function tickStreams(state: PeerState, ctx: ActorContext<PeerMethods>): void {
  for (const s of state.streams.values()) {
    s.playback?.tick();
    s.sender.tick();
    writeSlot(state.statsBlock, s.sender.stream, s.sender.stats(), true);
    if (s.playback && !s.ending && s.playback.done && (s.sender as StreamSender).caughtUp) {
      endPlayback(state, ctx, s.sender.stream);
    }
    if (s.sender instanceof CustomSender && s.sender.overflowed && !s.ending) {
      // the firmware's bytes could not all be queued (the channel took none for long): a stream with a hole is useless, so it ends
      s.ending = true;
      send(state, { op: 'event', event: 'stream_closed', stream: s.sender.stream, reason: `the device's send queue overflowed (${s.sender.dropped} bytes refused): open the stream again` });
      closeKept(s.dc);
    }
  }
}

/** The recording was sent: tell the app, then close the stream once it has acknowledged everything (at most 5 s). */
function endPlayback(state: PeerState, ctx: ActorContext<PeerMethods>, stream: number): void {
  const s = state.streams.get(stream);
  if (!s) {
    return;
  }
  s.ending = true;
  const failed = s.playback?.error;
  const reason = failed ? `playback failed: ${failed.message}` : 'end of recording';
  const started = Date.now();
  const closeWhenAcked = (): void => {
    if (state.streams.get(stream) !== s) {
      return;
    }
    if (s.sender.backlog() > 0 && Date.now() - started < 5_000) {
      ctx.setTimeout(closeWhenAcked, 50);
      return;
    }
    send(state, { op: 'event', event: 'stream_closed', stream, reason });
    closeKept(s.dc);
  };
  closeWhenAcked();
}

/** A restarted actor's session: live streams come back under their numbers, playback ones end. */
export function resumeStreams(state: PeerState, ctx: ActorContext<PeerMethods>, resume: SessionResume): void {
  for (const { stream, params, originMs } of resume.streams) {
    const p = parseStreamParams(params);
    const cam = 'field' in p ? undefined : state.args.cameras.find((c) => c.channel === p.channel);
    const ring = 'field' in p ? undefined : state.rings.get(p.channel);
    if ('field' in p || (!state.args.customSource && (p.action !== 'live' || !cam || !ring))) {
      send(state, { op: 'event', event: 'stream_closed', stream, reason: 'the device restarted the connection: open the stream again' });
      continue;
    }
    attachStream(state, ctx, undefined, params, ring as FrameRing, cam, undefined, stream, originMs);
  }
}
