/**
 * mosquitto — a real MQTT broker (Debian's mosquitto) on a free loopback port, for
 * tests that must not rely on the embedded broker.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { freePort } from './free-port.js';
import { join } from 'node:path';

/**
 * Listens on 127.0.0.1 and on every address of `alsoOn` (e.g. a test namespace's host end), one port.
 * `secure`: no anonymous clients; the given password and ACL files (docs/DEPLOY.md) instead.
 * `port`: this one (a broker restarted where its clients reconnect); default a free one.
 * `websocket`: also a websockets listener (docs/DEPLOY.md: mosquitto 2.0.11 binds it on every
 * address), its URL in `wsUrl`.
 */
export async function startMosquitto(dir: string, alsoOn: string[] = [], secure?: { passwordFile: string; aclFile: string }, opts: { websocket?: boolean; port?: number } = {}): Promise<{ url: string; port: number; wsUrl: string | undefined; stop(): void; proc: ChildProcess }> {
  const port = opts.port ?? await freePort();
  const wsPort = opts.websocket ? await freePort() : undefined;
  const conf = join(dir, 'mosquitto.conf');
  const access = secure ? `allow_anonymous false\npassword_file ${secure.passwordFile}\nacl_file ${secure.aclFile}\n` : 'allow_anonymous true\n';
  writeFileSync(conf, `${['127.0.0.1', ...alsoOn].map((h) => `listener ${port} ${h}\n`).join('')}${wsPort ? `listener ${wsPort} 127.0.0.1\nprotocol websockets\n` : ''}${access}persistence false\n`);
  const proc = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
  const until = Date.now() + 5_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = tcpConnect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) {
      break;
    }
    if (Date.now() > until) {
      proc.kill();
      throw new Error('mosquitto did not start');
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `mqtt://127.0.0.1:${port}`, port, wsUrl: wsPort ? `ws://127.0.0.1:${wsPort}` : undefined, stop: () => proc.kill('SIGKILL'), proc };
}
