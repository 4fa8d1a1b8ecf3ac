/**
 * stun-server — the built-in STUN responder `ivgw run` uses when no STUN server is
 * configured: answers Binding requests with the sender's address (XOR-MAPPED-ADDRESS),
 * so ICE gathers server-reflexive candidates and the keep-alive probes have a server.
 *
 * Owns: one UDP socket. Must never: answer anything but a well-formed Binding request
 * (everything else is counted and dropped), or throw on what the network sends.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { BINDING_REQUEST, decodeStun, encodeBindingSuccess } from './stun.js';

export interface StunResponder {
  readonly url: string;
  readonly port: number;
  /** Binding requests answered / datagrams dropped. */
  readonly counts: { answered: number; dropped: number };
  close(): Promise<void>;
}

export async function startStunResponder(opts: { host?: string; port?: number } = {}): Promise<StunResponder> {
  const host = opts.host ?? '127.0.0.1';
  const socket: Socket = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4' });
  const counts = { answered: 0, dropped: 0 };
  socket.on('message', (msg, from) => {
    const m = decodeStun(msg);
    if (!m.ok || m.type !== BINDING_REQUEST) {
      counts.dropped++;
      return;
    }
    const family = from.family === 'IPv6' ? 'IPv6' : 'IPv4';
    socket.send(encodeBindingSuccess(m.transactionId, { family, address: from.address, port: from.port }), from.port, from.address);
    counts.answered++;
  });
  socket.on('error', () => undefined); // ICMP errors for vanished senders: nothing to do
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(opts.port ?? 0, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  const port = socket.address().port;
  return {
    url: `stun:${isIPv6(host) ? `[${host}]` : host}:${port}`,
    port,
    counts,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
