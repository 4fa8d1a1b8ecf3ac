/**
 * peer-transport — one app's WebRTC transport on its peer actor: the PeerConnection
 * (answering the app's offer, candidates through the candidate gate), its state, and
 * the ICE restart. libdatachannel cannot restart ICE on a live PeerConnection, so a
 * restart (P2P_PEER_RESTART, or the path failing after the connection was up) moves the
 * app's session to a new PeerConnection the device offers to the app (`offer` with
 * `iceRestart`, PROTOCOL.md §3.1): a new `control` channel, every open stream on a new
 * `s<n>` channel under its number; the old transport is closed once the new one is up.
 * An attempt is retried every 5 s (250 ms after one that failed) until `restartGraceMs`; then
 * the peer closes.
 * Owns: node-datachannel on the p2p worker (set up once, every PeerConnection closed at
 * worker shutdown), PeerState.pc/channels/restart/retired. Must never: load
 * node-datachannel outside the p2p worker, or act on events of a replaced PeerConnection.
 */
import { randomBytes } from 'node:crypto';
import nodeDataChannel from 'node-datachannel';
import type { DataChannel, PeerConnection } from 'node-datachannel';
import type { ActorContext } from '../../runtime/actor.js';
import type { PeerMethods } from './peer-methods.js';
import { IvError, invalidParam } from '../../runtime/errors.js';
import { onWorkerShutdown } from '../../runtime/worker-hooks.js';
import { CandidateGate } from '../../shared/protocol/candidate-gate.js';
import { rtcConfig, setUpTransport } from '../../shared/protocol/node-transport.js';
import { CONTROL_LABEL, VOICE_LABEL, candidateOnBind, offerAsDtlsClient, pathFailed, streamLabel } from '../../shared/protocol/transport-rules.js';
import { bindControl, bindVoice } from './peer-control.js';
import { emitPeerEvent } from './peer-events.js';
import type { PeerState } from './peer-state.js';
import { removeStream, watchStreamChannel } from './peer-streams.js';
import { closeKept, keepForever } from './transport-keeper.js';

const RESTART_ATTEMPT_MS = 5_000;

let transportReady = false;
const openPeers = new Set<PeerConnection>();

function transport(): typeof nodeDataChannel {
  if (!transportReady) {
    transportReady = true;
    setUpTransport(nodeDataChannel);
    onWorkerShutdown(async () => {
      keepForever(); // nothing native is destroyed before cleanup() (transport-keeper.ts)
      for (const pc of openPeers) {
        closeKept(pc);
      }
      openPeers.clear();
      // let close callbacks already queued by the native side run before cleanup()
      await new Promise((r) => setTimeout(r, 300));
      nodeDataChannel.cleanup();
    });
  }
  return nodeDataChannel;
}

/** End the app's connection: its streams go, then its transport; no restart goes on. */
export function closePeer(state: PeerState): void {
  for (const [stream, s] of [...state.streams]) {
    removeStream(state, stream);
    closeKept(s.dc);
  }
  dropTransport(state);
  state.restart = undefined;
  state.outbox = [];
}

/** Close transports a restart replaced. */
function closeRetired(state: PeerState): void {
  for (const old of state.retired.splice(0)) {
    for (const dc of old.channels) {
      closeKept(dc);
    }
    openPeers.delete(old.pc);
    closeKept(old.pc);
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
    closeKept(dc);
  }
  if (pc) {
    openPeers.delete(pc);
    closeKept(pc);
  }
}

/** Each PeerConnection's candidate gate (shared/protocol/candidate-gate.ts). */
const gates = new WeakMap<PeerConnection, CandidateGate>();

/** A PeerConnection for this app with what every one needs: candidates out, state, the app's channels. */
function newPeerConnection(state: PeerState, ctx: ActorContext<PeerMethods>): PeerConnection {
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
    if (state.pc === pc && candidateOnBind(candidate, ice.bindAddress)) {
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
      emitPeerEvent(ctx, r
        ? { type: 'restarted', detail: { reason: r.reason, ms: Math.round(performance.now() - r.startedAt), attempts: r.attempts } }
        : { type: 'connected' });
    } else if ((s === 'failed' || s === 'disconnected') && state.everConnected && pathFailed(pc.iceState())) {
      if (!state.restart) {
        startRestart(state, ctx, `connection ${s} (ICE ${pc.iceState()})`);
      } else if (s === 'failed') {
        ctx.setTimeout(() => state.pc === pc && renegotiate(state, ctx), 250); // this attempt failed: the next one now, not at its timer
      }
    } else if (s === 'failed' || s === 'closed' || s === 'disconnected') {
      closePeer(state);
      emitPeerEvent(ctx, { type: 'closed', detail: { state: s } });
    }
  });
  pc.onDataChannel((dc) => {
    if (state.pc !== pc) {
      closeKept(dc);
      return;
    }
    state.channels.add(dc);
    if (dc.getLabel() === CONTROL_LABEL) {
      bindControl(state, ctx, dc);
    } else if (dc.getLabel() === VOICE_LABEL) {
      bindVoice(state, ctx, dc);
    } else {
      closeKept(dc);
      state.channels.delete(dc);
    }
  });
  return pc;
}

