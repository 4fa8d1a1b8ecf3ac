/**
 * ring — FrameRing throughput: 64 KB frames, 1 producer + 8 consumers, each in its own
 * worker thread. Reports ring bytes/s per consumer ÷ memcpy bandwidth (64 KB copies
 * through a buffer as large as the ring) measured in the same run:
 *  - `ratioToMemcpy` (target >= 0.8): zero-copy consumers (peek/release) polling every
 *    1 ms, the way the p2p fan-out reads rings on its tick;
 *  - `notifyRatioToMemcpy`: the same consumers woken by the ring's futex on every frame;
 *  - `copyRatioToMemcpy`: consumers that copy every frame out;
 *  - `ratioToSharedMemcpy`: against memcpy into a SharedArrayBuffer from V8;
 *  - `jsCopyRatioToMemcpy`: the zero-copy consumers again, the producer copying frames in
 *    with V8 instead of libc memcpy (iv_mem's copyInto, `nativeCopy` says if it was built).
 */
import { ActorSystem } from '../runtime/actor-system.js';
import { loadMemAddon } from '../runtime/allocator.js';
import { FrameRing } from '../runtime/frame-ring.js';
import { RING_PROBE_ACTOR } from '../actors/probe/index.js';
import type { ConsumeResult } from '../actors/probe/probe-methods.js';
import type { BenchOptions } from './run.js';
import { mean, memcpyBandwidth, round } from './stats.js';

const FRAME = 64 * 1024;
const CONSUMERS = 8;
const RING_BYTES = 64 * 1024 * 1024;
/** Consumers that poll model the p2p fan-out, which reads rings on the spec's tick. */
const POLL_MS = 2;

async function pass(system: ActorSystem, mode: 'view' | 'copy', wake: 'poll' | 'notify', durationMs: number, nativeCopy = true) {
  const ring = FrameRing.create({ dataBytes: RING_BYTES, slots: 2048, keys: 64 });
  const consumers = Array.from({ length: CONSUMERS }, (_, i) => system.ref(`c${i}`).call('RINGPROBE_CONSUME', {
    ring: ring.buffer, start: 'oldest', mode, verify: false, untilSeq: -1, timeoutMs: durationMs + 10_000, recordSeqs: false,
    ...(wake === 'poll' ? { pollMs: POLL_MS } : {}),
  }, { timeoutMs: durationMs + 20_000 }) as Promise<ConsumeResult>);
  await new Promise((r) => setTimeout(r, 50));
  const produced = await system.ref('prod').call('RINGPROBE_PRODUCE', {
    ring: ring.buffer, frames: [{ size: FRAME, key: true, stream: 0 }], repeat: 1, fill: 'none', intervalMs: 0, durationMs, nativeCopy,
  }, { timeoutMs: durationMs + 20_000 }) as { frames: number; bytes: number; ms: number };
  const results = await Promise.all(consumers);
  const perConsumer = results.map((r) => r.bytes / (r.activeMs / 1000));
  return {
    producerBytesPerSec: produced.bytes / (produced.ms / 1000),
    perConsumerBytesPerSec: mean(perConsumer),
    minConsumerBytesPerSec: Math.min(...perConsumer),
    laps: results.reduce((a, r) => a + r.laps, 0),
    lostFrames: results.reduce((a, r) => a + r.lostFrames, 0),
    frames: produced.frames,
  };
}

export async function run(opts: BenchOptions): Promise<Record<string, unknown>> {
  const durationMs = opts.quick ? 1_500 : 5_000;
  const actor = (id: string) => ({ id, module: RING_PROBE_ACTOR, handlerTimeoutMs: durationMs + 30_000 });
  const workers = [{ name: 'producer', actors: [actor('prod')], missedHeartbeats: 40 }];
  for (let i = 0; i < CONSUMERS; i++) {
    workers.push({ name: `consumer${i}`, actors: [actor(`c${i}`)], missedHeartbeats: 40 });
  }
  const system = await new ActorSystem({ workers }).start();
  try {
    const memcpy = memcpyBandwidth(FRAME, RING_BYTES, opts.quick ? 500 : 2_000);
    const view = await pass(system, 'view', 'poll', durationMs);
    const jsCopy = await pass(system, 'view', 'poll', durationMs, false);
    const notified = await pass(system, 'view', 'notify', durationMs);
    const copy = await pass(system, 'copy', 'poll', durationMs);
    const memcpyAfter = memcpyBandwidth(FRAME, RING_BYTES, opts.quick ? 500 : 2_000);
    const memcpyBytesPerSec = (memcpy + memcpyAfter) / 2;
    const sharedMemcpy = memcpyBandwidth(FRAME, RING_BYTES, opts.quick ? 500 : 2_000, true);
    return {
      frameBytes: FRAME,
      consumers: CONSUMERS,
      memcpyGBps: round(memcpyBytesPerSec / 1e9),
      ratioToMemcpy: round(view.perConsumerBytesPerSec / memcpyBytesPerSec),
      sharedMemcpyGBps: round(sharedMemcpy / 1e9),
      ratioToSharedMemcpy: round(view.perConsumerBytesPerSec / sharedMemcpy),
      minConsumerRatio: round(view.minConsumerBytesPerSec / memcpyBytesPerSec),
      perConsumerGBps: round(view.perConsumerBytesPerSec / 1e9),
      producerGBps: round(view.producerBytesPerSec / 1e9),
      laps: view.laps,
      lostFrames: view.lostFrames,
      nativeCopy: loadMemAddon()?.copyInto !== undefined,
      jsCopyRatioToMemcpy: round(jsCopy.perConsumerBytesPerSec / memcpyBytesPerSec),
      jsCopyProducerGBps: round(jsCopy.producerBytesPerSec / 1e9),
      notifyRatioToMemcpy: round(notified.perConsumerBytesPerSec / memcpyBytesPerSec),
      notifyLaps: notified.laps,
      copyRatioToMemcpy: round(copy.perConsumerBytesPerSec / memcpyBytesPerSec),
      copyPerConsumerGBps: round(copy.perConsumerBytesPerSec / 1e9),
      copyLaps: copy.laps,
      target: { ratioToMemcpy: 0.8 },
    };
  } finally {
    await system.stop();
  }
}
