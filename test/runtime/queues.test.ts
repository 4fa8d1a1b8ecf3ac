import test from 'ava';
import { ManualClock } from '../../runtime/clock.js';
import { isIvError } from '../../runtime/errors.js';
import { Mailbox } from '../../runtime/mailbox.js';
import { PendingTable } from '../../runtime/pending-table.js';

test('a mailbox keeps order and refuses past its capacity', (t) => {
  const m = new Mailbox<number>(3);
  t.true(m.push(1));
  t.true(m.push(2));
  t.true(m.push(3));
  t.false(m.push(4));
  t.is(m.shift(), 1);
  t.true(m.push(5));
  t.deepEqual(m.drain(), [2, 3, 5]);
  t.is(m.size, 0);
  t.throws(() => new Mailbox(0));
});

test('pending requests time out on the injected clock with the method and id in the error', async (t) => {
  const clock = new ManualClock();
  const table = new PendingTable(clock);
  const { id, promise } = table.add('PROBE_SLEEP', 'p1', 100);
  clock.advance(99);
  t.is(table.size, 1);
  clock.advance(1);
  const err = await t.throwsAsync(promise);
  t.true(isIvError(err, 'IV_ERR_REQUEST_TIMEOUT'));
  t.regex((err).message, new RegExp(`PROBE_SLEEP #${id} to p1`));
  t.false(table.settle(id, undefined, 'late'), 'a late response is ignored');
});

test('closing the table rejects every pending request, naming each method and id', async (t) => {
  const table = new PendingTable(new ManualClock());
  const a = table.add('PROBE_ECHO', 'x', 1_000);
  const b = table.add('PROBE_INCR', 'y', 0);
  table.closeAll('IV_ERR_WORKER_DIED', 'worker gone');
  const ea = await t.throwsAsync(a.promise);
  const eb = await t.throwsAsync(b.promise);
  t.true(isIvError(ea, 'IV_ERR_WORKER_DIED'));
  t.regex((ea).message, new RegExp(`PROBE_ECHO #${a.id} to x: worker gone`));
  t.regex((eb).message, new RegExp(`PROBE_INCR #${b.id} to y`));
  t.is(table.size, 0);
});

test('request ids wrap around without reusing one still pending', (t) => {
  const table = new PendingTable(new ManualClock(), 10);
  (table as unknown as { lastId: number }).lastId = 0x7ffffffe;
  const first = table.add('PROBE_ECHO', 'x', 0);
  const second = table.add('PROBE_ECHO', 'x', 0);
  t.is(first.id, 0x7fffffff);
  t.is(second.id, 1);
  table.settle(second.id, undefined, null);
  (table as unknown as { lastId: number }).lastId = 0x7ffffffe;
  t.is(table.add('PROBE_ECHO', 'x', 0).id, 1, '0x7fffffff is still pending, so it is skipped; 1 was settled and is free');
  t.is(table.add('PROBE_ECHO', 'x', 0).id, 2);
});

test('a full pending table refuses with IV_ERR_BUSY', (t) => {
  const table = new PendingTable(new ManualClock(), 2);
  table.add('PROBE_ECHO', 'x', 0);
  table.add('PROBE_ECHO', 'x', 0);
  t.true(isIvError(t.throws(() => table.add('PROBE_ECHO', 'x', 0)), 'IV_ERR_BUSY'));
});
