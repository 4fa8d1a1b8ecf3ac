/**
 * p2p-host — the process-wide home of node-datachannel: one actor system with the
 * pinned `p2p` worker (peer actors) and the `io` worker (command and voice actors),
 * created on first use and shared by every P2pModule of the process; its worker layout
 * (`p2pHostWorkers`) is also the one a Gateway runs. Its `io` worker is offered to other
 * modules of the process (runtime/process-host.ts): the cloud module's actor runs there.
 *
 * node-datachannel crashes when loaded in two threads of one process and cannot be
 * loaded again after cleanup(): so p2p.exit() never stops this host; it lives as long
 * as the process (the p2p worker's shutdown hook closes every peer connection).
 * Owns: that system. Must never: be created twice in a process.
 */
import { ActorSystem, type WorkerConfig } from '../../runtime/actor-system.js';
import { offerSharedWorker, SERVICE_WORKER_LIMITS } from '../../runtime/process-host.js';
import { COMMAND_ACTOR, VOICE_ACTOR } from './index.js';

let host: Promise<ActorSystem> | undefined;

/**
 * The P2P workers every host of peer actors has: the pinned `p2p` worker (peer actors,
 * spawned per app) and the `io` worker with the `command` and `voice` actors (the user's
 * onCommand / onRecv* callbacks). A gateway adds these to its own system.
 */
export function p2pHostWorkers(): WorkerConfig[] {
  return [
    { name: 'p2p', pinned: true, actors: [] },
    { name: 'io', resourceLimits: SERVICE_WORKER_LIMITS, actors: [{ id: 'command', module: COMMAND_ACTOR, handlerTimeoutMs: 60_000 }, { id: 'voice', module: VOICE_ACTOR, handlerTimeoutMs: 60_000 }] },
  ];
}

export function acquireP2pHost(): Promise<ActorSystem> {
  if (!host) {
    host = new ActorSystem({ workers: p2pHostWorkers() }).start();
    offerSharedWorker(host, 'io'); // other modules (cloud) host their actors on io: no isolate each
  }
  return host;
}
