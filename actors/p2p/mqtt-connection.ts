/**
 * mqtt-connection — the device's MQTT client for a broker URL. For a plain `mqtt://` or
 * `mqtts://` URL (and mqtt.js's other names for them: `tcp:`, `tls:`, `ssl:`) it opens the
 * TCP or TLS socket itself and hands it to mqtt.js's `MqttClient`, so the process never
 * loads mqtt.js's connect path: its protocol table loads the SOCKS client (`socks`, with
 * `ip-address` and `smart-buffer`: ~0.9 MB of V8 heap) and the WebSocket client even when
 * no proxy and no WebSocket are used. Everything else (`ws://`, `wss://`, a SOCKS proxy in
 * the options or in `MQTTJS_SOCKS_PROXY`, `servers`, a host or port given beside the URL,
 * credentials in the URL, a client certificate on `mqtt://`) goes to mqtt.js's own
 * `connect`, unchanged.
 * TLS as mqtt.js does it: the host name is checked (`servername`, unless it is an IP
 * address), an unverified server is refused unless `rejectUnauthorized: false`, and a TLS
 * failure before the session reaches the client as its `error`.
 * Owns: the choice of path and the socket. Must never: change an option the caller gave,
 * or throw from a socket error (the client reconnects).
 */
import { createConnection, isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
// importing connect loads none of its protocol table: that happens at its first call
import { connect, MqttClient, type IClientOptions } from 'mqtt';

const TCP = new Set(['mqtt:', 'tcp:']);
const TLS = new Set(['mqtts:', 'tls:', 'ssl:']);
/** Options that change how mqtt.js's connect reaches the broker: any of them, and it does. */
const ROUTING = ['servers', 'socksProxy', 'protocol', 'host', 'hostname', 'port', 'path', 'unixSocket', 'forceNativeWebSocket', 'createWebsocket', 'transformWsUrl', 'wsOptions'] as const;

/** The URL's protocol when this module opens its socket itself, or undefined when mqtt.js's connect must. */
export function ownSocketKind(url: string, opts: IClientOptions, env: NodeJS.ProcessEnv = process.env): 'tcp' | 'tls' | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  const kind = TCP.has(u.protocol) ? 'tcp' : TLS.has(u.protocol) ? 'tls' : undefined;
  if (!kind || !u.hostname || u.username || u.password || u.search || (u.pathname !== '' && u.pathname !== '/')) {
    return undefined;
  }
  if (env.MQTTJS_SOCKS_PROXY || ROUTING.some((k) => (opts as Record<string, unknown>)[k] !== undefined)) {
    return undefined;
  }
  // mqtt.js turns mqtt:// into mqtts:// when a client certificate is given
  if (kind === 'tcp' && opts.cert && opts.key) {
    return undefined;
  }
  return kind;
}

/** An MQTT client for `url`, connecting at once and reconnecting by itself (mqtt.js's `connect` semantics). */
export function connectMqtt(url: string, opts: IClientOptions): MqttClient {
  const kind = ownSocketKind(url, opts);
  if (!kind) {
    return connect(url, opts);
  }
  const u = new URL(url);
  // a bracketed IPv6 literal in a URL is the address without its brackets
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = u.port ? Number(u.port) : kind === 'tcp' ? 1883 : 8883;
  const client = new MqttClient((c) => (kind === 'tcp' ? createConnection({ host, port }) : tlsSocket(c, host, port, opts)), { ...opts, host, port, protocol: kind === 'tcp' ? 'mqtt' : 'mqtts' });
  // as mqtt.js's connect: an error with no listener of the caller's must not throw
  client.on('error', () => undefined);
  return client;
}

function tlsSocket(client: MqttClient, host: string, port: number, opts: IClientOptions): ReturnType<typeof tlsConnect> {
  const rejectUnauthorized = opts.rejectUnauthorized !== false;
  const servername = opts.servername ?? (isIP(host) === 0 ? host : undefined);
  const socket = tlsConnect({ ...(opts as object), host, port, rejectUnauthorized, ...(servername !== undefined ? { servername } : {}) });
  const beforeSession = (err: Error): void => {
    if (rejectUnauthorized) {
      client.emit('error', err);
    }
    socket.end();
  };
  socket.on('error', beforeSession);
  socket.on('secureConnect', () => {
    if (rejectUnauthorized && !socket.authorized) {
      socket.emit('error', new Error('TLS not authorized'));
    } else {
      socket.off('error', beforeSession);
    }
  });
  return socket;
}
