/**
 * run — `ivgw run`: starts the gateway runtime on embedded defaults and prints what
 * it does every second until Ctrl-C (or --seconds).
 *
 * Today the runtime carries a self-test stream: a producer actor writes 25 fps
 * frames into a FrameRing on one worker and a consumer actor on another worker
 * checks every frame. Demo cameras, P2P and cloud plug in here as they land.
 */
import { ActorSystem } from '../../runtime/actor-system.js';
import { FrameRing } from '../../runtime/frame-ring.js';
import { RING_PROBE_ACTOR } from '../../actors/probe/index.js';
import type { ConsumeResult } from '../../actors/probe/RingProbeActor.js';

export interface RunOptions {
  seconds: number | undefined;
}

export async function runCommand(opts: RunOptions): Promise<number> {
  const system = new ActorSystem({
    workers: [
      { name: 'capture', actors: [{ id: 'selftest-producer', module: RING_PROBE_ACTOR, handlerTimeoutMs: 2 ** 31 - 1 }] },
      { name: 'check', actors: [{ id: 'selftest-consumer', module: RING_PROBE_ACTOR, handlerTimeoutMs: 2 ** 31 - 1 }] },
    ],
  });
  system.on('event', (e) => {
    if (e.type !== 'start' && e.type !== 'stop') {
      process.stdout.write(`[supervisor] ${e.type} ${e.supervisor}/${e.child}${e.reason ? ` (${e.reason})` : ''}${e.error ? `: ${e.error.code} ${e.error.message}` : ''}\n`);
    }
  });
  let fatal = false;
  system.on('fatal', (err) => {
    fatal = true;
    process.stderr.write(`[supervisor] fatal: ${err.code} ${err.message}\n`);
  });
  await system.start();
  const ring = FrameRing.create({ dataBytes: 4 * 1024 * 1024, slots: 1024, keys: 64 });
  const stop = new SharedArrayBuffer(4);
  const frames = Array.from({ length: 50 }, (_, i) => ({ size: i === 0 ? 24_000 : 6_000, key: i === 0, stream: 0 }));
  process.stdout.write(`ivgw: runtime up (workers: capture, check); self-test stream 25 fps, GOP 50${opts.seconds ? `, for ${opts.seconds} s` : '; Ctrl-C stops'}\n`);
  const produced = system.ref('selftest-producer').call('RINGPROBE_PRODUCE', {
    ring: ring.buffer, frames, repeat: 1, fill: 'pattern', intervalMs: 40, durationMs: (opts.seconds ?? 365 * 86_400) * 1000, stopFlag: stop,
  }, { timeoutMs: 2 ** 31 - 1 });
  const consumed = system.ref('selftest-consumer').call('RINGPROBE_CONSUME', {
    ring: ring.buffer, start: 'latest-keyframe', mode: 'view', verify: true, untilSeq: -1, timeoutMs: 0, recordSeqs: false, stopFlag: stop,
  }, { timeoutMs: 2 ** 31 - 1 }) as Promise<ConsumeResult>;
  const ticker = setInterval(() => {
    process.stdout.write(`ivgw: frames ${ring.head + 1}, bytes ${ring.bytesWritten}\n`);
  }, 1000);
  const interrupted = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await Promise.race([produced, interrupted]);
  clearInterval(ticker);
  Atomics.store(new Int32Array(stop), 0, 1);
  const result = await consumed.catch(() => undefined);
  await system.stop();
  if (result) {
    process.stdout.write(`ivgw: self-test consumer checked ${result.frames} frames, ${result.errors.length} errors, ${result.laps} laps\n`);
  }
  return fatal || (result?.errors.length ?? 1) > 0 ? 1 : 0;
}
