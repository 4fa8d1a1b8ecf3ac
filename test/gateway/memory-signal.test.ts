/**
 * SIGUSR2 as an operator (and the benchmarks) use it: a running `ivgw run` answers with one
 * "memory settled" record — each thread's V8 heap, the idle code pages it dropped
 * (memory.dropIdleCode) and the RSS read after the drop — and goes on serving; with
 * `dropIdleCode: false` or `trimEvery: 0` nothing is dropped and the record says so.
 */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startIvgw, type IvgwProcess } from '../helpers/ivgw-process.js';
import { tempDir } from '../helpers/media.js';

interface Settled {
  heaps: Record<string, { heapUsed: number }>;
  codeDroppedKB: number | null;
  rssBeforeTrimKB: number;
}

async function settledRecord(gw: IvgwProcess): Promise<Settled> {
  const from = gw.raw.length;
  gw.proc.kill('SIGUSR2');
  await gw.waitFor(/memory settled/, 10_000, gw.lines.length);
  const line = gw.raw.slice(from).find((l) => l.includes('"memory settled"'));
  return JSON.parse(line ?? '{}') as Settled;
}

test('SIGUSR2: each thread\'s heap and the RSS after the idle code pages went, twice in a row; the gateway goes on', async (t) => {
  const gw = await startIvgw(['--no-record', '--mqtt-port', '0', '--seconds', '60']);
  t.teardown(() => gw.stop('SIGKILL'));
  await gw.waitFor(/\[p2p\] PEER_READY|ready for/, 15_000);
  const first = await settledRecord(gw);
  t.log(`heaps ${Object.entries(first.heaps).map(([k, v]) => `${k} ${(v.heapUsed / 1e6).toFixed(1)} MB`).join(', ')}; ${first.codeDroppedKB} KB of code pages dropped; RSS ${(first.rssBeforeTrimKB / 1024).toFixed(1)} MB`);
  for (const thread of ['main', 'p2p', 'io']) { // and `capture`, where it has a worker of its own (more than 2 cores)
    t.true((first.heaps[thread]?.heapUsed ?? 0) > 1e6, `${thread}'s heap is read`);
  }
  t.true((first.codeDroppedKB ?? 0) > 5_000, `start-up's code pages were dropped: ${first.codeDroppedKB} KB`);
  const second = await settledRecord(gw);
  t.true((second.codeDroppedKB ?? 0) < (first.codeDroppedKB ?? 0), `the second finds only what ran since: ${second.codeDroppedKB} KB`);
  t.true(second.rssBeforeTrimKB > 20_000 && second.rssBeforeTrimKB < 200_000, `RSS ${second.rssBeforeTrimKB} KB`);
  t.is(gw.proc.exitCode, null, 'still running');
});

for (const memory of ['{ dropIdleCode: false }', '{ trimEvery: 0 }']) {
  test(`SIGUSR2 with memory: ${memory} (no look drops code pages): the heaps, and no page dropped`, async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'gw.yaml'), `device: { data: data }\ncameras:\n  - { name: door, source: push, video: h264, recording: off }\nmemory: ${memory}\n`);
    const gw = await startIvgw(['--config', join(dir, 'gw.yaml'), '--mqtt-port', '0', '--seconds', '60']);
    t.teardown(() => gw.stop('SIGKILL'));
    await gw.waitFor(/ready for/, 15_000);
    const r = await settledRecord(gw);
    t.is(r.codeDroppedKB, null);
    t.true((r.heaps.main?.heapUsed ?? 0) > 1e6);
  });
}
