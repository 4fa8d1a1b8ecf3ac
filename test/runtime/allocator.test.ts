/**
 * Freed native memory goes back to the system: glibc keeps what a process frees in its
 * arenas (RSS stays at its high-water mark), and the gateway's trim after apps leave
 * (runtime/allocator.ts, the iv_mem addon) gives it back — once per burst of departures.
 * And the code pages start-up touched leave the process's RSS without breaking what runs.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('../fixtures/allocator-child.js', import.meta.url));
const CODE_PAGES_CHILD = fileURLToPath(new URL('../fixtures/code-pages-child.js', import.meta.url));
const RELEASE_CHILD = fileURLToPath(new URL('../fixtures/release-child.js', import.meta.url));

test('memory freed in small blocks stays in the process until the trim after a burst of departures gives it back', (t) => {
  const r = spawnSync(process.execPath, ['--expose-gc', CHILD], { encoding: 'utf8', timeout: 30_000 });
  t.is(r.status, 0, r.stderr);
  const m = JSON.parse(r.stdout) as { start: number; held: number; freed: number; freeBytes?: number; beforeTrim: number; trimmed: number; counts: { trims: number; released: number } };
  t.log(`RSS MB: start ${m.start.toFixed(1)}, 140 MB held ${m.held.toFixed(1)}, freed ${m.freed.toFixed(1)}, trimmed ${m.trimmed.toFixed(1)}`);
  t.true(m.held - m.start > 100, 'the blocks were resident');
  t.true((m.freeBytes ?? 0) > 100 * 1048576, `the allocator holds the freed blocks: ${m.freeBytes} bytes free inside its arenas`);
  t.true(m.freed - m.start > 50, 'freeing alone leaves most of it in RSS (glibc keeps it)');
  t.true(m.beforeTrim - m.start > 50, 'no trim before the burst has settled');
  t.like(m.counts, { trims: 1, released: 1, releases: 0 }, 'one trim for five departures, and it gave memory back');
  t.true(m.freed - m.trimmed > 100, `the trim gave back ${(m.freed - m.trimmed).toFixed(1)} MB`);
});

test('an isolate gives back the objects apps left behind without --expose-gc, and a release that fails or hangs does not stop the trim', (t) => {
  const r = spawnSync(process.execPath, [RELEASE_CHILD], { encoding: 'utf8', timeout: 30_000 });
  t.is(r.status, 0, r.stderr);
  type Counts = { trims: number; released: number; releases: number; lastReleaseMs: number };
  const m = JSON.parse(r.stdout) as { gcExposed: boolean; held: number; before: number; beforeTotal: number; released: { collected: boolean; heapUsed: number; heapTotal: number }; failing: Counts; hanging: Counts };
  const mb = (n: number): string => (n / 1048576).toFixed(1);
  t.log(`V8 heap MB: ${mb(m.held)} held, ${mb(m.before)} after they were dropped, ${mb(m.released.heapUsed)} after the release (total ${mb(m.beforeTotal)} → ${mb(m.released.heapTotal)}); hanging release cut at ${m.hanging.lastReleaseMs} ms`);
  t.false(m.gcExposed, 'the child runs as ivgw run does');
  t.true(m.before - m.released.heapUsed > 20 * 1048576, 'the dropped objects were collected');
  t.true(m.beforeTotal - m.released.heapTotal > 20 * 1048576, 'and the heap shrank');
  t.true(m.released.collected);
  t.like(m.failing, { releases: 1, trims: 1 }, 'a failed release: the trim ran anyway');
  t.like(m.hanging, { releases: 1, trims: 1 }, 'a release that never answers: the trim ran after the delay');
  t.true(m.hanging.lastReleaseMs >= 90, `${m.hanging.lastReleaseMs} ms`);
});

test('a periodic look trims when the arenas hold enough free memory, and only looks while they hold less', (t) => {
  const r = spawnSync(process.execPath, ['--expose-gc', CHILD, 'periodic'], { encoding: 'utf8', timeout: 30_000 });
  t.is(r.status, 0, r.stderr);
  type Counts = { checks: number; trims: number; released: number };
  const m = JSON.parse(r.stdout) as { start: number; freed: number; untrimmed: number; trimmed: number; counts: Counts; neverCounts: Counts };
  t.log(`RSS MB: start ${m.start.toFixed(1)}, freed ${m.freed.toFixed(1)}, after looks that did not trim ${m.untrimmed.toFixed(1)}, trimmed ${m.trimmed.toFixed(1)}; ${JSON.stringify(m.counts)}`);
  t.true(m.neverCounts.checks >= 2 && m.neverCounts.trims === 0, `below its threshold it only looks: ${JSON.stringify(m.neverCounts)}`);
  t.true(m.untrimmed - m.start > 50, 'looking gives nothing back');
  t.true(m.counts.trims >= 1 && m.counts.released >= 1, `over 1 MiB free: it trimmed, ${JSON.stringify(m.counts)}`);
  t.true(m.untrimmed - m.trimmed > 100, `the trim gave back ${(m.untrimmed - m.trimmed).toFixed(1)} MB`);
});

test('the code pages start-up touched leave the RSS, and everything that runs afterwards maps them back and works', (t) => {
  const r = spawnSync(process.execPath, [CODE_PAGES_CHILD], { encoding: 'utf8', timeout: 30_000 });
  t.is(r.status, 0, r.stderr);
  type Counts = { checks: number; trims: number; codeDrops: number; codeBytesDropped: number };
  const m = JSON.parse(r.stdout) as { before: number; dropped?: { mappings: number; bytes: number }; after: number; roundTrip: boolean; sameHash: boolean; rerun: number; periodic: Counts; off: Counts; end: number };
  t.log(`node's file-backed RSS KB: ${m.before} at start, ${m.after} after the drop (${m.dropped?.mappings} mappings, ${Math.round((m.dropped?.bytes ?? 0) / 1024)} KB were resident), ${m.rerun} after JSON, zlib, crypto and a worker ran, ${m.end} at the end`);
  t.truthy(m.dropped, 'this build drops code pages (Linux)');
  t.true((m.dropped?.mappings ?? 0) >= 2, 'node\'s code and its read-only data at least');
  t.true(m.before - m.after > 10_000, `more than 10 MB of start-up's pages left: ${m.before} → ${m.after} KB`);
  t.true(m.roundTrip && m.sameHash, 'the dropped code ran again and gave the same answers, on this thread and on a new worker');
  t.true(m.rerun > m.after, 'what ran was mapped back');
  t.true(m.periodic.codeDrops >= 2 && m.periodic.trims === 0, `a periodic look drops the code pages at each look: ${JSON.stringify(m.periodic)}`);
  t.true(m.periodic.codeBytesDropped > 0, 'what ran between two looks was resident again, and dropped again');
  t.is(m.off.codeDrops, 0, 'without dropCode it never does');
});
