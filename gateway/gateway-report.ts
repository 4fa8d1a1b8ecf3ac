/**
 * gateway-report — what a running gateway tells about itself, read from the parts it
 * already keeps (no new work on the frame path): the `/api/status` answer, the periodic
 * stats records `ivgw run` logs, and the snapshots `/metrics` reads at scrape time.
 * Owns: those shapes and texts. Must never: change what runs, or include a secret or token.
 */
import type { ActorSystem } from '../runtime/actor-system.js';
import { FrameRing } from '../runtime/frame-ring.js';
import { collectHeap } from '../runtime/heap.js';
import type { WorkerHeap } from '../runtime/schema.js';
import type { IngestStats } from '../actors/capture/ingest.js';
import type { CloudStats } from '../actors/cloud/cloud-methods.js';
import type { AppSnapshot, P2pService } from '../actors/p2p/p2p-service.js';
import type { BuiltinHandlers } from '../actors/p2p/builtin-handlers.js';
import { CAPTURE_ACTOR } from '../actors/capture/index.js';
import { CLOUD_ACTOR } from '../actors/cloud/index.js';
import type { CapturePlan } from './cameras/camera-plan.js';
import type { CameraState, CameraStatusBoard } from './cameras/camera-status.js';
import type { Health } from './http-server.js';
import type { CameraSnapshot, CloudSnapshot, P2pSnapshot } from './metrics.js';
import type { GatewayInfo, GatewayLogRecord } from './gateway-options.js';
import { redactUrlCredentials } from '../runtime/redact.js';

export type GatewayCamera = CapturePlan & { ring: SharedArrayBuffer };

/** The parts of a running gateway this module reads. */
export interface GatewayParts {
  system: ActorSystem;
  cameras: GatewayCamera[];
  recorded: GatewayCamera[];
  status: CameraStatusBoard;
  /** Undefined while start-up waits for the broker (cameras capture and record meanwhile). */
  p2p: P2pService | undefined;
  /** The device's stream limit (admission), for the status while p2p is undefined. */
  maxStreams: number;
  handlers: BuiltinHandlers;
  info: GatewayInfo;
}

export interface CameraStatusView {
  name: string;
  channel: number;
  source: string;
  state: CameraState;
  sinceMs: number;
  retries: number;
  lastError?: string;
  lastRefusal?: string;
  video?: { codec: string; width: number; height: number };
  audio?: { codec: string };
  fps: number;
  videoKbps: number;
  audioKbps: number;
  gopFrames: number;
  framesAccepted: number;
  framesRefused: Record<string, number>;
  recording: string;
}

export interface GatewayStatus {
  device: { id: string; fingerprint: string; uptimeS: number; signaling: { url: string; connected: boolean }; health: Health };
  cameras: CameraStatusView[];
  apps: AppSnapshot[];
  streams: { open: number; limit: number };
  keepAlive: { status: string; address: string | undefined } | undefined;
  commandsAnswered: number;
  intercomSessions: number;
  recording: { camera: string; mode: string; segments: number; uploaded: number; pending: number; pendingBytes: number; failures: number; lastError?: string }[];
}

async function captureStats(p: GatewayParts, c: GatewayCamera): Promise<IngestStats | undefined> {
  const s = await p.system.ref(`capture:${c.camera}`, CAPTURE_ACTOR).call('CAPTURE_STATS', {}, { timeoutMs: 2_000 }).catch(() => undefined);
  if (s && c.source.kind !== 'ffmpeg' && s.videoFrames + s.audioFrames > 0) {
    p.status.framesSeen(c.camera);
  }
  return s;
}

async function cloudStats(p: GatewayParts, c: GatewayCamera): Promise<CloudStats | undefined> {
  return p.system.ref(`cloud:${c.camera}`, CLOUD_ACTOR).call('CLOUD_STATS', {}, { timeoutMs: 2_000 }).catch(() => undefined);
}

const refusedCount = (s: IngestStats): number => Object.values(s.rejected).reduce((a, b) => a + (b ?? 0), 0);

