/**
 * heap — one isolate's V8 heap, after a full garbage collection when the process runs
 * with `--expose-gc` (benchmarks measure memory "GC-settled" this way; without the flag
 * the heap is reported as it is). Used by every worker host (SYS_GC) and the main thread.
 * Owns: nothing. Must never: be called on a hot path (a full GC stops the isolate).
 */
import type { WorkerHeap } from './schema.js';

export function collectHeap(): WorkerHeap {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc === 'function') {
    gc();
  }
  const m = process.memoryUsage();
  return { collected: typeof gc === 'function', heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers };
}
