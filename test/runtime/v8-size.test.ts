/**
 * The V8 settings `ivgw run` starts with (runtime/v8-size.ts): code that ran once at
 * start-up does not stay compiled. After the same allocation V8 held 17 % of the bytecode
 * and metadata it had compiled under the settings (what is left is the module's own), and
 * 75 % without them (IVGW_OPTIMIZE_FOR_SIZE=0: V8's default keeps a function's bytecode for
 * five full collections without a call).
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('../fixtures/code-flush-child.js', import.meta.url));

function run(optimize: '0' | '1'): { forSize: boolean; before: number; after: number } {
  const r = spawnSync(process.execPath, [CHILD], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, IVGW_OPTIMIZE_FOR_SIZE: optimize } });
  if (r.status !== 0) {
    throw new Error(`code-flush child failed: ${r.stderr}`);
  }
  return JSON.parse(r.stdout) as { forSize: boolean; before: number; after: number };
}

test('under the gateway V8 settings, code run only at start-up is dropped after V8 collects by itself; without them it stays', (t) => {
  const on = run('1');
  const off = run('0');
  t.log(`bytecode and metadata: ${on.before} → ${on.after} bytes with the settings, ${off.before} → ${off.after} without`);
  t.true(on.forSize);
  t.false(off.forSize);
  t.true(on.after < on.before * 0.3, `with the settings ${on.after} of ${on.before} bytes left`);
  t.true(off.after > off.before * 0.5, `without them ${off.after} of ${off.before} bytes left`);
});
