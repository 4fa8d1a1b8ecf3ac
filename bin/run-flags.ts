/**
 * run-flags — `ivgw run`'s command-line flags turned into RunOptions (each checked, the
 * problem printed naming the flag). With --config the file gives the base options and these
 * flags override them (run-config.ts).
 * Owns: flag syntax of `ivgw run`. Must never: start anything.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { RunOptions } from './commands/run.js';
import { checkWatermarks } from '../actors/p2p/watermark.js';
import { admissionProblem, DEFAULT_ADMISSION } from '../actors/p2p/admission.js';
import { parseStunUrl } from '../actors/p2p/stun.js';
import { durationFlag } from './cli.js';
import { parseListen } from '../gateway/http-server.js';
import { DEFAULT_HTTP_LISTEN } from '../gateway/config/validate.js';
import { LOG_LEVELS } from '../gateway/logger.js';
import { CAPTURE_WORKERS } from '../gateway/gateway-options.js';

export const RUN_FLAGS = {
  config: { type: 'string' }, seconds: { type: 'string' }, device: { type: 'string' }, secret: { type: 'string' }, data: { type: 'string' },
  'mqtt-port': { type: 'string' }, 'ws-port': { type: 'string' }, broker: { type: 'string' }, 'ice-bind': { type: 'string' }, stun: { type: 'string' }, keepalive: { type: 'string' },
  watermarks: { type: 'string' }, record: { type: 'string' }, 'no-record': { type: 'boolean' }, 's3-endpoint': { type: 'string' }, 's3-bucket': { type: 'string' },
  'max-apps': { type: 'string' }, 'max-streams': { type: 'string' }, video: { type: 'string' }, fps: { type: 'string' }, firmware: { type: 'string' },
  http: { type: 'string' }, 'log-level': { type: 'string' }, 'log-format': { type: 'string' }, 'capture-worker': { type: 'string' },
} as const;

export type RunFlags = { [K in keyof typeof RUN_FLAGS]?: (typeof RUN_FLAGS)[K]['type'] extends 'boolean' ? boolean : string };

function fail(message: string): number {
  process.stderr.write(`ivgw run: ${message}\n`);
  return 2;
}

/** Apply the flags onto `base` (the config file's options, or the demo's empty ones); an exit code on a bad flag. */
export function applyRunFlags(values: RunFlags, base: RunOptions, firmwareArgs: string[] = []): RunOptions | number {
  const num = (name: string, raw: string | undefined, min: number): number | undefined | null => {
    if (raw === undefined) {
      return undefined;
    }
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min) {
      fail(`--${name} must be a number >= ${min}, got ${raw}`);
      return null;
    }
    return n;
  };
  const seconds = durationFlag('run', 'seconds', values.seconds);
  const mqttPort = num('mqtt-port', values['mqtt-port'], 0);
  const wsPort = num('ws-port', values['ws-port'], 0);
  const maxApps = num('max-apps', values['max-apps'], 1);
  const maxStreams = num('max-streams', values['max-streams'], 1);
  const fps = num('fps', values.fps, 1);
  if (wsPort !== undefined && wsPort !== null && wsPort > 65535) {
    return fail(`--ws-port must be a port 0..65535, got ${values['ws-port'] ?? ''}`);
  }
  if (seconds === null || mqttPort === null || wsPort === null || maxApps === null || maxStreams === null || fps === null) {
    return 2;
  }
  const opts: RunOptions = { ...base, seconds: seconds ?? base.seconds };
  const set = <K extends keyof RunOptions>(key: K, value: RunOptions[K] | undefined): void => {
    if (value !== undefined && value !== '') {
      opts[key] = value;
    }
  };
  set('deviceId', values.device);
  set('secret', values.secret);
  set('dataDir', values.data);
  if (mqttPort !== undefined) {
    opts.mqttPort = mqttPort;
    delete opts.broker;
  }
  if (values.broker !== undefined) {
    try {
      const u = new URL(values.broker);
      if (!['mqtt:', 'mqtts:', 'ws:', 'wss:', 'tcp:', 'tls:'].includes(u.protocol) || !u.hostname) {
        throw new Error('scheme');
      }
    } catch {
      return fail(`--broker must be an MQTT URL such as mqtt://HOST:1883 or mqtts://HOST:8883, got ${values.broker}`);
    }
    opts.broker = values.broker;
  }
  if (!opts.broker) {
    // MQTT over WebSocket for browsers: the config's listeners, or on embedded defaults one on 127.0.0.1 (a free port unless --ws-port)
    const ws = opts.brokerWebsocket ?? (base.fromConfig ? [] : [{ host: '127.0.0.1', port: 0 }]);
    if (wsPort !== undefined) {
      opts.brokerWebsocket = ws.length > 0 ? ws.map((l, i) => (i === 0 ? { ...l, port: wsPort } : l)) : [{ host: '127.0.0.1', port: wsPort }];
    } else if (ws.length > 0) {
      opts.brokerWebsocket = ws;
    }
  }
  set('iceBind', values['ice-bind']);
  if (values.stun !== undefined) {
    if (!parseStunUrl(values.stun)) {
      return fail(`--stun must be stun:HOST[:PORT], got ${values.stun}`);
    }
    opts.stun = values.stun;
  }
  if (values.keepalive !== undefined) {
    const [t, n] = values.keepalive.split(',').map(Number);
    if (!Number.isInteger(t) || !Number.isInteger(n) || (t as number) < 0 || (t as number) > 255 || (n as number) < 0 || (n as number) > 10) {
      return fail(`--keepalive SECONDS,PROBES: expected 0..255,0..10 (0 turns it off), got ${values.keepalive}`);
    }
    opts.keepAlive = { timeInterS: t as number, maxAttemptNum: n as number };
  }
  if (base.fromConfig && (values.video !== undefined || values.fps !== undefined)) {
    return fail(`--${values.video !== undefined ? 'video' : 'fps'} replaces a demo camera: with --config, set cameras[].source (file:…) and cameras[].fps in the file`);
  }
  if (values.video !== undefined) {
    const codec = /\.(h265|hevc|265)$/i.test(values.video) ? 'h265' : /\.(h264|264|avc)$/i.test(values.video) ? 'h264' : undefined;
    if (!codec || !existsSync(values.video)) {
      return fail(`--video must name an existing .h264 or .h265 elementary stream file, got ${values.video}`);
    }
    opts.video = { file: values.video, codec, fps: fps ?? 25 };
  }
  if (maxApps !== undefined || maxStreams !== undefined) {
    const admission = { maxApps: maxApps ?? base.admission?.maxApps ?? DEFAULT_ADMISSION.maxApps, maxStreams: maxStreams ?? base.admission?.maxStreams ?? DEFAULT_ADMISSION.maxStreams };
    const problem = admissionProblem(admission);
    if (problem) {
      return fail(`${problem.field}: ${problem.message}`);
    }
    opts.admission = admission;
  }
  if (values['capture-worker'] !== undefined) {
    const w = values['capture-worker'];
    const choice = CAPTURE_WORKERS.find((x) => x === w);
    if (!choice) {
      return fail(`--capture-worker must be ${CAPTURE_WORKERS.join(', ')}, got ${w}`);
    }
    opts.captureWorker = choice;
  }
  if (values.watermarks) {
    const [low, warn, high] = values.watermarks.split(',').map(Number);
    const w = { low: low ?? NaN, warn: warn ?? NaN, high: high ?? NaN };
    const problem = checkWatermarks(w);
    if (problem) {
      return fail(`--watermarks low,warn,high: ${problem.field}: ${problem.message}`);
    }
    opts.watermarks = w;
  }
  if (values['no-record']) {
    delete opts.record;
  } else if (values.record !== undefined || values['s3-endpoint'] || values['s3-bucket'] || (!base.record && !base.fromConfig)) {
    const dir = values.record ?? base.record?.dir ?? opts.dataDir ?? 'ivgw-data';
    if (values['s3-endpoint'] || values['s3-bucket']) {
      const { AWS_ACCESS_KEY_ID: id, AWS_SECRET_ACCESS_KEY: key, AWS_REGION: region, AWS_SESSION_TOKEN: sessionToken } = process.env;
      if (!values['s3-endpoint'] || !values['s3-bucket'] || !id || !key) {
        return fail('S3 upload needs --s3-endpoint, --s3-bucket and AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY in the environment');
      }
      opts.record = { dir, store: { kind: 's3', endpoint: values['s3-endpoint'], bucket: values['s3-bucket'], accessKeyId: id, secretAccessKey: key, ...(region ? { region } : {}), ...(sessionToken ? { sessionToken } : {}) } };
    } else {
      opts.record = { dir, store: base.record?.store ?? { kind: 'local', dir: join(dir, 'cloud') } };
    }
  }
  const configData = base.fromConfig ? base.dataDir : undefined;
  if (values.data && configData !== undefined && opts.record && opts.record.dir === configData && values.record === undefined) {
    // --data moves what lives under device.data: the recording spool and the default local store with the identity
    const store = opts.record.store;
    opts.record = { dir: values.data, store: store.kind === 'local' && resolve(store.dir) === resolve(configData, 'cloud') ? { kind: 'local', dir: join(values.data, 'cloud') } : store };
  }
  if (values.http !== undefined) {
    if (values.http === 'off') {
      delete opts.http;
    } else {
      try {
        parseListen(values.http, '--http');
      } catch (err) {
        return fail(`${(err as Error).message} (or off)`);
      }
      opts.http = { ...opts.http, listen: values.http };
    }
  } else if (!base.fromConfig) {
    opts.http = { listen: DEFAULT_HTTP_LISTEN };
  }
  if (opts.http && process.env.IVGW_HTTP_TOKEN) {
    opts.http = { ...opts.http, bearerToken: process.env.IVGW_HTTP_TOKEN };
  }
  if (values['log-level'] !== undefined) {
    if (!(LOG_LEVELS as readonly string[]).includes(values['log-level'])) {
      return fail(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got ${values['log-level']}`);
    }
    opts.logLevel = values['log-level'] as NonNullable<RunOptions['logLevel']>;
  }
  if (values['log-format'] !== undefined) {
    if (!['auto', 'text', 'json'].includes(values['log-format'])) {
      return fail(`--log-format must be auto, text or json, got ${values['log-format']}`);
    }
    opts.logFormat = values['log-format'] as NonNullable<RunOptions['logFormat']>;
  }
  if (values.firmware !== undefined) {
    if (!existsSync(values.firmware)) {
      return fail(`--firmware must name a firmware library (.so), got ${values.firmware}`);
    }
    opts.firmware = { path: values.firmware, args: firmwareArgs };
  }
  return opts;
}
