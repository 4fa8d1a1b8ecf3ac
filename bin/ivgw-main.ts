/**
 * ivgw-main — the `ivgw` command: parses the sub-command and hands over to it.
 * Must never: do a sub-command's work itself (each lives in bin/commands/), or import a
 * command module statically: `view` loads node-datachannel, which must never be loaded
 * in the main thread of a process whose p2p worker loads it too (`run`).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { RunOptions } from './commands/run.js';
import { checkWatermarks } from '../actors/p2p/watermark.js';
import { admissionProblem, DEFAULT_ADMISSION } from '../actors/p2p/admission.js';
import { parseStunUrl } from '../actors/p2p/stun.js';
import { KEEP_ALIVE_MAX, keepAliveProblem } from '../actors/p2p/keep-alive.js';

const USAGE = `usage: ivgw <command> [options]

commands:
  run [--seconds N] [--device ID] [--secret S] [--mqtt-port P | --broker URL]
      [--ice-bind ADDR|any] [--stun stun:HOST:PORT] [--keepalive SECONDS,PROBES]
      [--watermarks LOW,WARN,HIGH] [--max-apps N] [--max-streams N]
      [--record DIR | --no-record] [--s3-endpoint URL --s3-bucket NAME] [--video FILE.h264|.h265 [--fps N]]
      [--firmware ./libfw.so [-- ARGS...]]
                        run the gateway on embedded defaults (Ctrl-C stops it);
                        records every camera to DIR (default ./ivgw-data) and uploads to
                        DIR/cloud or to S3 (credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY);
                        --video: channel 0 plays that elementary stream (looped) instead;
                        --firmware: a C firmware (native/include) drives the device instead
  probe <file...>       check camera elementary streams against the SDK's rules
  token --peer ID       mint an app access token (device id/secret from flags or env)
  view --broker URL --device ID --peer P --token T [--channel N] [--seconds S] [--out f.flv]
                        watch a device's live stream like an app and save it
  load --secret S [--broker URL] [--device ID] [--peers N] [--seconds S] [--ramp R]
       [--workers W] [--mix live=70,playback=10,...] [--channels 0,1] [--json] [--html FILE]
                        N simulated apps (live, playback, voice, commands, stalled
                        readers, churn) with integrity checks, percentiles and a report
  help                  show this text
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run': {
      const dashes = rest.indexOf('--'); // `--firmware PATH -- args`: what follows -- is the firmware's argv
      const { values } = parseArgs({
        args: dashes < 0 ? rest : rest.slice(0, dashes),
        strict: true,
        options: { seconds: { type: 'string' }, device: { type: 'string' }, secret: { type: 'string' }, 'mqtt-port': { type: 'string' }, broker: { type: 'string' }, 'ice-bind': { type: 'string' }, stun: { type: 'string' }, keepalive: { type: 'string' }, watermarks: { type: 'string' }, record: { type: 'string' }, 'no-record': { type: 'boolean' }, 's3-endpoint': { type: 'string' }, 's3-bucket': { type: 'string' }, 'max-apps': { type: 'string' }, 'max-streams': { type: 'string' }, video: { type: 'string' }, fps: { type: 'string' }, firmware: { type: 'string' } },
      });
      const num = (name: string, raw: string | undefined, min: number): number | undefined | null => {
        if (raw === undefined) {
          return undefined;
        }
        const n = Number(raw);
        if (!Number.isFinite(n) || n < min) {
          process.stderr.write(`ivgw run: --${name} must be a number >= ${min}, got ${raw}\n`);
          return null;
        }
        return n;
      };
      const seconds = num('seconds', values.seconds, 0.001);
      const mqttPort = num('mqtt-port', values['mqtt-port'], 0);
      const maxApps = num('max-apps', values['max-apps'], 1);
      const maxStreams = num('max-streams', values['max-streams'], 1);
      const fps = num('fps', values.fps, 1);
      if (seconds === null || mqttPort === null || maxApps === null || maxStreams === null || fps === null) {
        return 2;
      }
      const opts: RunOptions = { seconds };
      const set = <K extends keyof RunOptions>(key: K, value: RunOptions[K] | undefined): void => {
        if (value !== undefined && value !== '') {
          opts[key] = value;
        }
      };
      set('deviceId', values.device);
      set('secret', values.secret);
      set('mqttPort', mqttPort);
      set('broker', values.broker);
      set('iceBind', values['ice-bind']);
      if (values.stun !== undefined) {
        if (!parseStunUrl(values.stun)) {
          process.stderr.write(`ivgw run: --stun must be stun:HOST[:PORT], got ${values.stun}\n`);
          return 2;
        }
        opts.stun = values.stun;
      }
      if (values.keepalive !== undefined) {
        const [t, n] = values.keepalive.split(',').map(Number);
        if (keepAliveProblem({ timeInterS: t as number, maxAttemptNum: n as number }, 0)) {
          process.stderr.write(`ivgw run: --keepalive SECONDS,PROBES: expected 0..${KEEP_ALIVE_MAX.timeInterS},0..${KEEP_ALIVE_MAX.maxAttemptNum} (0 turns it off), got ${values.keepalive}\n`);
          return 2;
        }
        opts.keepAlive = { timeInterS: t as number, maxAttemptNum: n as number };
      }
      if (values.video !== undefined) {
        const codec = /\.(h265|hevc|265)$/i.test(values.video) ? 'h265' : /\.(h264|264|avc)$/i.test(values.video) ? 'h264' : undefined;
        if (!codec || !existsSync(values.video)) {
          process.stderr.write(`ivgw run: --video must name an existing .h264 or .h265 elementary stream file, got ${values.video}\n`);
          return 2;
        }
        opts.video = { file: values.video, codec, fps: fps ?? 25 };
      }
      if (maxApps !== undefined || maxStreams !== undefined) {
        const admission = { maxApps: maxApps ?? DEFAULT_ADMISSION.maxApps, maxStreams: maxStreams ?? DEFAULT_ADMISSION.maxStreams };
        const problem = admissionProblem(admission);
        if (problem) {
          process.stderr.write(`ivgw run: ${problem.field}: ${problem.message}\n`);
          return 2;
        }
        opts.admission = admission;
      }
      if (values.watermarks) {
        const [low, warn, high] = values.watermarks.split(',').map(Number);
        const w = { low: low ?? NaN, warn: warn ?? NaN, high: high ?? NaN };
        const problem = checkWatermarks(w);
        if (problem) {
          process.stderr.write(`ivgw run: --watermarks low,warn,high: ${problem.field}: ${problem.message}\n`);
          return 2;
        }
        opts.watermarks = w;
      }
      if (!values['no-record']) {
        const dir = values.record ?? 'ivgw-data';
        if (values['s3-endpoint'] || values['s3-bucket']) {
          const { AWS_ACCESS_KEY_ID: id, AWS_SECRET_ACCESS_KEY: key, AWS_REGION: region } = process.env;
          if (!values['s3-endpoint'] || !values['s3-bucket'] || !id || !key) {
            process.stderr.write('ivgw run: S3 upload needs --s3-endpoint, --s3-bucket and AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY in the environment\n');
            return 2;
          }
          opts.record = { dir, store: { kind: 's3', endpoint: values['s3-endpoint'], bucket: values['s3-bucket'], accessKeyId: id, secretAccessKey: key, ...(region ? { region } : {}) } };
        } else {
          opts.record = { dir, store: { kind: 'local', dir: join(dir, 'cloud') } };
        }
      }
      if (values.firmware !== undefined) {
        if (!existsSync(values.firmware)) {
          process.stderr.write(`ivgw run: --firmware must name a firmware library (.so), got ${values.firmware}\n`);
          return 2;
        }
        opts.firmware = { path: values.firmware, args: dashes < 0 ? [] : rest.slice(dashes + 1) };
      }
      return (await import('./commands/run.js')).runCommand(opts);
    }
    case 'probe':
      return (await import('./commands/probe.js')).probeCommand(rest);
    case 'token':
      return (await import('./commands/token.js')).tokenCommand(rest);
    case 'view': {
      // node-datachannel's native teardown at exit is unreliable: leave right after the report
      const code = await (await import('./commands/view.js')).viewCommand(rest).catch((err: unknown) => {
        const e = err as { code?: string; message?: string };
        process.stderr.write(`ivgw view: ${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}\n`);
        return 1;
      });
      await new Promise((r) => setTimeout(r, 200));
      return process.exit(code);
    }
    case 'load':
      return (await import('./commands/load.js')).loadCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`ivgw: unknown command ${JSON.stringify(command)}\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const e = err as { code?: string; message?: string };
    process.stderr.write(`ivgw: ${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
