/**
 * PeerActor — one app's WebRTC peer connection on the (single, pinned) p2p worker.
 *
 * Receives P2P_PEER_OFFER (verified by signaling), P2P_PEER_REMOTE_CANDIDATE,
 * P2P_PEER_STATS, P2P_SET_WATERMARK; sends P2P_PEER_LOCAL_CANDIDATE and P2P_PEER_EVENT.
 * Serves the `control` channel (docs/PROTOCOL.md §4): opens live streams on `s<n>`
 * channels from the camera rings it was given (or from the user's onSendGet bytes when
 * `customSource`) and playback streams from the channel's local recording (a
 * PlaybackFeeder replays it in real time into a private ring; the stream ends with a
 * `stream_closed` event, reason `end of recording`), answers pings, takes acks, probes RTT, forwards commands and voice
 * to the main thread (P2P_PEER_COMMAND / P2P_PEER_VOICE) and publishes per-stream send
 * statistics into its shared stats block every tick.
 * A crash closes this peer only; the app reconnects with a new offer.
 *
 * ICE restart (P2P_PEER_RESTART, or the connection going `disconnected`/`failed` after
 * it was up): libdatachannel cannot restart ICE on a live PeerConnection, so the actor
 * keeps the app's session (rights, streams and their muxers, voice, commands in
 * flight) and moves it to a new PeerConnection it offers to the app (`offer` with
 * `iceRestart`, PROTOCOL.md §3): a new `control` channel, the same `s<n>` labels, live
 * streams resuming at the latest keyframe; the old transport is closed once the new one
 * is up. Attempts every 5 s until `restartGraceMs`; then the peer closes. Control messages meanwhile wait in a bounded outbox.
 * Spawned with `resume` (the supervisor restarting it after PEER_ERROR or a crash), it
 * starts that way: the session's live streams re-attached under their numbers.
 *
 * Must never: load node-datachannel outside the p2p worker, send before a channel is
 * open, or act on requests its token does not grant.
 */
import { randomBytes } from 'node:crypto';
import nodeDataChannel from 'node-datachannel';
import { traceTransport } from '../../shared/transport-trace.js';
import { CandidateGate } from '../../shared/candidate-gate.js';
import type { DataChannel, PeerConnection } from 'node-datachannel';
import { defineActor, type ActorContext } from '../../runtime/actor.js';
import { IvError, invalidParam } from '../../runtime/errors.js';
import { FrameRing } from '../../runtime/frame-ring.js';
import { onWorkerShutdown } from '../../runtime/worker-hooks.js';
import type { AudioFormat, VideoCodecName } from '../../media/codecs.js';
import type { Right } from './access-token.js';
import { PlaybackFeeder } from '../../recording/playback-feeder.js';
import { recordedSegments } from '../../recording/recording-index.js';
import { decodeFromApp, encodeControl, parseStreamParams, type DeviceToApp, type StreamParams } from './control-protocol.js';
import { CustomSender } from './custom-sender.js';
import { STATS_SLOTS, writeSlot } from './send-stats-block.js';
import { StreamBudget } from './admission.js';
import { StreamSender } from './stream-sender.js';
import { WatermarkState, type Watermarks } from './watermark.js';

export interface CameraChannel {
  channel: number;
  ring: SharedArrayBuffer;
  video?: { codec: VideoCodecName };
  audio?: AudioFormat;
  /** The channel's local recording (segment store), which serves `action=playback`. */
  recording?: { spoolDir: string; device: string };
}

export interface PeerArgs {
  peer: string;
  /** Per-stream send statistics, read synchronously by the main thread (send-stats-block.ts). */
  stats: SharedArrayBuffer;
  /** Streams carry the user's onSendGet bytes instead of the built-in FLV. */
  customSource?: boolean;
  cameras: CameraChannel[];
  ice: { bindAddress?: string; iceServers: string[]; portRangeBegin?: number; portRangeEnd?: number };
  watermarks: Watermarks;
  connectTimeoutMs?: number;
  maxStreams?: number;
  /** The device-wide stream budget (admission.ts), shared by every peer of the device. */
  streamBudget?: { buffer: SharedArrayBuffer; limit: number };
  /** How long an ICE restart may try before the peer closes (default 30 000 ms). */
  restartGraceMs?: number;
  /** A session to take over (a restarted actor): offer the app a new connection at once. */
  resume?: SessionResume;
}

