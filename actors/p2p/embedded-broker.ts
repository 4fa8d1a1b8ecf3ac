/**
 * embedded-broker — the MQTT broker a gateway runs by default (aedes, in-process, on
 * 127.0.0.1 unless told otherwise), so `ivgw run` needs no external service. Any other
 * broker (mosquitto, EMQX) works by URL instead.
 * Owns: the aedes instance and its TCP server. Must never: listen beyond the addresses given.
 */
import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes } from 'aedes';
import { brokerAcl, type BrokerAclOptions } from './broker-acl.js';

export interface EmbeddedBroker {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startEmbeddedBroker(opts: {
  host?: string;
  port?: number;
  /** More addresses on the same broker (e.g. a LAN address); the first one is `url`. */
  listen?: { host: string; port: number }[];
  /** Authenticate every client and keep each to its own topics (broker-acl.ts); absent: anyone may do anything. */
  acl?: BrokerAclOptions;
} = {}): Promise<EmbeddedBroker> {
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
      for (const s of servers) {
        s.close(one);
      }
      if (servers.length === 0) {
        resolve();
      }
      broker.close(() => undefined);
    });
  for (const l of listen) {
    const server: Server = createServer(broker.handle as unknown as (socket: import('node:net').Socket) => void);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(l.port, l.host, () => resolve());
      });
    } catch (err) {
      await closeAll();
      const e = err as NodeJS.ErrnoException;
      throw Object.assign(new Error(`MQTT broker cannot listen on ${l.host}:${l.port}: ${e.code === 'EADDRINUSE' ? 'the port is in use' : e.code === 'EADDRNOTAVAIL' ? 'no such local address' : e.code === 'EACCES' ? 'permission denied' : e.message}`), { code: e.code });
    }
    servers.push(server);
  }
  const first = servers[0] as Server;
  const port = (first.address() as AddressInfo).port;
  const host = listen[0]?.host ?? '127.0.0.1';
  return {
    url: `mqtt://${host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    close: closeAll,
  };
}
