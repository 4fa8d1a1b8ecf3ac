/**
 * What the Node app client sends when it connects (PROTOCOL.md §3), with real
 * node-datachannel on both ends (test/fixtures/candidate-order-child.ts): the offer goes
 * out as created (`a=setup:actpass`), no ICE candidate goes out before the device's
 * answer is set, the ones gathered before it go out then (naming the offer's requestId),
 * and the connection forms with the answering side as the DTLS client (`active`).
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('../fixtures/candidate-order-child.js', import.meta.url));

test('the app sends its offer as created and its candidates only once the answer is set', (t) => {
  const r = spawnSync(process.execPath, [CHILD], { encoding: 'utf8', timeout: 30_000 });
  t.is(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as { beforeAnswer: string[]; offerSetup: string; answerSetup: string; candidates: number; requestIds: string[]; opened: string | null };
  t.deepEqual(report.beforeAnswer, ['offer'], 'only the offer went out before the answer');
  t.is(report.offerSetup, 'actpass', 'the offer is sent as created');
  t.is(report.answerSetup, 'active', 'the answering side is the DTLS client');
  t.true(report.candidates > 0, 'the held candidates went out once the answer was set');
  t.deepEqual(report.requestIds, ['r-order'], 'each names the offer');
  t.is(report.opened, 'control', 'the connection formed');
});