/** What outlives a peer actor: kept by the p2p service from the actor's events. */
export interface SessionResume {
  rights: Right[];
  expires: number;
  /** Open streams: live ones are re-attached under the same number (same FLV timeline when `originMs` is known), playback ones end (`stream_closed`). */
  streams: { stream: number; params: string; originMs?: number }[];
  nextStream: number;
  reason: string;
}

const RESTART_ATTEMPT_MS = 5_000;
const OUTBOX_LIMIT = 256;

interface PeerState {
  args: PeerArgs;
  pc: PeerConnection | undefined;
  control: DataChannel | undefined;
  /** Every DataChannel is referenced here: an unreferenced one is collected and closes. */
  channels: Set<DataChannel>;
  streams: Map<number, { sender: StreamSender | CustomSender; dc: DataChannel; watermarks: WatermarkState; params: string; playback?: PlaybackFeeder; ending?: boolean }>;
  budget: StreamBudget | undefined;
  statsBlock: Float64Array;
  voice: DataChannel | undefined;
  voiceOn: boolean;
  commandsInFlight: Set<number>;
  nextStream: number;
  rights: Right[];
  expires: number;
  watermarks: Watermarks;
  rings: Map<number, FrameRing>;
  connected: boolean;
  /** The app's connection was up once: a lost connection is restarted, not closed. */
  everConnected: boolean;
  restart: { requestId: string; reason: string; startedAt: number; attempts: number } | undefined;
  /** Control messages waiting for the next control channel (during a restart). */
  outbox: Uint8Array[];
  /** performance.now() of the app's last control message. */
  lastHeard: number;
  /** Transports a restart replaced, closed once the new one is up (make before break). */
  retired: { pc: PeerConnection; channels: DataChannel[] }[];
}

let transportReady = false;
const openPeers = new Set<PeerConnection>();

function transport(): typeof nodeDataChannel {
  if (!transportReady) {
    transportReady = true;
    nodeDataChannel.setSctpSettings({ sendBufferSize: 262_144, recvBufferSize: 262_144 });
    traceTransport(nodeDataChannel);
    onWorkerShutdown(async () => {
      for (const pc of openPeers) {
        pc.close();
      }
      openPeers.clear();
      // let close callbacks already queued by the native side run before cleanup()
      await new Promise((r) => setTimeout(r, 300));
      nodeDataChannel.cleanup();
    });
  }
  return nodeDataChannel;
}

/** A control message to the app; during a restart it waits for the new control channel (unless `droppable`). */
function send(state: PeerState, msg: DeviceToApp, droppable = false): void {
  if (state.control?.isOpen()) {
    state.control.sendMessageBinary(encodeControl(msg));
  } else if (state.restart && !droppable && state.outbox.length < OUTBOX_LIMIT) {
    state.outbox.push(encodeControl(msg));
  }
}

function closePeer(state: PeerState): void {
  for (const [stream, s] of [...state.streams]) {
    removeStream(state, stream);
    s.dc.close();
  }
  dropTransport(state);
  state.restart = undefined;
  state.outbox = [];
}

/** Close transports a restart replaced. */
function closeRetired(state: PeerState): void {
  for (const old of state.retired.splice(0)) {
    for (const dc of old.channels) {
      dc.close();
    }
    openPeers.delete(old.pc);
    old.pc.close();
  }
}

/** Close the peer connection and its channels; the session (streams, rights, voice) stays. */
function dropTransport(state: PeerState): void {
  closeRetired(state);
  const channels = [...state.channels];
  state.channels.clear();
  const pc = state.pc;
  state.pc = undefined;
  state.control = undefined;
  state.voice = undefined;
  state.connected = false;
  for (const dc of channels) {
    dc.close();
  }
  if (pc) {
    openPeers.delete(pc);
    pc.close();
  }
}

