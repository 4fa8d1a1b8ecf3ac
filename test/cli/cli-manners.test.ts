/**
 * CLI manners as a user meets them: every sub-command answers --help with its own usage,
 * an unknown flag prints that usage and exits 2, `ivgw --version`, durations with units.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { parseDuration } from '../../gateway/config/duration.js';
import { IVGW } from '../helpers/gateway.js';

const ivgw = (...args: string[]) => spawnSync(process.execPath, [IVGW, ...args], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, IVGW_DEVICE_ID: '', IVGW_DEVICE_SECRET: '' } });

for (const cmd of ['run', 'init', 'token', 'view', 'load', 'probe']) {
  test(`ivgw ${cmd} --help prints the usage of ${cmd} and exits 0`, (t) => {
    const r = ivgw(cmd, '--help');
    t.is(r.status, 0, r.stderr);
    t.true(r.stdout.startsWith(`usage: ivgw ${cmd}`), r.stdout);
    t.is(r.stderr, '');
    t.is(ivgw(cmd, '-h').stdout, r.stdout);
  });

  test(`ivgw ${cmd} with an unknown flag names it, prints the usage of ${cmd} and exits 2`, (t) => {
    const r = ivgw(cmd, '--no-such-flag');
    t.is(r.status, 2);
    t.regex(r.stderr, new RegExp(`^ivgw ${cmd}: .*--no-such-flag`));
    t.true(r.stderr.includes(`usage: ivgw ${cmd}`), r.stderr);
  });
}

test('ivgw --version prints the package version and exits 0', (t) => {
  const r = ivgw('--version');
  t.is(r.status, 0);
  t.regex(r.stdout, /^iotvideo-gateway \d+\.\d+\.\d+ /);
});

test('ivgw help lists every command; an unknown command exits 2', (t) => {
  const r = ivgw('help');
  t.is(r.status, 0);
  for (const cmd of ['init', 'run', 'token', 'view', 'load', 'probe']) {
    t.regex(r.stdout, new RegExp(`\\n  ${cmd} `));
  }
  t.is(ivgw('fly').status, 2);
});

test('durations accept 30s, 10m, 1h, 1d and plain seconds, and nothing else', (t) => {
  t.is(parseDuration('30s'), 30);
  t.is(parseDuration('10m'), 600);
  t.is(parseDuration('1h'), 3600);
  t.is(parseDuration('1d'), 86_400);
  t.is(parseDuration('250ms'), 0.25);
  t.is(parseDuration('90'), 90);
  t.is(parseDuration(12), 12);
  for (const bad of ['', '1x', '-5s', 'abc', '1 h 2', '1e3']) {
    t.is(parseDuration(bad), undefined, bad);
  }
});

test('duration flags take units: ivgw token --ttl 1d lives a day, a bad one is refused naming the flag', (t) => {
  const r = ivgw('token', '--peer', 'a', '--device', 'd', '--secret', 's', '--ttl', '1d', '--json');
  t.is(r.status, 0, r.stderr);
  const { expires } = JSON.parse(r.stdout) as { expires: number };
  t.true(Math.abs(expires - (Date.now() / 1000 + 86_400)) < 30);
  const bad = ivgw('token', '--peer', 'a', '--device', 'd', '--secret', 's', '--ttl', '1y');
  t.is(bad.status, 2);
  t.regex(bad.stderr, /--ttl must be a duration/);
  const run = ivgw('run', '--seconds', 'soon');
  t.is(run.status, 2);
  t.regex(run.stderr, /--seconds must be a duration/);
});