/** The app's (verified) offer: a fresh connection for it; resolves with the device's answer. */
export function answerOffer(state: PeerState, ctx: ActorContext<PeerMethods>, sdp: string): Promise<{ sdp: string }> {
  const pc = newPeerConnection(state, ctx);
  state.pc = pc;
  const answer = new Promise<{ sdp: string }>((resolve) => {
    pc.onLocalDescription((local, type) => {
      if (type.toLowerCase() === 'answer') {
        resolve({ sdp: local });
        ctx.setTimeout(() => gates.get(pc)?.described(), 0); // after the reply carrying the answer
      }
    });
  });
  const timeout = state.args.connectTimeoutMs ?? 10_000;
  ctx.setTimeout(() => {
    if (state.pc === pc && !state.connected && !state.restart) {
      closePeer(state);
      emitPeerEvent(ctx, { type: 'closed', detail: { state: 'connect-timeout', timeoutMs: timeout } });
    }
  }, timeout);
  try {
    pc.setRemoteDescription(sdp, 'offer');
  } catch (err) {
    closePeer(state);
    throw new IvError('IV_ERR_INVALID_PARAM', `sdp: the offer was refused: ${(err as Error).message}`, { field: 'sdp' });
  }
  return answer;
}

/** The app's answer to the device's restart offer `requestId`. */
export function takeAnswer(state: PeerState, requestId: string, sdp: string): void {
  if (!state.restart || !state.pc || requestId !== state.restart.requestId) {
    throw invalidParam('requestId', 'no device offer with this requestId is waiting for an answer');
  }
  try {
    state.pc.setRemoteDescription(sdp, 'answer');
  } catch (err) {
    throw new IvError('IV_ERR_INVALID_PARAM', `sdp: the answer was refused: ${(err as Error).message}`, { field: 'sdp' });
  }
  gates.get(state.pc)?.remoteDescribed();
}

/** A remote candidate from the app (loopback-only gateways ignore those they cannot reach). */
export function addRemoteCandidate(state: PeerState, c: { candidate: string; mid: string }): void {
  const bind = state.args.ice.bindAddress;
  if (bind === '127.0.0.1' && !/ (127\.\d+\.\d+\.\d+) /.test(c.candidate)) {
    return;
  }
  if (state.pc) {
    gates.get(state.pc)?.remote(c);
  }
}

/** Begin (or, when one is running, retry at once) an ICE restart of this app's session. */
export function startRestart(state: PeerState, ctx: ActorContext<PeerMethods>, reason: string): void {
  if (!state.restart) {
    state.restart = { requestId: '', reason, startedAt: performance.now(), attempts: 0 };
    emitPeerEvent(ctx, { type: 'restarting', detail: { reason } });
  }
  renegotiate(state, ctx);
}

/**
 * One restart attempt: a new PeerConnection offered to the app with a new `control`
 * channel and every open stream moved to a new `s<n>` channel; then the old transport
 * is closed. Retried every RESTART_ATTEMPT_MS until connected or past the grace time.
 */
function renegotiate(state: PeerState, ctx: ActorContext<PeerMethods>): void {
  const r = state.restart;
  if (!r) {
    return;
  }
  if (performance.now() - r.startedAt > (state.args.restartGraceMs ?? 30_000)) {
    closePeer(state);
    emitPeerEvent(ctx, { type: 'closed', detail: { state: 'restart-failed', reason: r.reason, attempts: r.attempts } });
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
      // the offerer takes the DTLS client role (as apps do, PROTOCOL.md §3)
      ctx.emit('P2P_PEER_SIGNAL_OFFER', { requestId, sdp: offerAsDtlsClient(sdp) });
      gates.get(pc)?.described();
    }
  });
  const control = pc.createDataChannel(CONTROL_LABEL);
  state.channels.add(control);
  bindControl(state, ctx, control);
  for (const [stream, s] of state.streams) {
    const dc: DataChannel = pc.createDataChannel(streamLabel(stream), {});
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