/** The one way a stream goes: final statistics, its playback ring closed, its place in the device's budget given back. */
function removeStream(state: PeerState, stream: number): void {
  const s = state.streams.get(stream);
  if (!s) {
    return;
  }
  state.streams.delete(stream);
  writeSlot(state.statsBlock, stream, s.sender.stats(), false);
  s.playback?.close();
  state.budget?.give();
}

function endVoice(state: PeerState, ctx: ActorContext): void {
  if (state.voiceOn) {
    state.voiceOn = false;
    ctx.emit('P2P_PEER_VOICE', { type: 'end' });
  }
}

function allowed(state: PeerState, right: Right): boolean {
  return state.rights.includes(right) && state.expires > Date.now() / 1000;
}

function onControl(state: PeerState, ctx: ActorContext, raw: Buffer | string | ArrayBuffer): void {
  state.lastHeard = performance.now();
  const bytes = typeof raw === 'string' ? Buffer.from(raw) : raw instanceof ArrayBuffer ? new Uint8Array(raw) : raw;
  const decoded = decodeFromApp(bytes);
  if (!decoded.ok) {
    if (decoded.id !== undefined) {
      send(state, { op: 'error', id: decoded.id, code: decoded.code, message: decoded.message });
    }
    return;
  }
  const msg = decoded.msg;
  switch (msg.op) {
    case 'ping':
      send(state, { op: 'pong', id: msg.id, t: msg.t, deviceTime: Date.now() });
      return;
    case 'ack':
      state.streams.get(msg.stream)?.sender.ack(msg.bytes, msg.echo);
      return;
    case 'open':
      openStream(state, ctx, msg.id, msg.params);
      return;
    case 'close': {
      const s = state.streams.get(msg.stream);
      if (!s) {
        send(state, { op: 'error', id: msg.id, code: 'IV_ERR_INVALID_PARAM', message: `stream: no open stream ${msg.stream}` });
        return;
      }
      removeStream(state, msg.stream);
      s.dc.close();
      ctx.emit('P2P_PEER_EVENT', { type: 'stream-close', stream: msg.stream, detail: { reason: 'app closed it' } });
      send(state, { op: 'ok', id: msg.id });
      return;
    }
    case 'command':
      if (!allowed(state, 'command')) {
        send(state, { op: 'error', id: msg.id, code: 'IV_ERR_AUTH_RIGHTS', message: 'the access token does not grant command' });
        return;
      }
      if (state.commandsInFlight.size >= 16) {
        send(state, { op: 'error', id: msg.id, code: 'IV_ERR_BUSY', message: 'at most 16 commands in flight per app' });
        return;
      }
      state.commandsInFlight.add(msg.id);
      ctx.emit('P2P_PEER_COMMAND', { id: msg.id, data: msg.data });
      return;
    case 'voice_start':
      if (!allowed(state, 'voice')) {
        send(state, { op: 'error', id: msg.id, code: 'IV_ERR_AUTH_RIGHTS', message: 'the access token does not grant voice' });
        return;
      }
      if (state.voiceOn) {
        send(state, { op: 'error', id: msg.id, code: 'IV_ERR_BUSY', message: 'voice is already on' });
        return;
      }
      state.voiceOn = true;
      ctx.emit('P2P_PEER_VOICE', { type: 'start', params: msg.params });
      send(state, { op: 'ok', id: msg.id });
      return;
    case 'voice_stop':
      // frames travel on `voice`, this on `control`: wait for the in-band end marker (at most 1 s)
      if (state.voiceOn) {
        ctx.setTimeout(() => endVoice(state, ctx), state.voice ? 1_000 : 0);
      }
      send(state, { op: 'ok', id: msg.id });
      return;
  }
}

