/**
 * p2p-host — the process-wide home of node-datachannel: one actor system with the
 * pinned `p2p` worker (peer actors) and the `io` worker (command and voice actors),
 * created on first use and shared by every P2pModule of the process.
 *
 * node-datachannel crashes when loaded in two threads of one process and cannot be
 * loaded again after cleanup(): so p2p.exit() never stops this host; only
 * shutdownP2pHost() does (at process end), after which P2P cannot start again here.
 * Owns: that system. Must never: be created twice in a process.
 */
import { ActorSystem } from '../../runtime/actor-system.js';
import { IvError } from '../../runtime/errors.js';
import { COMMAND_ACTOR, VOICE_ACTOR } from './index.js';

let host: Promise<ActorSystem> | undefined;
let shutDown = false;

export function acquireP2pHost(): Promise<ActorSystem> {
  if (shutDown) {
    return Promise.reject(new IvError('IV_ERR_CLOSED', 'the P2P host of this process was shut down; node-datachannel cannot be loaded again in this process'));
  }
  host ??= new ActorSystem({
    workers: [
      { name: 'p2p', pinned: true, actors: [] },
      { name: 'io', actors: [{ id: 'command', module: COMMAND_ACTOR, handlerTimeoutMs: 60_000 }, { id: 'voice', module: VOICE_ACTOR, handlerTimeoutMs: 60_000 }] },
    ],
  }).start();
  return host;
}

/** Stop the host (closes every peer connection, then node-datachannel's cleanup()). */
export async function shutdownP2pHost(): Promise<void> {
  shutDown = true;
  const h = host;
  host = undefined;
  if (h) {
    await (await h.catch(() => undefined))?.stop();
  }
}
