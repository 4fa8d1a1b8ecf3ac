/**
 * process-host — the worker a process already runs that other modules may host their
 * actors on: the first process-wide actor system (the P2P host) offers one of its
 * workers here, and a module that starts later (the SDK's cloud module) spawns its actor
 * there instead of starting an isolate of its own (~9 MB each).
 * Owns: that one offer. Must never: start a system itself, or offer a pinned worker
 * (an actor that misbehaves there would take down what may never restart).
 */
import type { ActorSystem } from './actor-system.js';

export interface SharedWorker {
  system: Promise<ActorSystem>;
  worker: string;
}

let offered: SharedWorker | undefined;

/** The process-wide system offers `worker` for other modules' actors (first offer wins). */
export function offerSharedWorker(system: Promise<ActorSystem>, worker: string): void {
  offered ??= { system, worker };
  system.catch(() => {
    if (offered?.system === system) {
      offered = undefined; // it never started: nothing to share
    }
  });
}

/** The worker offered by a system the process already runs, if any. */
export function sharedWorker(): SharedWorker | undefined {
  return offered;
}
