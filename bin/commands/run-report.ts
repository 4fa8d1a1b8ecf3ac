/**
 * run-report — what `ivgw run` prints while it runs: each camera's state and stream
 * statistics, the P2P totals, the recording; the peer-event lines; and the arguments of
 * each camera's cloud actor.
 * Owns: those texts. Must never: change what runs.
 */
import { join } from 'node:path';
import type { ActorSystem } from '../../runtime/actor-system.js';
import type { IngestStats } from '../../actors/capture/ingest.js';
import type { CloudArgs } from '../../actors/cloud/CloudActor.js';
import type { P2pService } from '../../actors/p2p/p2p-service.js';
import type { StoreConfig } from '../../actors/cloud/object-store.js';
import type { CapturePlan } from '../../gateway/cameras/camera-plan.js';
import type { CameraStatusBoard } from '../../gateway/cameras/camera-status.js';

export type RunCamera = CapturePlan & { ring: SharedArrayBuffer };

export async function printStats(system: ActorSystem, cameras: RunCamera[], recorded: RunCamera[], status: CameraStatusBoard, p2p: P2pService, handlers: { commands: number; voiceSessions: number }, out: (line: string) => void): Promise<void> {
  for (const c of cameras) {
    const s = await system.ref(`capture:${c.camera}`).call('CAPTURE_STATS', {}).catch(() => undefined) as IngestStats | undefined;
    if (s) {
      const v = s.video ? `${s.video.codec} ${s.video.width}x${s.video.height}` : 'no video';
      const rejected = Object.values(s.rejected).reduce((a, b) => a + (b ?? 0), 0);
      const state = c.source.kind === 'ffmpeg' ? `${status.describe(c.camera)}; ` : '';
      out(`[${c.camera}] ${state}${v} ${s.fps} fps, video ${s.videoKbps} kbit/s, audio ${s.audioKbps} kbit/s, GOP ${s.gopFrames} (${s.keyframeIntervalMs} ms), frames ${s.videoFrames}+${s.audioFrames}, refused ${rejected}${rejected > 0 && s.lastError ? ` (last: ${s.lastError.code})` : ''}, reader laps ${s.laps}`);
    }
  }
  const net = p2p.network;
  out(`[p2p] apps connected: ${p2p.peerIds.length}, streams open: ${p2p.streamBudget.used}/${p2p.streamBudget.limit}, commands answered: ${handlers.commands}, intercom sessions ended: ${handlers.voiceSessions}${net ? `, keep-alive ${net.status}${net.address ? ` (mapped ${net.address})` : ''}` : ''}`);
  for (const c of recorded) {
    const s = (await system.ref(`cloud:${c.camera}`).call('CLOUD_STATS', {}).catch(() => undefined)) as { segments: number; segmentBytes: number; upload: { uploadedObjects: number; pending: number; failures: number } } | undefined;
    if (s) {
      out(`[cloud ${c.camera}] segments ${s.segments} (${Math.round(s.segmentBytes / 1024)} KiB), uploaded ${s.upload.uploadedObjects}, pending ${s.upload.pending}, upload failures ${s.upload.failures}`);
    }
  }
}

export function describePeerEvent(peer: string, e: { type: string; stream?: number; detail?: unknown }): string | undefined {
  if (e.type === 'watermark' || e.type === 'stream-origin') {
    return undefined;
  }
  const d = e.type === 'closed' ? (e.detail as { state?: string } | undefined)?.state : undefined;
  return `[peer ${peer}] ${e.type}${e.stream !== undefined ? ` stream ${e.stream}` : ''}${d ? ` (${d})` : ''}${e.detail && ['restarting', 'restarted', 'respawned'].includes(e.type) ? ` ${JSON.stringify(e.detail)}` : ''}`;
}

export function cloudArgs(device: string, c: RunCamera, record: { dir: string; store: StoreConfig }): CloudArgs {
  const fps = c.source.kind === 'push' ? 25 : c.source.fps;
  return {
    device,
    channel: c.channel,
    ring: c.ring,
    ...(c.video ? { video: { codec: c.video.codec, fps } } : {}),
    ...(c.audio ? { audio: c.audio } : {}),
    store: record.store,
    spoolDir: join(record.dir, 'local', `ch${c.channel}`),
    retention: { maxAgeS: c.config.retention.maxAgeS, maxBytes: c.config.retention.maxBytes },
    segmentS: 2,
    sessionMaxS: 3_600,
    noDataPauseMs: 120_000,
    uploadTimeoutMs: 30_000,
    concurrency: 2,
    progress: new SharedArrayBuffer(8),
  };
}
