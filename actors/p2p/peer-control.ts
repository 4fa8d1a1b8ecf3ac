/**
 * peer-control — the app's `control` and `voice` channels on one peer actor
 * (docs/PROTOCOL.md §4): decodes and answers each control message (ping, ack, open,
 * close, channels, command, voice_start, voice_stop), flushes the outbox into a new control
 * channel, and forwards commands and voice to the main thread (P2P_PEER_COMMAND /
 * P2P_PEER_VOICE, at most 16 commands in flight).
 * Owns: the control/voice channel bindings, voiceOn, commandsInFlight. Must never: act
 * on a request the token does not grant, or take messages from a replaced channel.
 */
import type { DataChannel } from 'node-datachannel';
import type { ActorContext } from '../../runtime/actor.js';
import type { PeerMethods } from './peer-methods.js';
import { decodeFromApp, type AppToDevice } from '../../shared/protocol/control.js';
import { emitPeerEvent } from './peer-events.js';
import { allowed, refuse, send, type PeerState } from './peer-state.js';
import { openStream, removeStream } from './peer-streams.js';
import { closeKept } from './transport-keeper.js';
import { describeChannels } from './peer-channels.js';
import { sendBinary } from '../../shared/protocol/channel-send.js';

export function endVoice(state: PeerState, ctx: ActorContext<PeerMethods>): void {
  if (state.voiceOn) {
    state.voiceOn = false;
    ctx.emit('P2P_PEER_VOICE', { type: 'end' });
  }
}

function onControl(state: PeerState, ctx: ActorContext<PeerMethods>, raw: Buffer | string | ArrayBuffer): void {
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
  try {
    answer(state, ctx, msg);
  } catch (err) {
    // a bug an app's message reaches costs that request, never the worker (every app's connection)
    if ('id' in msg) {
      send(state, { op: 'error', id: msg.id, code: 'IV_ERR_INTERNAL', message: `${msg.op}: ${(err as Error).message}` });
    }
  }
}

function answer(state: PeerState, ctx: ActorContext<PeerMethods>, msg: AppToDevice): void {
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
    case 'channels':
      if (refuse(state, msg.id)) {
        return; // what the device has (and has recorded) is for a valid token only
      }
      void describeChannels(state).then(
        (channels) => send(state, { op: 'channels', id: msg.id, channels }),
        (err: unknown) => send(state, { op: 'error', id: msg.id, code: 'IV_ERR_INTERNAL', message: `channels: ${(err as Error).message}` }),
      );
      return;
    case 'close': {
      const s = state.streams.get(msg.stream);
      if (!s) {
        send(state, { op: 'error', id: msg.id, code: 'IV_ERR_INVALID_PARAM', message: `stream: no open stream ${msg.stream}` });
        return;
      }
      removeStream(state, msg.stream);
      closeKept(s.dc);
      emitPeerEvent(ctx, { type: 'stream-close', stream: msg.stream, detail: { reason: 'app closed it' } });
      send(state, { op: 'ok', id: msg.id });
      return;
    }
    case 'command':
      if (refuse(state, msg.id, 'command')) {
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
      if (refuse(state, msg.id, 'voice')) {
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
      if (refuse(state, msg.id, 'voice')) {
        return;
      }
      // frames travel on `voice`, this on `control`: wait for the in-band end marker (at most 1 s)
      if (state.voiceOn) {
        ctx.setTimeout(() => endVoice(state, ctx), state.voice ? 1_000 : 0);
      }
      send(state, { op: 'ok', id: msg.id });
      return;
  }
}

/** Take `dc` as the app's control channel; what waited in the outbox goes out once it is open. */
export function bindControl(state: PeerState, ctx: ActorContext<PeerMethods>, dc: DataChannel): void {
  state.control = dc;
  dc.onMessage((m) => {
    if (state.control === dc) {
      onControl(state, ctx, m);
    }
  });
  const flush = (): void => {
    if (state.control === dc) {
      for (const m of state.outbox.splice(0)) {
        sendBinary(dc, m);
      }
    }
  };
  if (dc.isOpen()) {
    flush();
  } else {
    dc.onOpen(flush);
  }
}

/** Take `dc` as the app's voice channel: frames in order, an empty message ends the session. */
export function bindVoice(state: PeerState, ctx: ActorContext<PeerMethods>, dc: DataChannel): void {
  state.voice = dc;
  dc.onMessage((m) => {
    if (state.voice !== dc || !state.voiceOn || !allowed(state, 'voice')) {
      return;
    }
    try {
      const data = typeof m === 'string' ? Buffer.from(m) : Buffer.from(m as Buffer);
      if (data.byteLength === 0) {
        endVoice(state, ctx); // the in-band end marker: after every frame
      } else {
        ctx.emit('P2P_PEER_VOICE', { type: 'frame', data });
      }
    } catch {
      // a frame that cannot be taken is dropped; the app's connection (and the worker) go on
    }
  });
}
