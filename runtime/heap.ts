/**
 * heap — one isolate's V8 heap: after a full garbage collection when the process runs
 * with `--expose-gc` (collectHeap: benchmarks measure memory "GC-settled" this way;
 * without the flag the heap is reported as it is), or after V8's low-memory notification
 * (releaseHeap: what the trim after a burst of departures asks of each isolate that held
 * the apps, so that what their connections' wrappers kept natively is freed before the
 * C allocator's free pages go back). Used by every worker host (SYS_GC, SYS_RELEASE_MEMORY)
 * and the main thread.
 * Owns: nothing. Must never: be called on a hot path (a full GC stops the isolate).
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { loadMemAddon } from './allocator.js';
import type { WorkerHeap } from './schema.js';

function heapNow(collected: boolean): WorkerHeap {
  const m = process.memoryUsage();
  return { collected, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers };
}

export function collectHeap(): WorkerHeap {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc === 'function') {
    gc();
  }
  return heapNow(typeof gc === 'function');
}

/**
 * V8's low-memory notification to this isolate (iv_mem; `gc()` under --expose-gc where
 * the addon is not built; neither: nothing), then one turn of the event loop, in which
 * the finalizers of what was collected run (a node-datachannel wrapper frees its native
 * peer connection there). `collected` says whether a collection ran.
 */
export async function releaseHeap(): Promise<WorkerHeap> {
  const addon = loadMemAddon();
  let collected = false;
  if (typeof addon?.lowMemory === 'function') {
    collected = addon.lowMemory();
  } else {
    collected = collectHeap().collected;
  }
  await nextTurn();
  return heapNow(collected);
}
