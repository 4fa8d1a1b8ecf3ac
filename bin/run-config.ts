/**
 * run-config — what `ivgw run` runs: the config file's options (--config) or the demo's,
 * with the command-line flags on top. A config with problems prints every one of them,
 * each at its path, and exits 2.
 * Owns: the mapping from GatewayConfig to RunOptions. Must never: start anything.
 */
import { readFileSync } from 'node:fs';
import type { RunOptions } from './commands/run.js';
import { ConfigError, loadConfig } from '../gateway/config/load.js';
import type { GatewayConfig } from '../gateway/config/schema.js';
import { applyRunFlags, type RunFlags } from './run-flags.js';

/** node-datachannel's ICE server string: `stun:host:port`, `turn:user:pass@host:port`. */
function iceServerString(s: GatewayConfig['ice']['servers'][number]): string {
  if (!s.username) {
    return s.url;
  }
  const m = /^(turns?):(.*)$/.exec(s.url);
  return m ? `${m[1]}:${encodeURIComponent(s.username)}:${encodeURIComponent(s.credential ?? '')}@${m[2]}` : s.url;
}

export function optionsFromConfig(c: GatewayConfig): RunOptions {
  const stun = c.ice.servers.find((s) => s.url.startsWith('stun:'));
  const others = c.ice.servers.filter((s) => s !== stun);
  const sig = c.signaling;
  const o: RunOptions = {
    seconds: undefined,
    fromConfig: true,
    dataDir: c.device.data,
    ...(c.device.id ? { deviceId: c.device.id } : {}),
    cameras: c.cameras,
    iceBind: c.ice.bind,
    ...(stun ? { stun: stun.url } : {}),
    ...(others.length > 0 ? { iceServers: others.map(iceServerString) } : {}),
    ...(c.ice.portRange ? { icePortRange: c.ice.portRange } : {}),
    keepAlive: { timeInterS: c.keepAlive.intervalS, maxAttemptNum: c.keepAlive.probes },
    watermarks: c.watermarks,
    admission: c.admission,
    quiet: c.logging.level === 'warn' || c.logging.level === 'error',
    jsonLogs: c.logging.format === 'json',
  };
  if (sig.kind === 'embedded') {
    o.brokerListen = sig.listen;
    if (sig.websocket) {
      o.brokerWebsocket = sig.websocket;
    }
    if (sig.tls) {
      o.brokerTls = sig.tls;
    }
  } else {
    o.broker = sig.url;
    const tls = sig.tls ?? {};
    o.brokerOptions = {
      ...(sig.username ? { username: sig.username } : {}),
      ...(sig.password ? { password: sig.password } : {}),
      ...(tls.ca ? { ca: readFileSync(tls.ca) } : {}),
      ...(tls.cert ? { cert: readFileSync(tls.cert) } : {}),
      ...(tls.key ? { key: readFileSync(tls.key) } : {}),
    };
  }
  if (c.cameras.some((cam) => cam.recording !== 'off')) {
    const cl = c.cloud;
    o.record = {
      dir: c.device.data,
      store: cl.kind === 'local' ? { kind: 'local', dir: cl.dir } : {
        kind: 's3', endpoint: cl.endpoint, bucket: cl.bucket, region: cl.region, pathStyle: cl.pathStyle, accessKeyId: cl.accessKeyId, secretAccessKey: cl.secretAccessKey, ...(cl.sessionToken ? { sessionToken: cl.sessionToken } : {}),
      },
    };
  }
  return o;
}

/** Print a config's problems (all of them) and return 2, or the options. */
export function configOptions(file: string): RunOptions | number {
  try {
    return optionsFromConfig(loadConfig(file));
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`ivgw: config ${err.message}\n`);
      return 2;
    }
    const e = err as NodeJS.ErrnoException;
    process.stderr.write(`ivgw: config ${file}: ${e.code === 'ENOENT' ? `a file it names does not exist: ${e.path ?? ''}` : e.message}\n`);
    return 2;
  }
}

export async function runOptions(flags: RunFlags, firmwareArgs: string[] = []): Promise<RunOptions | number> {
  const base = flags.config !== undefined ? configOptions(flags.config) : { seconds: undefined };
  if (typeof base === 'number') {
    return base;
  }
  return applyRunFlags(flags, base, firmwareArgs);
}
