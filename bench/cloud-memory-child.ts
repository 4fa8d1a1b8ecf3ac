/**
 * cloud-memory-child — one process, one cloud module, one stream: prints RSS samples
 * (JSON lines) at the phases the `cloud` benchmark compares:
 *   {"phase":"loaded"}     modules loaded; with `runtime`, the process-wide runtime (the P2P
 *                          host: p2p and io workers) already running (the baseline), and
 *                          start-up's free pages given back (malloc_trim, as `ivgw run`'s
 *                          periodic look does; `untrimmedRss` before it)
 *   {"phase":"idle"}       cloud.init done, nothing pushed (fixed overhead: actor, ring; and
 *                          without `runtime` the cloud worker of its own)
 *   {"phase":"stream"}     once a second while the stream is recorded (full-time plan)
 *   {"phase":"settled"}    at the end, still recording, after a full GC in every isolate
 *   {"phase":"trimmed"}    right after, once the C allocator gave its free pages back
 *                          (malloc_trim: what `ivgw run`'s periodic look does once a minute)
 * (every phase but `stream` is sampled after a full GC in every isolate: main, the host's
 * workers, the cloud actor's worker; those phases also carry each isolate's V8 heap used
 * and the C allocator's bytes in use and free inside its arenas, `native`)
 * argv[2]: { video, audio, maxGopSize, seconds, store (a StoreConfig), spoolDir, runtime, v8Size }
 * (`v8Size`: V8's memory settings set first, as `ivgw run` does: runtime/v8-size.ts)
 */
import { readFileSync } from 'node:fs';
import { CloudModule } from '../actors/cloud/cloud-module.js';
import type { StoreConfig } from '../actors/cloud/object-store.js';
import { acquireP2pHost } from '../actors/p2p/p2p-host.js';
import { SampleFeed } from '../actors/capture/sample-feed.js';
import { AccessUnitSplitter, AdtsSplitter } from '../media/es-splitter.js';
import { allocatorStats, trimAllocator } from '../runtime/allocator.js';
import type { WorkerHeap } from '../runtime/schema.js';
import { optimizeV8ForSize } from '../runtime/v8-size.js';

const a = JSON.parse(process.argv[2] ?? '{}') as { video: string; audio: string; maxGopSize: number; seconds: number; store: StoreConfig; spoolDir: string; runtime: boolean; v8Size?: boolean };
if (a.v8Size) {
  optimizeV8ForSize({}); // before any worker starts, as bin/commands/run.ts
}
const say = (o: unknown): void => {
  process.stdout.write(`${JSON.stringify(o)}\n`);
};
const vs = new AccessUnitSplitter('h264');
const video = [...vs.push(readFileSync(a.video)).frames, ...vs.end().frames];
const as = new AdtsSplitter();
const audio = [...as.push(readFileSync(a.audio)).frames, ...as.end().frames];
const sample = (phase: string, extra: Record<string, unknown> = {}): void => say({ phase, rss: process.memoryUsage().rss, heap: process.memoryUsage().heapUsed, ...extra });
/** V8 heap used per isolate (bytes) after the last settle(): main, the host's workers, the cloud worker when it has its own. */
let heaps: Record<string, number> = {};
const host = a.runtime ? await acquireP2pHost() : undefined;
const cloud = new CloudModule({ deviceId: 'bench', store: a.store, spoolDir: a.spoolDir, retention: { maxAgeS: 0, maxBytes: 0 } });
/** A full GC in every isolate of the process (main, the host's workers, the cloud actor's), three times. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) {
    (globalThis as { gc?: () => void }).gc?.();
    const h: Record<string, number> = { main: process.memoryUsage().heapUsed };
    for (const name of ['p2p', 'io']) {
      const w = (await host?.worker(name)?.request('sys', 'SYS_GC', {}, 10_000)) as WorkerHeap | undefined;
      if (w) {
        h[name] = w.heapUsed;
      }
    }
    if (cloud.initialized) {
      const c = await cloud.settleMemory();
      if (!host) {
        h.cloud = c.heapUsed; // hosted: the cloud actor's worker is io, counted above
      }
    }
    heaps = h;
    await new Promise((r) => setTimeout(r, 300));
  }
};
await settle();
const untrimmedRss = process.memoryUsage().rss;
trimAllocator();
sample('loaded', { heaps, native: allocatorStats(), untrimmedRss });
await cloud.init({ maxGopSize: a.maxGopSize, avFormat: { video: { codec: 'h264', fps: 25 }, audio: { codec: 'aac', sampleRate: 16000, channels: 1 } } });
await settle();
sample('idle', { heaps, native: allocatorStats() });
const feed = new SampleFeed({ video: { frames: video, fps: 25 }, audio: { frames: audio, sampleRate: 16000 }, push: (t, p) => cloud.pushStream(t, p) }).start();
for (let s = 1; s <= a.seconds; s++) {
  await new Promise((r) => setTimeout(r, 1_000));
  sample('stream', { second: s });
}
await settle();
sample('settled', { heaps, native: allocatorStats() });
trimAllocator();
sample('trimmed', { native: allocatorStats() });
feed.stop();
const stats = (await cloud.stats()) as { ingest: { videoKbps: number; audioKbps: number; gopFrames: number }; segments: number; readerLaps: number; upload: { pending: number } };
say({ phase: 'stats', videoKbps: stats.ingest.videoKbps, audioKbps: stats.ingest.audioKbps, gopFrames: stats.ingest.gopFrames, segments: stats.segments, readerLaps: stats.readerLaps, refused: feed.pushed.refused });
await cloud.exit();
process.exit(0);
