import test from 'ava';
import { MessageChannel } from 'node:worker_threads';
import { IV_ERRORS, IvError, fromWireError, invalidParam, isIvError, toWireError } from '../../runtime/errors.js';

test('every error code has a unique errno and the SDK names are present', (t) => {
  const errnos = Object.values(IV_ERRORS).map((e) => e.errno);
  t.is(new Set(errnos).size, errnos.length);
  for (const name of ['IV_ERR_NONE', 'IV_ERR_INVALID_PARAM', 'IV_ERR_CS_APPLY_NO_SERVICE', 'IV_ERR_CS_QUERY_SERVICE_TIMEOUT']) {
    t.true(Object.hasOwn(IV_ERRORS, name), name);
  }
  t.is(IV_ERRORS.IV_ERR_NONE.errno, 0);
});

test('an error that crosses a thread is rebuilt with the same code, message and field', async (t) => {
  const { port1, port2 } = new MessageChannel();
  const received = new Promise<unknown>((resolve) => port2.once('message', resolve));
  port1.postMessage(invalidParam('u32MaxGopSize', 'must be a multiple of 4096').toWire());
  const wire = await received;
  port1.close();
  const rebuilt = fromWireError(wire as Parameters<typeof fromWireError>[0]);
  t.true(isIvError(rebuilt, 'IV_ERR_INVALID_PARAM'));
  t.is(rebuilt.field, 'u32MaxGopSize');
  t.is(rebuilt.message, 'u32MaxGopSize: must be a multiple of 4096');
  t.is(rebuilt.errno, IV_ERRORS.IV_ERR_INVALID_PARAM.errno);
});

test('isIvError recognises errors by name and code, not by class identity', (t) => {
  const cloned = structuredClone({ name: 'IvError', code: 'IV_ERR_TIMEOUT', message: 'x' });
  t.true(isIvError(cloned));
  t.true(isIvError(cloned, 'IV_ERR_TIMEOUT'));
  t.false(isIvError(cloned, 'IV_ERR_BUSY'));
  t.false(isIvError(new Error('plain')));
  t.false(isIvError({ name: 'IvError', code: 'NOT_A_CODE' }));
  t.false(isIvError(null));
});

test('foreign errors and thrown non-errors keep their text on the wire', (t) => {
  t.deepEqual(toWireError(new TypeError('bad')), { name: 'TypeError', code: 'IV_ERR_INTERNAL', message: 'bad' });
  t.deepEqual(toWireError('a string'), { name: 'Error', code: 'IV_ERR_INTERNAL', message: 'non-error thrown: a string' });
  const unknown = fromWireError({ name: 'SystemError', code: 'ECONNRESET', message: 'socket hang up' });
  t.true(isIvError(unknown, 'IV_ERR_INTERNAL'));
  t.regex(unknown.message, /ECONNRESET.*socket hang up/);
});

test('an IvError without a message uses the table text', (t) => {
  t.is(new IvError('IV_ERR_CS_APPLY_NO_SERVICE').message, 'no cloud storage plan is active');
});