export async function gatewayStatus(p: GatewayParts, uptimeS: number, health: Health): Promise<GatewayStatus> {
  const cameras = await Promise.all(p.cameras.map(async (c): Promise<CameraStatusView> => {
    const s = await captureStats(p, c);
    const st = p.status.get(c.camera);
    return {
      name: c.camera,
      channel: c.channel,
      source: c.source.kind,
      state: st?.state ?? 'connecting',
      sinceMs: st?.since ?? 0,
      retries: st?.retries ?? 0,
      ...(st?.lastError ? { lastError: st.lastError } : {}),
      ...(st?.lastRefusal ? { lastRefusal: st.lastRefusal } : {}),
      ...(s?.video ? { video: { codec: s.video.codec, width: s.video.width, height: s.video.height } } : {}),
      ...(s?.audio ? { audio: { codec: s.audio.codec } } : {}),
      fps: s?.fps ?? 0,
      videoKbps: s?.videoKbps ?? 0,
      audioKbps: s?.audioKbps ?? 0,
      gopFrames: s?.gopFrames ?? 0,
      framesAccepted: (s?.videoFrames ?? 0) + (s?.audioFrames ?? 0),
      framesRefused: { ...(s?.rejected ?? {}) },
      recording: p.recorded.includes(c) ? c.config.recording : 'off',
    };
  }));
  const recording = await Promise.all(p.recorded.map(async (c) => {
    const s = await cloudStats(p, c);
    return {
      camera: c.camera,
      mode: c.config.recording,
      segments: s?.segments ?? 0,
      uploaded: s?.upload.uploadedObjects ?? 0,
      pending: s?.upload.pending ?? 0,
      pendingBytes: s?.upload.pendingBytes ?? 0,
      failures: s?.upload.failures ?? 0,
      ...(s?.upload.lastError ? { lastError: s.upload.lastError } : {}),
    };
  }));
  return {
    device: { id: p.info.deviceId, fingerprint: p.info.fingerprint, uptimeS, signaling: { url: redactUrlCredentials(p.info.brokerUrl), connected: p.p2p?.signalingConnected ?? false }, health },
    cameras,
    apps: p.p2p?.snapshot() ?? [],
    streams: { open: p.p2p?.streamBudget.used ?? 0, limit: p.p2p?.streamBudget.limit ?? p.maxStreams },
    keepAlive: p.p2p?.network,
    commandsAnswered: p.handlers.commands,
    intercomSessions: p.handlers.voiceSessions,
    recording,
  };
}

/** The lines `ivgw run` logs every few seconds: one per camera, one for P2P, one per recorded camera. */
export async function statsRecords(p: GatewayParts): Promise<GatewayLogRecord[]> {
  const out: GatewayLogRecord[] = [];
  for (const c of p.cameras) {
    const s = await captureStats(p, c);
    if (s) {
      const v = s.video ? `${s.video.codec} ${s.video.width}x${s.video.height}` : 'no video';
      const rejected = refusedCount(s);
      const state = c.source.kind === 'ffmpeg' ? `${p.status.describe(c.camera)}; ` : '';
      const ring = FrameRing.attach(c.ring);
      const mib = (b: number): string => (b / 1048576).toFixed(1);
      out.push({
        level: 'info',
        component: c.camera,
        msg: `${state}${v} ${s.fps} fps, video ${s.videoKbps} kbit/s, audio ${s.audioKbps} kbit/s, GOP ${s.gopFrames} (${s.keyframeIntervalMs} ms, ${Math.round(s.gopBytes / 1024)} KiB), frames ${s.videoFrames}+${s.audioFrames}, refused ${rejected}${rejected > 0 && s.lastError ? ` (last: ${s.lastError.code})` : ''}, ring ${mib(ring.touchedBytes)} of ${mib(ring.dataBytes)} MiB, reader laps ${s.laps}`,
        fields: { state: p.status.get(c.camera)?.state, fps: s.fps, videoKbps: s.videoKbps, audioKbps: s.audioKbps, gopFrames: s.gopFrames, gopBytes: s.gopBytes, ringResidentBytes: ring.touchedBytes, refused: rejected },
      });
    }
  }
  const p2p = p.p2p;
  const net = p2p?.network;
  out.push(p2p ? {
    level: 'info',
    component: 'p2p',
    msg: `apps connected: ${p2p.peerIds.length}, streams open: ${p2p.streamBudget.used}/${p2p.streamBudget.limit}, commands answered: ${p.handlers.commands}, intercom sessions ended: ${p.handlers.voiceSessions}${net ? `, keep-alive ${net.status}${net.address ? ` (mapped ${net.address})` : ''}` : ''}`,
    fields: { apps: p2p.peerIds.length, streams: p2p.streamBudget.used, ...(net ? { keepAlive: net.status } : {}) },
  } : {
    level: 'warn',
    component: 'p2p',
    msg: `waiting for the broker ${redactUrlCredentials(p.info.brokerUrl)}: no app can connect yet`,
    fields: { apps: 0, streams: 0 },
  });
  for (const c of p.recorded) {
    const s = await cloudStats(p, c);
    if (s) {
      out.push({
        level: 'info',
        component: `cloud ${c.camera}`,
        msg: `segments ${s.segments} (${Math.round(s.segmentBytes / 1024)} KiB), uploaded ${s.upload.uploadedObjects}, pending ${s.upload.pending}, upload failures ${s.upload.failures}`,
        fields: { segments: s.segments, uploaded: s.upload.uploadedObjects, pending: s.upload.pending, failures: s.upload.failures },
      });
    }
  }
  return out;
}

