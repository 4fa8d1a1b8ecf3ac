/**
 * The config file as a user writes it: `ivgw init` writes one that runs, every problem of
 * a bad one is reported at once naming its path (exit 2), `${ENV}` fills in secrets, JSON
 * works too, and command-line flags override the file.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { statSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, ConfigError } from '../../gateway/config/load.js';
import { optionsFromConfig } from '../../bin/run-config.js';
import { applyRunFlags } from '../../bin/run-flags.js';
import { IVGW } from '../helpers/gateway.js';
import { tempDir } from '../helpers/media.js';

const ivgw = (args: string[], env: Record<string, string> = {}) => spawnSync(process.execPath, [IVGW, ...args], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, IVGW_DEVICE_ID: '', IVGW_DEVICE_SECRET: '', ...env } });

test('ivgw init writes a commented ivgw.yaml and a device identity that only its owner can read', (t) => {
  const dir = tempDir(t);
  const r = ivgw(['init', '--dir', dir, '--device', 'nvr-1']);
  t.is(r.status, 0, r.stderr);
  const yaml = readFileSync(join(dir, 'ivgw.yaml'), 'utf8');
  t.regex(yaml, /^# ivgw\.yaml/);
  t.regex(yaml, /rtsp:\/\//, 'the template shows the camera source forms');
  const config = loadConfig(join(dir, 'ivgw.yaml'));
  t.is(config.device.id, 'nvr-1');
  t.is(config.cameras.length, 1);
  const identity = join(dir, 'ivgw-data', 'device.json');
  t.is(statSync(identity).mode & 0o777, 0o600);
  const id = JSON.parse(readFileSync(identity, 'utf8')) as { id: string; secret: string; certificate: string; key: string };
  t.is(id.id, 'nvr-1');
  t.regex(id.certificate, /BEGIN CERTIFICATE/);
  t.false(r.stdout.includes(id.secret), 'the secret is never printed');
  t.is(ivgw(['init', '--dir', dir]).status, 1, 'an existing ivgw.yaml is not overwritten without --force');
  t.is(ivgw(['init', '--dir', dir, '--force']).status, 0);
  t.is((JSON.parse(readFileSync(identity, 'utf8')) as { secret: string }).secret, id.secret, 'the identity is kept');
});

test('a config with several problems reports every one at once, each at its path, and exits 2', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, `device: { id: "bad id!" }
cameras:
  - name: a
    source: test:testsrc2
  - name: b
    source: http://camera/stream
  - name: a
    source: rtsp://10.0.0.9/x
    recording: sometimes
signaling: { embedded: { listen: [nowhere:99999] } }
ice: { portRange: 10-5 }
watermarks: { low: 2MiB, warn: 1MiB, high: 3MiB }
keepAlive: { interval: soon }
memory: { trimAfterLeave: later, captureWorker: main }
colour: blue
`);
  const r = ivgw(['run', '--config', file]);
  t.is(r.status, 2);
  for (const line of [
    'device.id: expected 1..64',
    'cameras[1].source: expected rtsp://, ffmpeg:, file:, test: or push, got "http://camera/stream"',
    'cameras[2].recording: expected full-time, events, off',
    'cameras[2].name: "a" is already used by cameras[0]',
    'signaling.embedded.listen[0]: expected HOST:PORT',
    'ice.portRange: expected BEGIN-END',
    'watermarks.',
    'keepAlive.interval: expected a duration',
    'memory.trimAfterLeave: expected a duration',
    'memory.captureWorker: expected auto, own, io',
    'colour: unknown key',
  ]) {
    t.true(r.stderr.includes(line), `${line}\n---\n${r.stderr}`);
  }
  t.regex(r.stderr, /11 problems/);
});

test('${ENV_VAR} fills in secrets; an unset one is a problem at its path that shows no value', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'env.yaml');
  writeFileSync(file, `device: { id: cam-env }
cameras:
  - source: rtsp://viewer:\${CAM_PASSWORD}@10.0.0.5:554/live
    video: h264
    audio: none
cloud:
  s3:
    endpoint: http://127.0.0.1:9000
    bucket: rec
    accessKeyId: \${S3_KEY}
    secretAccessKey: \${S3_SECRET}
    sessionToken: \${AWS_SESSION_TOKEN:-}
`);
  const config = loadConfig(file, { CAM_PASSWORD: 'p4ss', S3_KEY: 'k', S3_SECRET: 's3cr3t' });
  t.like(config.cameras[0], { source: { kind: 'rtsp', url: 'rtsp://viewer:p4ss@10.0.0.5:554/live' } });
  t.like(config.cloud, { kind: 's3', accessKeyId: 'k', secretAccessKey: 's3cr3t', pathStyle: true, region: 'us-east-1' });
  t.false('sessionToken' in config.cloud, 'an optional variable that is unset leaves the field out');
  const err = t.throws<ConfigError>(() => loadConfig(file, { CAM_PASSWORD: 'p4ss', S3_SECRET: '' }), { instanceOf: ConfigError });
  t.is(err.code, 'IV_ERR_INVALID_PARAM');
  t.deepEqual(err.problems.map((p) => p.path), ['cloud.s3.accessKeyId', 'cloud.s3.secretAccessKey']);
  t.regex(err.problems[0]?.message ?? '', /environment variable S3_KEY is not set/);
  t.false(err.message.includes('p4ss'), 'a substituted value never appears in a problem');
  // a value that is wrong only in its scheme is quoted, its password masked
  writeFileSync(file, `cameras:\n  - source: http://viewer:\${CAM_PASSWORD}@10.0.0.5/live\nsignaling:\n  external: { url: "http://dev:\${BROKER_PW}@broker.lan:1883" }\n`);
  const quoted = t.throws<ConfigError>(() => loadConfig(file, { CAM_PASSWORD: 'p4ss', BROKER_PW: 'br0ker' }), { instanceOf: ConfigError });
  t.deepEqual(quoted.problems.map((p) => p.path).sort(), ['cameras[0].source', 'signaling.external.url']);
  t.regex(quoted.message, /viewer:\*\*\*@10\.0\.0\.5/);
  t.false(/p4ss|br0ker/.test(quoted.message), quoted.message);
});

test('a .json config works like YAML, and flags override what the file says', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'gw.json');
  writeFileSync(file, JSON.stringify({ device: { id: 'j1', data: 'state' }, cameras: [{ name: 'c', source: 'test:smptebars', recording: 'off' }], signaling: { embedded: { listen: ['0.0.0.0:1999'] } }, admission: { maxApps: 5 }, ice: { bind: '0.0.0.0', servers: ['stun:127.0.0.1:3478', { url: 'turn:127.0.0.1:3478', username: 'u', credential: 'p' }] } }));
  const opts = optionsFromConfig(loadConfig(file));
  t.is(opts.dataDir, join(dir, 'state'), 'relative paths are relative to the config file');
  t.deepEqual(opts.brokerListen, [{ host: '0.0.0.0', port: 1999 }]);
  t.is(opts.stun, 'stun:127.0.0.1:3478');
  t.deepEqual(opts.iceServers, ['turn:u:p@127.0.0.1:3478']);
  t.is(opts.record, undefined, 'no camera records: no recording');
  const merged = applyRunFlags({ 'mqtt-port': '0', 'max-apps': '9', seconds: '10m' }, opts);
  t.false(typeof merged === 'number');
  if (typeof merged !== 'number') {
    t.is(merged.mqttPort, 0);
    t.is(merged.seconds, 600);
    t.deepEqual(merged.admission, { maxApps: 9, maxStreams: 512 });
    t.is(merged.deviceId, 'j1');
  }
  writeFileSync(join(dir, 'broken.json'), '{ "device": ');
  const r = ivgw(['run', '--config', join(dir, 'broken.json')]);
  t.is(r.status, 2);
  t.regex(r.stderr, /broken\.json: not valid JSON/);
});

test('with --config, --data moves the recording spool and the default local store with the identity; --video and --fps are refused (they replace a demo camera)', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'gw.yaml');
  writeFileSync(file, 'device: { data: state }\ncameras:\n  - { name: c, source: "test:smptebars", recording: full-time }\n');
  const opts = optionsFromConfig(loadConfig(file));
  t.deepEqual(opts.record, { dir: join(dir, 'state'), store: { kind: 'local', dir: join(dir, 'state', 'cloud') } });
  const moved = applyRunFlags({ data: '/srv/ivgw' }, opts);
  t.false(typeof moved === 'number');
  if (typeof moved !== 'number') {
    t.is(moved.dataDir, '/srv/ivgw');
    t.deepEqual(moved.record, { dir: '/srv/ivgw', store: { kind: 'local', dir: join('/srv/ivgw', 'cloud') } });
  }
  writeFileSync(join(dir, 'own-store.yaml'), 'device: { data: state }\ncameras:\n  - { name: c, source: "test:smptebars", recording: full-time }\ncloud: { local: { dir: /mnt/archive } }\n');
  const own = applyRunFlags({ data: '/srv/ivgw' }, optionsFromConfig(loadConfig(join(dir, 'own-store.yaml'))));
  t.deepEqual(typeof own !== 'number' ? own.record : own, { dir: '/srv/ivgw', store: { kind: 'local', dir: '/mnt/archive' } }, 'a store the config names stays where it is');
  for (const flag of ['--video', '--fps']) {
    const r = ivgw(['run', '--config', file, flag, flag === '--fps' ? '30' : join(dir, 'x.h264')]);
    t.is(r.status, 2, `${flag}: ${r.stderr}`);
    t.regex(r.stderr, new RegExp(`${flag}.*with --config, set cameras\\[\\]\\.`));
  }
});

test('ivgw token --config reads only device: (a camera variable it does not need may be unset); a bad device: is still refused at its path', (t) => {
  const dir = tempDir(t);
  t.is(ivgw(['init', '--dir', join(dir, 'i'), '--device', 'tk1']).status, 0);
  const withIdentity = join(dir, 'with-identity.yaml');
  writeFileSync(withIdentity, `device: { id: tk1, data: ${join(dir, 'i', 'ivgw-data')} }\ncameras:\n  - { name: c, source: "rtsp://viewer:\${CAM_PW}@192.0.2.1/s" }\n`);
  const tok = ivgw(['token', '--config', withIdentity, '--peer', 'p1', '--json']);
  t.is(tok.status, 0, tok.stderr);
  t.is((JSON.parse(tok.stdout) as { device: string }).device, 'tk1');
  writeFileSync(join(dir, 'bad.yaml'), 'device: { id: "no spaces allowed", data: state }\ncameras: []\n');
  const bad = ivgw(['token', '--config', join(dir, 'bad.yaml'), '--peer', 'p1']);
  t.is(bad.status, 2);
  t.regex(bad.stderr, /device\.id: expected 1\.\.64/);
});
