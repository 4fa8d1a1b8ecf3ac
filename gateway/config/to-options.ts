/**
 * to-options — a validated GatewayConfig turned into the Gateway's options: cameras,
 * signaling (embedded listeners or the external broker with its credentials and TLS
 * files), ICE servers in node-datachannel's form, recording and the store, limits, HTTP.
 * Owns: that mapping. Must never: start anything.
 */
import { readFileSync } from 'node:fs';
import type { GatewayOptions } from '../gateway-options.js';
import type { GatewayConfig } from './schema.js';

/** node-datachannel's ICE server string: `stun:host:port`, `turn:user:pass@host:port`. */
function iceServerString(s: GatewayConfig['ice']['servers'][number]): string {
  if (!s.username) {
    return s.url;
  }
  const m = /^(turns?):(.*)$/.exec(s.url);
  return m ? `${m[1]}:${encodeURIComponent(s.username)}:${encodeURIComponent(s.credential ?? '')}@${m[2]}` : s.url;
}

/** A validated config as the Gateway's options (reads the external broker's TLS files). */
export function gatewayOptions(c: GatewayConfig): GatewayOptions {
  const stun = c.ice.servers.find((s) => s.url.startsWith('stun:'));
  const others = c.ice.servers.filter((s) => s !== stun);
  const sig = c.signaling;
  const o: GatewayOptions = {
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
    trimAfterLeaveMs: Math.round(c.memory.trimAfterLeaveS * 1000),
    trimEveryMs: Math.round(c.memory.trimEveryS * 1000),
    dropIdleCode: c.memory.dropIdleCode,
    captureWorker: c.memory.captureWorker,
    ...(c.http.listen !== undefined ? { http: { listen: c.http.listen, ...(c.http.bearerToken !== undefined ? { bearerToken: c.http.bearerToken } : {}), ...(c.http.openHealth ? { openHealth: true } : {}) } } : {}),
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
