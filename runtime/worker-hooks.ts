/**
 * worker-hooks — things a worker runs when it shuts down cleanly, after its actors
 * stopped (e.g. node-datachannel's cleanup() after every PeerConnection closed).
 * Owns: the hook list of this thread. Must never: run a hook twice.
 */

const hooks: (() => void | Promise<void>)[] = [];

export function onWorkerShutdown(fn: () => void | Promise<void>): void {
  if (!hooks.includes(fn)) {
    hooks.push(fn);
  }
}

export async function runWorkerShutdownHooks(): Promise<void> {
  for (const fn of hooks.splice(0).reverse()) {
    try {
      await fn();
    } catch {
      // a failing hook must not keep the worker from exiting
    }
  }
}
