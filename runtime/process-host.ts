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

/**
 * V8 limits of a worker that hosts service actors (commands, voice, cloud recording,
 * capture on io): none needs a large young generation, and V8's default lets an
 * isolate's semi-spaces grow to 16 MB each after a burst of allocation (an upload, a
 * playback). Bench cloud: peak RSS growth +9.8 MB with this limit, +10.9 and +17.3 MB in
 * the two runs without it (actors/cloud/README.md).
 */
export const SERVICE_WORKER_LIMITS = { maxYoungGenerationSizeMb: 4 } as const;

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
