/**
 * transport-keeper — keeps closed node-datachannel objects referenced for a while.
 * A PeerConnection or DataChannel the actor closed and dropped can be garbage-collected
 * while libdatachannel's threads are still delivering its last callbacks (close, state,
 * a message in flight); the native destructor then races them (SIGSEGV/SIGABRT, seen at
 * shutdown with apps connected). Closed objects are therefore held for `HOLD_MS` (10 s), and for
 * good once the worker shuts down, so nothing native is destroyed before cleanup().
 * Owns: those references. Must never: touch the objects it holds after closing them.
 */

const HOLD_MS = 10_000;
const held = new Map<unknown, number>();
let forever = false;
let sweeper: NodeJS.Timeout | undefined;

function sweep(): void {
  const now = Date.now();
  for (const [obj, until] of held) {
    if (until <= now) {
      held.delete(obj);
    }
  }
  if (held.size === 0 && sweeper) {
    clearInterval(sweeper);
    sweeper = undefined;
  }
}

/** Close each (a DataChannel or PeerConnection) and hold it: the one way p2p closes native objects. */
export function closeKept(...objects: ({ close(): void } | undefined)[]): void {
  for (const o of objects) {
    o?.close();
  }
  keepClosed(...objects);
}

/** Hold these (just closed) objects for a while. */
export function keepClosed(...objects: unknown[]): void {
  const until = Date.now() + HOLD_MS;
  for (const o of objects) {
    if (o !== undefined && o !== null) {
      held.set(o, until);
    }
  }
  if (!forever && !sweeper && held.size > 0) {
    sweeper = setInterval(sweep, 2_000);
    sweeper.unref();
  }
}

/** From now on hold everything until the thread exits (called when the transport shuts down). */
export function keepForever(): void {
  forever = true;
  clearInterval(sweeper);
  sweeper = undefined;
}

export function heldCount(): number {
  return held.size;
}
