/**
 * The package's entry points (dist/index.js, dist/client/index.js, dist/runtime/index.js)
 * load without node-datachannel: a gateway's main thread must never load it (its p2p
 * worker does, and two threads of one process loading it crash); AppClient loads it on
 * its first connect. Each import runs in a child process under a preload that records
 * every resolved module URL and every native addon opened; importing node-datachannel
 * itself under the same preload is the control that the recording sees it.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { tempDir } from '../helpers/media.js';

const DIST = fileURLToPath(new URL('../../', import.meta.url));
const PRELOAD = pathToFileURL(fileURLToPath(new URL('../fixtures/record-loads.js', import.meta.url))).href;
const NDC = /node[-_]datachannel/;

/** Import `specifier` in a fresh process; the lines the preload recorded, and what the import exported. */
function loadsOf(t: { teardown(fn: () => void): void }, specifier: string): { lines: string[]; exports: string[] } {
  const out = join(tempDir(t), 'loads.txt');
  const r = spawnSync(process.execPath, ['--import', PRELOAD, '--input-type=module', '-e', 'const m = await import(process.argv[1]); process.stdout.write(JSON.stringify(Object.keys(m)));', specifier], {
    cwd: DIST, encoding: 'utf8', timeout: 30_000, env: { ...process.env, IVGW_LOADS_OUT: out },
  });
  if (r.status !== 0) {
    throw new Error(`import ${specifier} exited ${r.status}: ${r.stderr}`);
  }
  return { lines: existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter(Boolean) : [], exports: JSON.parse(r.stdout) as string[] };
}

const entry = (rel: string): string => pathToFileURL(join(DIST, rel)).href;

test('the recording sees node-datachannel when it is imported (control)', (t) => {
  const { lines } = loadsOf(t, 'node-datachannel');
  t.true(lines.some((l) => l.startsWith('resolve ') && NDC.test(l)), 'its module URL');
  t.true(lines.some((l) => l.startsWith('dlopen ') && NDC.test(l)), 'its native addon');
});

for (const [name, rel, expected] of [
  ['root', 'index.js', ['P2pModule', 'CloudModule', 'AppClient', 'IvError', 'isIvError', 'isIvErrorCode', 'IV_ERRORS']],
  ['client', 'client/index.js', ['AppClient', 'StreamReceiver', 'mintToken', 'pinProblem']],
  ['runtime', 'runtime/index.js', ['ActorSystem', 'defineActor', 'actorModule', 'FrameRing', 'FrameReader', 'TypedEmitter', 'IvError']],
] as const) {
  test(`the ${name} entry exports its API and loads neither node-datachannel nor the C API addon`, (t) => {
    const { lines, exports } = loadsOf(t, entry(rel));
    for (const name of expected) {
      t.true(exports.includes(name), `exports ${name}`);
    }
    t.true(lines.some((l) => l.startsWith('resolve ') && l.includes('/runtime/errors.js')), 'the recording saw the entry\'s own modules');
    t.deepEqual(lines.filter((l) => NDC.test(l)), []);
    t.deepEqual(lines.filter((l) => l.includes('iv_native')), [], 'nor the C API addon (only `ivgw run --firmware` needs it)');
  });
}
