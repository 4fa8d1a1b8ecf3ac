/**
 * gateway-workers — which actor runs on which worker: one CaptureActor per camera on the
 * `capture` worker (or on io with `captureWorker: 'io'`, and with `auto` on a machine of 2
 * cores or fewer, where the capture worker's thread would only share them), the P2P
 * host's `p2p` and `io` workers (actors/p2p/p2p-host.ts), and one CloudActor per recorded
 * camera on io (with the command and voice actors: an isolate of its own costs 4–10 MB
 * and buys nothing).
 * Must never: start a worker (the ActorSystem does).
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { WorkerConfig } from '../runtime/actor-system.js';
import { CAPTURE_ACTOR } from '../actors/capture/index.js';
import { CLOUD_ACTOR } from '../actors/cloud/index.js';
import { cloudActorArgs } from '../actors/cloud/cloud-defaults.js';
import { p2pHostWorkers } from '../actors/p2p/p2p-host.js';
import type { GatewayCamera } from './gateway-report.js';
import type { CaptureWorker, GatewayOptions } from './gateway-options.js';

/** The worker the cameras are captured on: `auto` (the default) is io on 2 cores or fewer. */
export function captureWorkerFor(choice: CaptureWorker | undefined, cores = availableParallelism()): 'own' | 'io' {
  const c = choice ?? 'auto';
  return c === 'auto' ? (cores <= 2 ? 'io' : 'own') : c;
}

export function gatewayWorkers(o: GatewayOptions, deviceId: string, cameras: readonly GatewayCamera[], recorded: readonly GatewayCamera[]): WorkerConfig[] {
  const record = o.record;
  const cloudActors = record ? recorded.map((c) => ({
    id: `cloud:${c.camera}`,
    module: CLOUD_ACTOR,
    handlerTimeoutMs: 120_000,
    args: cloudActorArgs({
      device: deviceId,
      channel: c.channel,
      ring: c.ring,
      ...(c.video ? { video: { codec: c.video.codec, fps: c.source.kind === 'push' ? 25 : c.source.fps } } : {}),
      ...(c.audio ? { audio: c.audio } : {}),
      store: record.store,
      spoolDir: join(record.dir, 'local', `ch${c.channel}`),
      retention: c.config.retention,
    }),
  })) : [];
  const captureActors = cameras.map((c) => ({ id: `capture:${c.camera}`, module: CAPTURE_ACTOR, args: { camera: c.camera, ring: c.ring, source: c.source, ...(c.video ? { video: c.video } : {}), ...(c.audio ? { audio: c.audio } : {}) } }));
  const captureOnIo = captureWorkerFor(o.captureWorker) === 'io';
  return [
    ...(captureOnIo ? [] : [{ name: 'capture', actors: captureActors }]),
    ...p2pHostWorkers().map((w) => (w.name !== 'io' ? w : { ...w, actors: [...(captureOnIo ? captureActors : []), ...w.actors, ...cloudActors] })),
  ];
}
