/**
 * embedded-broker — the MQTT broker a gateway runs by default (aedes, in-process, on
 * 127.0.0.1 unless told otherwise), so `ivgw run` needs no external service. Any other
 * broker (mosquitto, EMQX) works by URL instead.
 * Browsers reach it over MQTT on WebSocket (`websocket` listeners: HTTP upgrade on any path,
 * subprotocol `mqtt`), with the same authentication and topic ACL as TCP: every
 * WebSocket connection is handed to the same aedes instance as a stream.
 * Packets are written without mqtt-packet's number cache (65,536 two-byte Buffers made on
 * the first packet written: ~7 MB of the main thread's heap for signaling's few packets a
 * second; mqtt.js clients turn it off the same way with `writeCache: false`).
 * Owns: the aedes instance and its TCP, TLS and WebSocket servers. Must never: listen
 * beyond the addresses given.
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes } from 'aedes';
import * as mqttPacket from 'mqtt-packet';
import { brokerAcl, type BrokerAclOptions } from './broker-acl.js';

export interface EmbeddedBroker {
  url: string;
  port: number;
  /** `mqtts://` URL of the first TLS listener, when there is one. */
  tlsUrl?: string;
  /** `ws://` URLs of the WebSocket listeners (MQTT over WebSocket, for browsers), in the order given. */
  wsUrls: string[];
  close(): Promise<void>;
}

export async function startEmbeddedBroker(opts: {
  host?: string;
  port?: number;
  /** More addresses on the same broker (e.g. a LAN address); the first one is `url`. */
  listen?: { host: string; port: number }[];
  /** Authenticate every client and keep each to its own topics (broker-acl.ts); absent: anyone may do anything. */
  acl?: BrokerAclOptions;
  /** Also listen with TLS (mqtts) with this certificate and key (PEM). */
  tls?: { cert: string | Buffer; key: string | Buffer; listen: { host: string; port: number }[] };
  /** Also listen for MQTT over WebSocket (browsers) on these addresses (port 0: a free one). */
  websocket?: { host: string; port: number }[];
} = {}): Promise<EmbeddedBroker> {
  mqttPacket.writeToStream.cacheNumbers = false;
  const listen = opts.listen && opts.listen.length > 0 ? opts.listen : [{ host: opts.host ?? '127.0.0.1', port: opts.port ?? 0 }];
  const broker = await Aedes.createBroker(opts.acl ? (brokerAcl(opts.acl) as unknown as Parameters<typeof Aedes.createBroker>[0]) : {});
  const servers: Server[] = [];
  const closeAll = (): Promise<void> =>
    new Promise<void>((resolve) => {
      let left = servers.length;
      const one = (): void => {
        if (--left <= 0) {
          resolve();
        }
      };
      for (const w of wsServers) {
        for (const c of w.clients) {
          c.terminate();
        }
        w.close();
      }
      for (const s of servers) {
        s.close(one);
      }
      if (servers.length === 0) {
        resolve();
      }
      broker.close(() => undefined);
    });
  const handle = broker.handle as unknown as (socket: import('node:net').Socket) => void;
  // the WebSocket server's package is loaded only when a WebSocket listener is asked for
  let wsPackage: typeof import('ws') | undefined;
  const wsServers: import('ws').WebSocketServer[] = [];
  const webSocketServer = (ws: typeof import('ws')): Server => {
    const http = createHttpServer((_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain' }).end('MQTT over WebSocket: upgrade required\n');
    });
    const wss = new ws.WebSocketServer({ server: http, handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : protocols.has('mqttv3.1') ? 'mqttv3.1' : false) });
    wss.on('connection', (socket) => {
      const stream = ws.createWebSocketStream(socket);
      stream.on('error', () => socket.terminate());
      handle(stream as unknown as Parameters<typeof handle>[0]);
    });
    wss.on('error', () => undefined); // the http server reports listen errors
    wsServers.push(wss);
    return http;
  };
  const all = [
    ...listen.map((l) => ({ ...l, kind: 'tcp' as const })),
    ...(opts.tls?.listen ?? []).map((l) => ({ ...l, kind: 'tls' as const })),
    ...(opts.websocket ?? []).map((l) => ({ ...l, kind: 'ws' as const })),
  ];
  for (const l of all) {
    const server: Server = l.kind === 'tls' && opts.tls ? createTlsServer({ cert: opts.tls.cert, key: opts.tls.key }, handle) : l.kind === 'ws' ? webSocketServer((wsPackage ??= await import('ws'))) : createServer(handle);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(l.port, l.host, () => resolve());
      });
    } catch (err) {
      await closeAll();
      const e = err as NodeJS.ErrnoException;
      throw Object.assign(new Error(`MQTT broker${l.kind === 'ws' ? ' (WebSocket)' : ''} cannot listen on ${l.host}:${l.port}: ${e.code === 'EADDRINUSE' ? 'the port is in use' : e.code === 'EADDRNOTAVAIL' ? 'no such local address' : e.code === 'EACCES' ? 'permission denied' : e.message}`), { code: e.code });
    }
    servers.push(server);
  }
  const first = servers[0] as Server;
  const port = (first.address() as AddressInfo).port;
  const host = listen[0]?.host ?? '127.0.0.1';
  const shown = (h: string): string => (h === '0.0.0.0' ? '127.0.0.1' : h === '::' ? '[::1]' : h.includes(':') ? `[${h}]` : h);
  const tlsServer = opts.tls && opts.tls.listen.length > 0 ? servers[listen.length] : undefined;
  const wsFirst = listen.length + (opts.tls?.listen.length ?? 0);
  const wsUrls = (opts.websocket ?? []).map((l, i) => `ws://${shown(l.host)}:${((servers[wsFirst + i] as Server).address() as AddressInfo).port}`);
  return {
    url: `mqtt://${shown(host)}:${port}`,
    port,
    wsUrls,
    ...(tlsServer ? { tlsUrl: `mqtts://${shown(opts.tls?.listen[0]?.host ?? '127.0.0.1')}:${(tlsServer.address() as AddressInfo).port}` } : {}),
    close: closeAll,
  };
}
