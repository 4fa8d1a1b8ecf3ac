/**
 * p2p-host — the process-wide home of node-datachannel: one actor system with the
 * pinned `p2p` worker (peer actors) and the `io` worker (command and voice actors),
 * created on first use and shared by every P2pModule of the process.
 *
 * node-datachannel crashes when loaded in two threads of one process and cannot be
 * loaded again after cleanup(): so p2p.exit() never stops this host; it lives as long
 * as the process (the p2p worker's shutdown hook closes every peer connection).
 * Owns: that system. Must never: be created twice in a process.
 */
import { ActorSystem } from '../../runtime/actor-system.js';
import { COMMAND_ACTOR, VOICE_ACTOR } from './index.js';

let host: Promise<ActorSystem> | undefined;

export function acquireP2pHost(): Promise<ActorSystem> {
  host ??= new ActorSystem({
    workers: [
      { name: 'p2p', pinned: true, actors: [] },
      { name: 'io', actors: [{ id: 'command', module: COMMAND_ACTOR, handlerTimeoutMs: 60_000 }, { id: 'voice', module: VOICE_ACTOR, handlerTimeoutMs: 60_000 }] },
    ],
  }).start();
  return host;
}