function openStream(state: PeerState, ctx: ActorContext, id: number, params: string): void {
  const p = parseStreamParams(params);
  if ('field' in p) {
    send(state, { op: 'error', id, code: 'IV_ERR_INVALID_PARAM', message: `${p.field}: ${p.message}` });
    return;
  }
  if (!allowed(state, p.action)) {
    send(state, { op: 'error', id, code: 'IV_ERR_AUTH_RIGHTS', message: `the access token does not grant ${p.action}` });
    return;
  }
  const cam = state.args.cameras.find((c) => c.channel === p.channel);
  const ring = state.rings.get(p.channel);
  if (!state.args.customSource && (!cam || !ring)) {
    send(state, { op: 'error', id, code: 'IV_ERR_INVALID_PARAM', message: `params.channel: no camera on channel ${p.channel}` });
    return;
  }
  if (!hasStreamSlot(state)) {
    send(state, { op: 'error', id, code: 'IV_ERR_BUSY', message: `at most ${state.args.maxStreams ?? 8} streams per app` });
    return;
  }
  if (p.action === 'playback') {
    void openPlayback(state, ctx, id, params, p, cam);
    return;
  }
  attachStream(state, ctx, id, params, ring as FrameRing, cam, undefined);
}

/** Serve a data channel for an open stream: a channel that closes by itself ends the stream. */
function watchStreamChannel(state: PeerState, ctx: ActorContext, stream: number, dc: DataChannel): void {
  state.channels.add(dc);
  dc.onClosed(() => {
    if (state.streams.get(stream)?.dc === dc) {
      removeStream(state, stream);
      ctx.emit('P2P_PEER_EVENT', { type: 'stream-close', stream, detail: { reason: 'channel closed' } });
    }
    state.channels.delete(dc);
  });
}

function hasStreamSlot(state: PeerState): boolean {
  return state.nextStream < STATS_SLOTS && state.streams.size < (state.args.maxStreams ?? 8) && state.pc !== undefined;
}

