/**
 * PeerActor — one app's WebRTC peer connection on the (single, pinned) p2p worker: the
 * actor definition, its state at spawn and its handlers, grouped by the seam that does
 * the work:
 *   transport (peer-transport.ts)  P2P_PEER_OFFER (verified by signaling), P2P_PEER_ANSWER,
 *                                  P2P_PEER_REMOTE_CANDIDATE, P2P_PEER_RESTART, P2P_PEER_HEALTH
 *   streams (peer-streams.ts)      P2P_PEER_SEND, P2P_PEER_STATS, P2P_SET_WATERMARK
 *   control (peer-control.ts)      P2P_PEER_REPLY (the answer to a forwarded command)
 * It sends P2P_PEER_LOCAL_CANDIDATE, P2P_PEER_SIGNAL_OFFER (a restart offer),
 * P2P_PEER_EVENT (peer-events.ts), P2P_PEER_COMMAND and P2P_PEER_VOICE, and publishes
 * per-stream send statistics into its shared stats block every 10 ms tick; while streams
 * are open it probes the app's RTT every 200 ms.
 * A crash closes this peer only. Spawned with `resume` (the p2p service replacing it
 * after PEER_ERROR or a crash), it keeps the session's grant and stream numbers and waits
 * for P2P_PEER_RESTART: then it offers the app a new connection and re-attaches the
 * session's live streams under their numbers (playback ones end with `stream_closed`).
 *
 * Must never: load node-datachannel outside the p2p worker, send before a channel is
 * open, or act on requests its token does not grant.
 */
import { defineActor } from '../../runtime/actor.js';
import { PEER_METHODS } from './peer-methods.js';
import { FrameRing } from '../../runtime/frame-ring.js';
import { StreamBudget } from './admission.js';
import { CustomSender } from './custom-sender.js';
import { emitPeerEvent } from './peer-events.js';
import { checkArgs, send, type PeerState } from './peer-state.js';
import { resumeStreams, tickStreams } from './peer-streams.js';
import { addRemoteCandidate, answerOffer, closePeer, startRestart, takeAnswer } from './peer-transport.js';

export default defineActor({
  name: 'peer',
  methods: PEER_METHODS,
  init(ctx, raw): PeerState {
    const args = checkArgs(raw);
    const rings = new Map(args.cameras.map((c) => [c.channel, FrameRing.attach(c.ring)] as const));
    const state: PeerState = {
      args, session: { rights: [], expires: 0 }, pc: undefined, control: undefined, channels: new Set(), streams: new Map(), watermarks: args.watermarks, rings, connected: false,
      statsBlock: new Float64Array(args.stats), voice: undefined, voiceOn: false, commandsInFlight: new Set(),
      budget: args.streamBudget ? new StreamBudget(args.streamBudget.buffer, args.streamBudget.limit) : undefined,
      everConnected: false, restart: undefined, outbox: [], lastHeard: performance.now(), retired: [],
    };
    if (args.resume) {
      // the restart itself waits for P2P_PEER_RESTART: the owner listens for the offer by then
      state.session = { rights: args.resume.rights, expires: args.resume.expires };
      state.everConnected = true;
    }
    ctx.setInterval(() => tickStreams(state, ctx), 10);
    ctx.setInterval(() => {
      if (state.streams.size > 0) {
        send(state, { op: 'probe', t: performance.now() }, true);
      }
    }, 200);
    return state;
  },
  handlers: {
    // ---- transport (peer-transport.ts) ----
    P2P_PEER_OFFER: (state, body, ctx) => {
      closePeer(state);
      state.everConnected = false;
      state.session.rights = body.rights;
      state.session.expires = body.expires;
      return answerOffer(state, ctx, body.sdp);
    },
    P2P_PEER_RESTART: (state, body, ctx) => {
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
    P2P_PEER_ANSWER: (state, body) => {
      takeAnswer(state, body.requestId, body.sdp);
      return {};
    },
    P2P_PEER_HEALTH: (state) => ({
      established: state.everConnected,
      connected: state.connected,
      restarting: state.restart !== undefined,
      silentMs: Math.round(performance.now() - state.lastHeard),
      streams: state.streams.size,
    }),
    P2P_PEER_REMOTE_CANDIDATE: (state, body) => {
      addRemoteCandidate(state, body);
    },
    // ---- streams (peer-streams.ts) ----
    P2P_PEER_SEND: (state, body) => {
      const s = state.streams.get(body.stream);
      if (s && s.sender instanceof CustomSender) {
        s.sender.push(body.data);
      }
    },
    P2P_PEER_STATS: (state) => ({
      peer: state.args.peer,
      connected: state.connected,
      streams: [...state.streams.values()].map((s) => ({ stream: s.sender.stream, ...s.sender.stats() })),
    }),
    P2P_SET_WATERMARK: (state, body) => {
      state.watermarks = body;
      for (const s of state.streams.values()) {
        s.watermarks.set(body);
      }
      return {};
    },
    // ---- control (peer-control.ts) ----
    P2P_PEER_REPLY: (state, body, ctx) => {
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
          emitPeerEvent(ctx, { type: 'closed', detail: { state: 'closed-by-command-reply' } });
        }, 50);
      }
    },
  },
  terminate(state) {
    closePeer(state);
  },
});
