import test from 'ava';
import { METHOD_TABLES } from '../../actors/schema.js';
import { PROBE_METHODS, RING_PROBE_METHODS } from '../../actors/probe/probe-methods.js';
import { int, obj, opt, str } from '../../runtime/checks.js';
import { methodSpec, registerMethods, request, returns } from '../../runtime/schema.js';
import { isIvError } from '../../runtime/errors.js';

test('no two feature tables define the same method, and every method carries its table prefix', (t) => {
  const seen = new Map<string, string>();
  for (const [prefix, table] of Object.entries(METHOD_TABLES)) {
    for (const name of Object.keys(table)) {
      t.true(name.startsWith(`${prefix}_`) || (prefix === 'P2P' && name.startsWith('P2P_')), `${name} in the ${prefix} table`);
      t.is(seen.get(name), undefined, `${name} is defined by ${seen.get(name)} and ${prefix}`);
      seen.set(name, prefix);
    }
  }
  t.true(seen.size >= 30);
});

test('test-only probe methods are not part of the production tables', (t) => {
  const production = new Set(Object.values(METHOD_TABLES).flatMap((table) => Object.keys(table)));
  for (const name of [...Object.keys(PROBE_METHODS), ...Object.keys(RING_PROBE_METHODS)]) {
    t.false(production.has(name), name);
  }
});

test('a method name registered twice with different specs is refused', (t) => {
  const a = { TEST_TWICE: request(obj({ x: int(0) }), returns<{ ok: boolean }>()) };
  const b = { TEST_TWICE: request(obj({ y: str }), returns<{ ok: boolean }>()) };
  registerMethods(a);
  registerMethods(a); // the same table again is fine
  const err = t.throws(() => registerMethods(b));
  t.true(isIvError(err, 'IV_ERR_INVALID_PARAM'));
  t.is(methodSpec('TEST_TWICE'), a.TEST_TWICE);
  t.is(methodSpec('TEST_NEVER_REGISTERED'), undefined);
});

test('object checks name the offending field, allow optional fields to be absent and refuse unknown ones', (t) => {
  const check = obj({ id: int(0, 10), note: opt(str) });
  t.is(check({ id: 3 }, 'body'), undefined);
  t.is(check({ id: 3, note: 'n' }, 'body'), undefined);
  t.is(check({ id: 11 }, 'body')?.field, 'body.id');
  t.is(check({ id: 1, note: 5 }, 'body')?.field, 'body.note');
  t.is(check({ id: 1, extra: true }, 'body')?.field, 'body.extra');
});
