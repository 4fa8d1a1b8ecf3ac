/**
 * Property tests: one producer and several consumers on different worker threads
 * share a FrameRing. Whatever the geometry, frame sizes, keyframe pattern and reader
 * mode, no consumer ever sees a torn, reordered or mislabelled frame, every gap is
 * reported as a lap, and every resync lands on a keyframe.
 */
import test from 'ava';
import fc from 'fast-check';
import { ActorSystem } from '../../runtime/actor-system.js';
import { FrameRing, type StartAt } from '../../runtime/frame-ring.js';
import { RING_PROBE_ACTOR } from '../../actors/probe/index.js';
import type { ConsumeResult } from '../../actors/probe/probe-methods.js';

const CONSUMERS = 3;

async function ringSystem(): Promise<ActorSystem> {
  const actor = (id: string) => ({ id, module: RING_PROBE_ACTOR, handlerTimeoutMs: 60_000 });
  const workers = [{ name: 'producer', actors: [actor('prod')] }];
  for (let i = 0; i < CONSUMERS; i++) {
    workers.push({ name: `consumer${i}`, actors: [actor(`cons${i}`)] });
  }
  return new ActorSystem({ workers }).start();
}

interface RunSpec {
  dataBytes: number;
  slots: number;
  keys: number;
  frames: { size: number; key: boolean; stream: number }[];
  readers: { start: StartAt; mode: 'copy' | 'view' }[];
}

async function run(system: ActorSystem, spec: RunSpec): Promise<ConsumeResult[]> {
  const ring = FrameRing.create({ dataBytes: spec.dataBytes, slots: spec.slots, keys: spec.keys });
  const consumers = spec.readers.map((r, i) => system.ref(`cons${i}`).call('RINGPROBE_CONSUME', {
    ring: ring.buffer, start: r.start, mode: r.mode, verify: true, untilSeq: spec.frames.length - 1, timeoutMs: 20_000, recordSeqs: true,
  }, { timeoutMs: 30_000 }) as Promise<ConsumeResult>);
  await new Promise((r) => setTimeout(r, 5));
  await system.ref('prod').call('RINGPROBE_PRODUCE', { ring: ring.buffer, frames: spec.frames, repeat: 1, fill: 'pattern', intervalMs: 0 }, { timeoutMs: 30_000 });
  return Promise.all(consumers);
}

function assertConsistent(result: ConsumeResult, total: number): string | undefined {
  if (result.errors.length > 0) {
    return result.errors.join('; ');
  }
  if (result.timedOut) {
    return 'consumer timed out';
  }
  for (let i = 1; i < result.seqs.length; i++) {
    if ((result.seqs[i] as number) <= (result.seqs[i - 1] as number)) {
      return `reordered at ${i}`;
    }
  }
  if (result.seqs.some((s) => s < 0 || s >= total)) {
    return 'seq outside what was produced';
  }
  const gaps = result.seqs.filter((s, i) => i > 0 && s !== (result.seqs[i - 1] as number) + 1).length;
  if (gaps > 0 && result.laps === 0) {
    return `${gaps} gaps but no lap reported`;
  }
  if (result.resyncs.some((r) => !r.keyframe)) {
    return 'resynced on a non-keyframe';
  }
  if ((result.laps === 0) !== (result.lostFrames === 0)) {
    return `laps ${result.laps} but lostFrames ${result.lostFrames}`;
  }
  return undefined;
}

const runSpec = fc.record({
  dataBytes: fc.integer({ min: 2048, max: 65_536 }),
  slots: fc.constantFrom(4, 8, 16, 64, 256),
  keys: fc.constantFrom(1, 2, 8, 32),
  frames: fc.array(fc.record({ size: fc.integer({ min: 0, max: 2048 }), key: fc.boolean(), stream: fc.integer({ min: 0, max: 2 }) }), { minLength: 1, maxLength: 600 }),
  readers: fc.array(fc.record({ start: fc.constantFrom<StartAt>('oldest', 'latest-keyframe', 'next'), mode: fc.constantFrom<'copy' | 'view'>('copy', 'view') }), { minLength: 1, maxLength: CONSUMERS }),
});

test('consumers on other threads never see torn, reordered or unreported-missing frames', async (t) => {
  const system = await ringSystem();
  t.teardown(() => system.stop());
  let runs = 0;
  let lapped = 0;
  await fc.assert(
    fc.asyncProperty(runSpec, async (spec) => {
      const results = await run(system, spec);
      runs++;
      for (const r of results) {
        const problem = assertConsistent(r, spec.frames.length);
        if (problem) {
          throw new Error(problem);
        }
        lapped += r.laps > 0 ? 1 : 0;
      }
    }),
    { numRuns: 40, seed: Number(process.env.IV_PROPERTY_SEED ?? Date.now() % 1_000_000), verbose: 1 },
  );
  t.is(runs, 40);
  t.log(`${lapped} consumer runs were lapped`);
});

test('a reader that keeps up gets every frame from its start to the end without a gap', async (t) => {
  const system = await ringSystem();
  t.teardown(() => system.stop());
  const frames = Array.from({ length: 300 }, (_, i) => ({ size: 200 + (i % 7) * 50, key: i % 25 === 0, stream: i % 2 }));
  const [result] = await run(system, { dataBytes: 4 * 1024 * 1024, slots: 1024, keys: 64, frames, readers: [{ start: 'oldest', mode: 'view' }] });
  t.truthy(result);
  t.is(assertConsistent(result!, frames.length), undefined);
  t.is(result!.laps, 0);
  t.deepEqual(result!.seqs, Array.from({ length: 300 - result!.firstSeq }, (_, i) => i + result!.firstSeq));
});

test('consumers lapped by a fast producer on another thread always detect it and resync on keyframes', async (t) => {
  const system = await ringSystem();
  t.teardown(() => system.stop());
  const frames = Array.from({ length: 20_000 }, (_, i) => ({ size: 1500, key: i % 10 === 0, stream: 0 }));
  const results = await run(system, { dataBytes: 8192, slots: 8, keys: 4, frames, readers: [{ start: 'oldest', mode: 'copy' }, { start: 'oldest', mode: 'view' }, { start: 'latest-keyframe', mode: 'copy' }] });
  for (const r of results) {
    t.is(assertConsistent(r, frames.length), undefined);
  }
  t.true(results.some((r) => r.laps > 0), `a ring of 8 slots was lapped at least once (laps: ${results.map((r) => r.laps).join(', ')})`);
});
