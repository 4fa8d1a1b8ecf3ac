/**
 * coturn — a real STUN server (Debian's coturn, `turnserver --stun-only`) on an address
 * the test chooses (127.0.0.1, or the host end of a test's network namespace), started,
 * killed and started again by tests of the P2P keep-alive.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { decodeStun, encodeBindingRequest, newTransactionId } from '../../actors/p2p/stun.js';

export interface Coturn {
  url: string;
  host: string;
  port: number;
  /** Kill it (SIGKILL: an outage, not a goodbye). */
  kill(): Promise<void>;
  /** Start it again on the same address and port. */
  restart(): Promise<void>;
}

/** One Binding request; true when answered within `ms`. */
export async function stunAnswers(host: string, port: number, ms = 300): Promise<boolean> {
  const s = createSocket('udp4');
  try {
    const tid = newTransactionId();
    return await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      s.on('message', (m) => {
        const d = decodeStun(m);
        if (d.ok && d.transactionId.equals(tid)) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      s.on('error', () => resolve(false));
      s.send(encodeBindingRequest(tid), port, host);
    });
  } finally {
    s.close();
  }
}

export async function startCoturn(host = '127.0.0.1', port = 20_000 + Math.floor(Math.random() * 20_000)): Promise<Coturn> {
  let proc: ChildProcess | undefined;
  let log = '';
  const start = async (): Promise<void> => {
    proc = spawn('turnserver', ['-n', `--listening-ip=${host}`, `--listening-port=${port}`, '--no-tls', '--no-dtls', '--stun-only', '--no-cli', '--no-auth', '--log-file=stdout', '--simple-log', '--no-software-attribute'], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
    proc.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
    const until = Date.now() + 10_000;
    while (!(await stunAnswers(host, port))) {
      if (Date.now() > until || proc.exitCode !== null) {
        proc.kill('SIGKILL');
        throw new Error(`coturn did not answer on ${host}:${port}:\n${log}`);
      }
    }
  };
  await start();
  return {
    url: `stun:${host}:${port}`,
    host,
    port,
    kill: async () => {
      const p = proc;
      if (p && p.exitCode === null && p.signalCode === null) {
        const exited = new Promise((r) => p.once('exit', r));
        p.kill('SIGKILL');
        await exited;
      }
    },
    restart: start,
  };
}
