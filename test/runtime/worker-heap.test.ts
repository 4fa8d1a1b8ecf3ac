/**
 * SYS_GC: a benchmark asks each worker for its V8 heap after a full collection ("GC-settled")
 * — collected only when node runs with --expose-gc, and said so. SYS_RELEASE_MEMORY (what
 * the trim after departures asks of the p2p worker) collects with or without the flag.
 */
import test from 'ava';
import { ActorSystem } from '../../runtime/actor-system.js';
import { RING_PROBE_ACTOR } from '../../actors/probe/index.js';
import type { WorkerHeap } from '../../runtime/schema.js';

test('a worker reports its V8 heap on SYS_GC and whether it could collect first', async (t) => {
  const system = await new ActorSystem({ workers: [{ name: 'w', actors: [{ id: 'probe', module: RING_PROBE_ACTOR }] }] }).start();
  try {
    const heap = (await system.worker('w')?.request('sys', 'SYS_GC', {})) as WorkerHeap;
    t.is(heap.collected, typeof (globalThis as { gc?: unknown }).gc === 'function', 'collects exactly when gc is exposed');
    t.true(heap.heapUsed > 1_000_000 && heap.heapUsed <= heap.heapTotal, `${heap.heapUsed} of ${heap.heapTotal} bytes`);
    t.true(heap.external >= 0 && heap.arrayBuffers >= 0);
  } finally {
    await system.stop();
  }
});

test('a worker collects and reports its heap on SYS_RELEASE_MEMORY, with or without --expose-gc', async (t) => {
  const system = await new ActorSystem({ workers: [{ name: 'w', actors: [{ id: 'probe', module: RING_PROBE_ACTOR }] }] }).start();
  try {
    const heap = (await system.worker('w')?.request('sys', 'SYS_RELEASE_MEMORY', {})) as WorkerHeap;
    t.true(heap.collected, 'V8 collected (the iv_mem addon is built)');
    t.true(heap.heapUsed > 1_000_000 && heap.heapUsed <= heap.heapTotal, `${heap.heapUsed} of ${heap.heapTotal} bytes`);
    const again = (await system.worker('w')?.request('sys', 'SYS_RELEASE_MEMORY', {})) as WorkerHeap;
    t.true(again.heapUsed <= heap.heapUsed * 1.1, `settled: ${heap.heapUsed} then ${again.heapUsed} bytes`);
  } finally {
    await system.stop();
  }
});
