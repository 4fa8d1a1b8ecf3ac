/**
 * peer-state — what a peer actor (PeerActor.ts) keeps for its app, and the two things
 * each of its seams (peer-transport, peer-streams, peer-control) does with it: send a
 * control message to the app (queued while an ICE restart replaces the control
 * channel) and check the app's grant.
 * Owns: the PeerArgs / PeerState / CameraChannel types, the check of the spawn
 * arguments, the bounded outbox. Must never: load node-datachannel (types only), send
 * on a channel that is not open, or queue more than OUTBOX_LIMIT messages.
 */
import type { DataChannel, PeerConnection } from 'node-datachannel';
import { invalidParam } from '../../runtime/errors.js';
import type { FrameRing } from '../../runtime/frame-ring.js';
import { encodeControl, type DeviceToApp } from '../../shared/protocol/control.js';
import { grants, refusal, type Right } from '../../shared/protocol/rights.js';
import type { AudioFormat, VideoCodecName } from '../../media/codecs.js';
import type { PlaybackFeeder } from '../../recording/playback-feeder.js';
import type { StreamBudget } from './admission.js';
import type { CustomSender } from './custom-sender.js';
import type { PeerSession, SessionResume } from './session.js';
import type { StreamSender } from './stream-sender.js';
import type { WatermarkState, Watermarks } from './watermark.js';

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
  /** A session to take over (a restarted actor): offered a new connection on P2P_PEER_RESTART. */
  resume?: SessionResume;
}

/** One open stream as the actor serves it. */
export interface ServedStream {
  sender: StreamSender | CustomSender;
  dc: DataChannel;
  watermarks: WatermarkState;
  params: string;
  playback?: PlaybackFeeder;
  ending?: boolean;
}

export interface PeerState {
  args: PeerArgs;
  /** The app's grant and stream numbering (session.ts); its open streams are `streams`. */
  session: PeerSession;
  pc: PeerConnection | undefined;
  control: DataChannel | undefined;
  /** Every DataChannel is referenced here: an unreferenced one is collected and closes. */
  channels: Set<DataChannel>;
  streams: Map<number, ServedStream>;
  budget: StreamBudget | undefined;
  statsBlock: Float64Array;
  voice: DataChannel | undefined;
  voiceOn: boolean;
  commandsInFlight: Set<number>;
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

const OUTBOX_LIMIT = 256;

/** A control message to the app; during a restart it waits for the new control channel (unless `droppable`). */
export function send(state: PeerState, msg: DeviceToApp, droppable = false): void {
  if (state.control?.isOpen()) {
    state.control.sendMessageBinary(encodeControl(msg));
  } else if (state.restart && !droppable && state.outbox.length < OUTBOX_LIMIT) {
    state.outbox.push(encodeControl(msg));
  }
}

export function allowed(state: PeerState, right: Right): boolean {
  return grants(state.session, right);
}

/** Answer request `id` with the grant's refusal of `right` (expired or not granted); true when refused. */
export function refuse(state: PeerState, id: number, right: Right): boolean {
  const no = refusal(state.session, right);
  if (no) {
    send(state, { op: 'error', id, code: no.code, message: no.message });
  }
  return no !== undefined;
}

export function checkArgs(raw: unknown): PeerArgs {
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