/** `action=playback&channel=N&start=S[&end=E]` (unix seconds): the recording, paced in real time. */
async function openPlayback(state: PeerState, ctx: ActorContext, id: number, params: string, p: StreamParams, cam: CameraChannel | undefined): Promise<void> {
  if (state.args.customSource || !cam?.recording) {
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
    send(state, { op: 'error', id, code: 'IV_ERR_BUSY', message: `at most ${state.args.maxStreams ?? 8} streams per app` });
    return;
  }
  const ring = FrameRing.create({ dataBytes: 4 << 20, slots: 2048 });
  const feederOpts: ConstructorParameters<typeof PlaybackFeeder>[0] = { segments, ring };
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
function attachStream(state: PeerState, ctx: ActorContext, id: number | undefined, params: string, ring: FrameRing, cam: CameraChannel | undefined, playback: PlaybackFeeder | undefined, resumeAs?: number, originMs?: number): void {
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
  const stream = resumeAs ?? state.nextStream++;
  const dc = state.pc.createDataChannel(`s${stream}`, {});
  watchStreamChannel(state, ctx, stream, dc);
  const watermarks = new WatermarkState(state.watermarks);
  const senderOpts: ConstructorParameters<typeof StreamSender>[0] = {
    stream,
    channel: dc,
    ring: ring as FrameRing,
    watermarks,
    onWatermark: (level) => {
      send(state, { op: 'event', event: 'watermark', stream, level });
      ctx.emit('P2P_PEER_EVENT', { type: 'watermark', stream, detail: { level } });
    },
  };
  if (!playback) {
    senderOpts.onOrigin = (origin) => {
      send(state, { op: 'event', event: 'stream_time', stream, originMs: origin });
      ctx.emit('P2P_PEER_EVENT', { type: 'stream-origin', stream, detail: { originMs: origin } });
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
  const sender = state.args.customSource ? new CustomSender(stream, dc, watermarks, senderOpts.onWatermark) : new StreamSender(senderOpts);
  state.streams.set(stream, playback ? { sender, dc, watermarks, playback, params } : { sender, dc, watermarks, params });
  if (id !== undefined) {
    send(state, { op: 'ok', id, stream, label: `s${stream}` });
  }
  ctx.emit('P2P_PEER_EVENT', { type: 'stream-open', stream, detail: resumeAs === undefined ? { params } : { params, resumed: true } });
}

/** The recording was sent: tell the app, then close the stream once it has acknowledged everything (at most 5 s). */
function endPlayback(state: PeerState, ctx: ActorContext, stream: number): void {
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
    s.dc.close();
  };
  closeWhenAcked();
}

function checkArgs(raw: unknown): PeerArgs {
  const a = raw as Partial<PeerArgs> | null;
  if (typeof a !== 'object' || a === null || typeof a.peer !== 'string') {
    throw invalidParam('args.peer', 'expected the peer id');
  }
  if (!(a.stats instanceof SharedArrayBuffer)) {
    throw invalidParam('args.stats', 'expected the send-statistics block');
  }
  if (!Array.isArray(a.cameras) || a.cameras.some((c) => !(c.ring instanceof SharedArrayBuffer))) {
    throw invalidParam('args.cameras', 'expected cameras with their ring buffers');
  }
  if (typeof a.ice !== 'object' || a.ice === null || !Array.isArray(a.ice.iceServers)) {
    throw invalidParam('args.ice', 'expected ICE settings');
  }
  if (a.resume !== undefined && (typeof a.resume !== 'object' || a.resume === null || !Array.isArray(a.resume.streams) || !Array.isArray(a.resume.rights))) {
    throw invalidParam('args.resume', 'expected the session to resume (rights, streams)');
  }
  return a as PeerArgs;
}

function rtcConfig(ice: PeerArgs['ice']): ConstructorParameters<typeof nodeDataChannel.PeerConnection>[1] {
  const config: ConstructorParameters<typeof nodeDataChannel.PeerConnection>[1] = { iceServers: ice.iceServers, maxMessageSize: 262_144 };
  if (ice.bindAddress) {
    config.bindAddress = ice.bindAddress;
  }
  if (ice.portRangeBegin !== undefined && ice.portRangeEnd !== undefined) {
    config.portRangeBegin = ice.portRangeBegin;
    config.portRangeEnd = ice.portRangeEnd;
  }
  return config;
}

/**
 * Did the connection drop because the path failed (ICE `disconnected`/`failed`: restart
 * it) rather than because the app closed it (DTLS/SCTP ended over a working path, ICE
 * then `closed`, `connected` or `completed`: a goodbye)?
 */
function pathFailed(pc: PeerConnection): boolean {
  const ice = pc.iceState();
  return ice === 'disconnected' || ice === 'failed' || ice === 'checking';
}

/** Each PeerConnection's candidate gate (shared/candidate-gate.ts). */
const gates = new WeakMap<PeerConnection, CandidateGate>();

/** A PeerConnection for this app with what every one needs: candidates out, state, the app's channels. */
function newPeerConnection(state: PeerState, ctx: ActorContext): PeerConnection {
  const ice = state.args.ice;
  const pc = new (transport().PeerConnection)(`peer:${state.args.peer}`, rtcConfig(ice));
  openPeers.add(pc);
  const gate = new CandidateGate(pc, (c) => {
    if (state.pc === pc) {
      ctx.emit('P2P_PEER_LOCAL_CANDIDATE', c);
    }
  });
  gates.set(pc, gate);
  pc.onLocalCandidate((candidate, mid) => {
    if (state.pc === pc && (!ice.bindAddress || candidate.includes(` ${ice.bindAddress} `))) {
      gate.local({ candidate, mid });
    }
  });
  pc.onStateChange((s) => {
    if (state.pc !== pc) {
      return;
    }
    if (s === 'connected' && !state.connected) {
      state.connected = true;
      state.everConnected = true;
      state.lastHeard = performance.now();
      const r = state.restart;
      state.restart = undefined;
      closeRetired(state);
      ctx.emit('P2P_PEER_EVENT', r
        ? { type: 'restarted', detail: { reason: r.reason, ms: Math.round(performance.now() - r.startedAt), attempts: r.attempts } }
        : { type: 'connected' });
    } else if ((s === 'failed' || s === 'disconnected') && state.everConnected && pathFailed(pc)) {
      if (!state.restart) {
        startRestart(state, ctx, `connection ${s} (ICE ${pc.iceState()})`);
      } else if (s === 'failed') {
        ctx.setTimeout(() => state.pc === pc && renegotiate(state, ctx), 250); // this attempt failed: the next one now, not at its timer
      }
    } else if (s === 'failed' || s === 'closed' || s === 'disconnected') {
      closePeer(state);
      ctx.emit('P2P_PEER_EVENT', { type: 'closed', detail: { state: s } });
    }
  });
  pc.onDataChannel((dc) => {
    if (state.pc !== pc) {
      dc.close();
      return;
    }
    state.channels.add(dc);
    if (dc.getLabel() === 'control') {
      bindControl(state, ctx, dc);
    } else if (dc.getLabel() === 'voice') {
      bindVoice(state, ctx, dc);
    } else {
      dc.close();
      state.channels.delete(dc);
    }
  });
  return pc;
}

function bindControl(state: PeerState, ctx: ActorContext, dc: DataChannel): void {
  state.control = dc;
  dc.onMessage((m) => {
    if (state.control === dc) {
      onControl(state, ctx, m);
    }
  });
  const flush = (): void => {
    if (state.control === dc) {
      for (const m of state.outbox.splice(0)) {
        dc.sendMessageBinary(m);
      }
    }
  };
  if (dc.isOpen()) {
    flush();
  } else {
    dc.onOpen(flush);
  }
}

function bindVoice(state: PeerState, ctx: ActorContext, dc: DataChannel): void {
  state.voice = dc;
  dc.onMessage((m) => {
    if (state.voice !== dc || !state.voiceOn || !allowed(state, 'voice')) {
      return;
    }
    const data = typeof m === 'string' ? Buffer.from(m) : Buffer.from(m as Buffer);
    if (data.byteLength === 0) {
      endVoice(state, ctx); // the in-band end marker: after every frame
    } else {
      ctx.emit('P2P_PEER_VOICE', { type: 'frame', data });
    }
  });
}

/** Begin (or, when one is running, retry at once) an ICE restart of this app's session. */
function startRestart(state: PeerState, ctx: ActorContext, reason: string): void {
  if (!state.restart) {
    state.restart = { requestId: '', reason, startedAt: performance.now(), attempts: 0 };
    ctx.emit('P2P_PEER_EVENT', { type: 'restarting', detail: { reason } });
  }
  renegotiate(state, ctx);
}

/**
 * One restart attempt: a new PeerConnection offered to the app with a new `control`
 * channel and every open stream moved to a new `s<n>` channel; then the old transport
 * is closed. Retried every RESTART_ATTEMPT_MS until connected or past the grace time.
 */
function renegotiate(state: PeerState, ctx: ActorContext): void {
  const r = state.restart;
  if (!r) {
    return;
  }
  if (performance.now() - r.startedAt > (state.args.restartGraceMs ?? 30_000)) {
    closePeer(state);
    ctx.emit('P2P_PEER_EVENT', { type: 'closed', detail: { state: 'restart-failed', reason: r.reason, attempts: r.attempts } });
    return;
  }
  r.attempts++;
  const requestId = `d-${randomBytes(8).toString('hex')}`;
  r.requestId = requestId;
  const old = { pc: state.pc, channels: [...state.channels] };
  state.channels.clear();
  const pc = newPeerConnection(state, ctx);
  state.pc = pc;
  state.connected = false;
  state.control = undefined;
  state.voice = undefined;
  pc.onLocalDescription((sdp, type) => {
    if (state.pc === pc && type.toLowerCase() === 'offer' && state.restart?.requestId === requestId) {
      // the offerer takes the DTLS client role (as apps do, PROTOCOL.md §3): its ClientHello
      // then reaches an answerer whose ICE is up instead of waiting for a 1 s retransmission
      ctx.emit('P2P_PEER_SIGNAL_OFFER', { requestId, sdp: sdp.replaceAll('a=setup:actpass', 'a=setup:active') });
      gates.get(pc)?.described();
    }
  });
  const control = pc.createDataChannel('control');
  state.channels.add(control);
  bindControl(state, ctx, control);
  for (const [stream, s] of state.streams) {
    const dc = pc.createDataChannel(`s${stream}`, {});
    s.dc = dc;
    watchStreamChannel(state, ctx, stream, dc);
    s.sender.rebind(dc);
  }
  if (old.pc) {
    state.retired.push({ pc: old.pc, channels: old.channels }); // the app closes it on the offer; we when the new one is up
  }
  ctx.setTimeout(() => {
    if (state.restart === r && r.requestId === requestId && !state.connected) {
      renegotiate(state, ctx);
    }
  }, RESTART_ATTEMPT_MS);
}

/** A restarted actor's session: live streams come back under their numbers, playback ones end. */
function resumeStreams(state: PeerState, ctx: ActorContext, resume: SessionResume): void {
  for (const { stream, params, originMs } of resume.streams) {
    const p = parseStreamParams(params);
    const cam = 'field' in p ? undefined : state.args.cameras.find((c) => c.channel === p.channel);
    const ring = 'field' in p ? undefined : state.rings.get(p.channel);
    if ('field' in p || p.action !== 'live' || (!state.args.customSource && (!cam || !ring))) {
      send(state, { op: 'event', event: 'stream_closed', stream, reason: 'the device restarted the connection: open the stream again' });
      continue;
    }
    attachStream(state, ctx, undefined, params, ring as FrameRing, cam, undefined, stream, originMs);
  }
}

export default defineActor<PeerState>({
  name: 'peer',
  init(ctx, raw) {
    const args = checkArgs(raw);
    const rings = new Map(args.cameras.map((c) => [c.channel, FrameRing.attach(c.ring)] as const));
    const state: PeerState = {
      args, pc: undefined, control: undefined, channels: new Set(), streams: new Map(), nextStream: 1, rights: [], expires: 0, watermarks: args.watermarks, rings, connected: false,
      statsBlock: new Float64Array(args.stats), voice: undefined, voiceOn: false, commandsInFlight: new Set(),
      budget: args.streamBudget ? new StreamBudget(args.streamBudget.buffer, args.streamBudget.limit) : undefined,
      everConnected: false, restart: undefined, outbox: [], lastHeard: performance.now(), retired: [],
    };
    if (args.resume) {
      // the restart itself waits for P2P_PEER_RESTART: the owner listens for the offer by then
      state.rights = args.resume.rights;
      state.expires = args.resume.expires;
      state.nextStream = args.resume.nextStream;
      state.everConnected = true;
    }
    ctx.setInterval(() => {
      for (const s of state.streams.values()) {
        s.playback?.tick();
        s.sender.tick();
        writeSlot(state.statsBlock, s.sender.stream, s.sender.stats(), true);
        if (s.playback && !s.ending && s.playback.done && (s.sender as StreamSender).caughtUp) {
          endPlayback(state, ctx, s.sender.stream);
        }
      }
    }, 10);
    ctx.setInterval(() => {
      if (state.streams.size > 0) {
        send(state, { op: 'probe', t: performance.now() }, true);
      }
    }, 200);
    return state;
  },
  handlers: {
    P2P_PEER_OFFER: (state, body: { requestId: string; sdp: string; rights: Right[]; expires: number }, ctx) => {
      closePeer(state);
      state.everConnected = false;
      state.rights = body.rights;
      state.expires = body.expires;
      const pc = newPeerConnection(state, ctx);
      state.pc = pc;
      const answer = new Promise<{ sdp: string }>((resolve) => {
        pc.onLocalDescription((sdp, type) => {
          if (type.toLowerCase() === 'answer') {
            resolve({ sdp });
            ctx.setTimeout(() => gates.get(pc)?.described(), 0); // after the reply carrying the answer
          }
        });
      });
      const timeout = state.args.connectTimeoutMs ?? 10_000;
      ctx.setTimeout(() => {
        if (state.pc === pc && !state.connected && !state.restart) {
          closePeer(state);
          ctx.emit('P2P_PEER_EVENT', { type: 'closed', detail: { state: 'connect-timeout', timeoutMs: timeout } });
        }
      }, timeout);
      try {
        pc.setRemoteDescription(body.sdp, 'offer' as never);
      } catch (err) {
        closePeer(state);
        throw new IvError('IV_ERR_INVALID_PARAM', `sdp: the offer was refused: ${(err as Error).message}`, { field: 'sdp' });
      }
      return answer;
    },
    P2P_PEER_RESTART: (state, body: { reason: string }, ctx) => {
      if (!state.everConnected) {
        return { restarted: false };
      }
      startRestart(state, ctx, body.reason);
      const resume = state.args.resume;
      if (resume) {
        const { resume: _taken, ...args } = state.args;
        state.args = args;
        resumeStreams(state, ctx, resume);
      }
      return { restarted: true };
    },
    P2P_PEER_ANSWER: (state, body: { requestId: string; sdp: string }) => {
      if (!state.restart || !state.pc || body.requestId !== state.restart.requestId) {
        throw invalidParam('requestId', 'no device offer with this requestId is waiting for an answer');
      }
      try {
        state.pc.setRemoteDescription(body.sdp, 'answer' as never);
      } catch (err) {
        throw new IvError('IV_ERR_INVALID_PARAM', `sdp: the answer was refused: ${(err as Error).message}`, { field: 'sdp' });
      }
      gates.get(state.pc)?.remoteDescribed();
      return {};
    },
    P2P_PEER_HEALTH: (state) => ({
      established: state.everConnected,
      connected: state.connected,
      restarting: state.restart !== undefined,
      silentMs: Math.round(performance.now() - state.lastHeard),
      streams: state.streams.size,
    }),
    P2P_PEER_REMOTE_CANDIDATE: (state, body: { candidate: string; mid: string }) => {
      const bind = state.args.ice.bindAddress;
      if (bind === '127.0.0.1' && !/ (127\.\d+\.\d+\.\d+) /.test(body.candidate)) {
        return; // loopback-only gateways ignore candidates they cannot reach
      }
      if (state.pc) {
        gates.get(state.pc)?.remote(body);
      }
    },
    P2P_PEER_SEND: (state, body: { stream: number; data: Uint8Array }) => {
      const s = state.streams.get(body.stream);
      if (s && s.sender instanceof CustomSender) {
        s.sender.push(body.data);
      }
    },
    P2P_PEER_REPLY: (state, body: { id: number; data?: Uint8Array; code?: string; message?: string }, ctx) => {
      if (!state.commandsInFlight.delete(body.id)) {
        return;
      }
      if (body.code) {
        send(state, { op: 'error', id: body.id, code: body.code, message: body.message ?? '' });
        return;
      }
      const data = body.data ?? new Uint8Array(0);
      send(state, { op: 'reply', id: body.id, data });
      if (data.byteLength === 0) {
        // the SDK's rule: an empty command reply closes the channel
        ctx.setTimeout(() => {
          closePeer(state);
          ctx.emit('P2P_PEER_EVENT', { type: 'closed', detail: { state: 'closed-by-command-reply' } });
        }, 50);
      }
    },
    P2P_PEER_STATS: (state) => ({
      peer: state.args.peer,
      connected: state.connected,
      streams: [...state.streams.values()].map((s) => ({ stream: s.sender.stream, ...s.sender.stats() })),
    }),
    P2P_SET_WATERMARK: (state, body: Watermarks) => {
      state.watermarks = body;
      for (const s of state.streams.values()) {
        s.watermarks.set(body);
      }
      return {};
    },
  },
  terminate(state) {
    closePeer(state);
  },
});