/** `/metrics` at scrape time: cameras. */
export async function cameraSnapshots(p: GatewayParts | undefined): Promise<CameraSnapshot[]> {
  if (!p) {
    return [];
  }
  const out: CameraSnapshot[] = [];
  for (const c of p.cameras) {
    const s = await captureStats(p, c);
    const st = p.status.get(c.camera);
    out.push({
      camera: c.camera,
      channel: c.channel,
      fps: s?.fps ?? 0,
      videoKbps: s?.videoKbps ?? 0,
      audioKbps: s?.audioKbps ?? 0,
      framesAccepted: (s?.videoFrames ?? 0) + (s?.audioFrames ?? 0),
      rejected: { ...(s?.rejected ?? {}) },
      state: st?.state ?? 'connecting',
      restarts: st?.retries ?? 0,
      ringResidentBytes: FrameRing.attach(c.ring).touchedBytes,
    });
  }
  return out;
}

/** `/metrics` at scrape time: P2P (synchronous: shared memory and counters). */
export function p2pSnapshot(p: GatewayParts | undefined): P2pSnapshot | undefined {
  if (!p?.p2p) {
    return undefined;
  }
  const t = p.p2p.sendTotals();
  const ka = p.p2p.network?.status;
  return {
    appsConnected: p.p2p.peerIds.length,
    streamsOpen: p.p2p.streamBudget.used,
    bytesSent: t.sent,
    bytesAcked: t.acked,
    backlogBytes: t.backlog,
    keepAlive: ka === undefined ? 'off' : ka === 'starting' ? 'connecting' : ka,
  };
}

/** `/metrics` at scrape time: recording. */
export async function cloudSnapshots(p: GatewayParts | undefined): Promise<CloudSnapshot[]> {
  if (!p) {
    return [];
  }
  const out: CloudSnapshot[] = [];
  for (const c of p.recorded) {
    const s = await cloudStats(p, c);
    if (s) {
      out.push({ camera: c.camera, segmentsAccepted: s.segments, uploaded: s.upload.uploadedObjects, pending: s.upload.pending, uploadFailures: s.upload.failures, spoolBytes: s.upload.pendingBytes });
    }
  }
  return out;
}

/** The gateway's workers: capture (unless its actors run on io), the pinned p2p one, and io (commands, voice and the cloud actors). */
const WORKERS = ['capture', 'p2p', 'io'] as const;

/**
 * Each isolate's V8 heap (`main` and every worker) after a full GC in each when the
 * process runs with `--expose-gc` (SYS_GC): what benchmarks read as "GC-settled".
 */
export async function settledHeaps(p: GatewayParts): Promise<Record<string, WorkerHeap>> {
  const out: Record<string, WorkerHeap> = { main: collectHeap() };
  for (const name of WORKERS) {
    const w = p.system.worker(name);
    if (w) {
      out[name] = (await w.request('sys', 'SYS_GC', {}, 10_000)) as WorkerHeap;
    }
  }
  return out;
}

/** `/metrics` at scrape time: V8 heap per worker (their last heartbeat). */
export function workerHeaps(p: GatewayParts | undefined): { worker: string; heapUsed: number }[] {
  if (!p) {
    return [];
  }
  const names = WORKERS;
  return names.flatMap((worker) => {
    const heapUsed = p.system.worker(worker)?.heapUsed;
    return heapUsed === undefined ? [] : [{ worker, heapUsed }];
  });
}
