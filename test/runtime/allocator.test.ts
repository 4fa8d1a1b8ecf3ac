/**
 * Freed native memory goes back to the system: glibc keeps what a process frees in its
 * arenas (RSS stays at its high-water mark), and the gateway's trim after apps leave
 * (runtime/allocator.ts, the iv_mem addon) gives it back — once per burst of departures.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('../fixtures/allocator-child.js', import.meta.url));

test('memory freed in small blocks stays in the process until the trim after a burst of departures gives it back', (t) => {
  const r = spawnSync(process.execPath, ['--expose-gc', CHILD], { encoding: 'utf8', timeout: 30_000 });
  t.is(r.status, 0, r.stderr);
  const m = JSON.parse(r.stdout) as { start: number; held: number; freed: number; freeBytes?: number; beforeTrim: number; trimmed: number; counts: { trims: number; released: number } };
  t.log(`RSS MB: start ${m.start.toFixed(1)}, 140 MB held ${m.held.toFixed(1)}, freed ${m.freed.toFixed(1)}, trimmed ${m.trimmed.toFixed(1)}`);
  t.true(m.held - m.start > 100, 'the blocks were resident');
  t.true((m.freeBytes ?? 0) > 100 * 1048576, `the allocator holds the freed blocks: ${m.freeBytes} bytes free inside its arenas`);
  t.true(m.freed - m.start > 50, 'freeing alone leaves most of it in RSS (glibc keeps it)');
  t.true(m.beforeTrim - m.start > 50, 'no trim before the burst has settled');
  t.deepEqual(m.counts, { trims: 1, released: 1 }, 'one trim for five departures, and it gave memory back');
  t.true(m.freed - m.trimmed > 100, `the trim gave back ${(m.freed - m.trimmed).toFixed(1)} MB`);
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
