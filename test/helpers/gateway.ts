/**
 * gateway — runs `ivgw run` as a child process (node-datachannel: one thread per
 * process, so the apps in the test process get their own), and mints tokens for it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mintToken } from '../../shared/protocol/access-token.js';
import type { Right } from '../../shared/protocol/rights.js';
import { renderLine, withHttp } from './log-lines.js';

export const IVGW = fileURLToPath(new URL('../../../bin/ivgw.js', import.meta.url));

export interface Gateway {
  url: string;
  deviceId: string;
  secret: string;
  proc: ChildProcess;
  log: string[];
  token(peer: string, rights?: Right[], ttlS?: number): string;
  stop(): Promise<void>;
}

/**
 * `prefix`: argv run before node (e.g. `ip netns exec NS` to run the gateway in a namespace); `ivgw`: another build's bin/ivgw.js (benchmarks' baselines);
 * `nodeFlags`: node's own flags (`--lite-mode`).
 */
export async function startGateway(extra: string[] = [], deviceId = `dev-${process.pid}`, prefix: string[] = [], ivgw = IVGW, nodeFlags: string[] = []): Promise<Gateway> {
  const secret = `secret-${Math.random()}`;
  const argv = [...prefix, process.execPath, ...nodeFlags, ivgw, 'run', ...(extra.includes('--broker') ? [] : ['--mqtt-port', '0']), '--device', deviceId, '--secret', secret, '--seconds', '600', ...(extra.some((a) => a === '--record' || a === '--no-record') ? [] : ['--no-record']), ...withHttp(extra)];
  const proc = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = [];
  let buffered = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start:\n${log.join('\n')}`)), 20_000);
    const onData = (d: Buffer): void => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      log.push(...lines.map(renderLine));
      const m = /signaling (mqtt:\/\/[\d.]+:\d+)/.exec(lines.join('\n'));
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', (d: Buffer) => log.push(d.toString()));
    proc.once('exit', (code) => reject(new Error(`gateway exited ${code}:\n${log.join('\n')}`)));
  });
  return {
    url,
    deviceId,
    secret,
    proc,
    log,
    token: (peer, rights = ['live', 'playback', 'voice', 'command'], ttlS = 600) => mintToken(secret, { deviceId, peerId: peer, expires: Math.floor(Date.now() / 1000) + ttlS, rights }),
    stop: async () => {
      // an app's peer actor that crashed is a bug even when the test passed: show it in the run's output
      const crashes = log.filter((l) => /exit .*peer:/.test(l));
      if (crashes.length > 0) {
        console.error(`gateway ${deviceId}: ${crashes.length} peer actor exit(s):\n${crashes.slice(0, 5).join('\n')}`);
      }
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([exited, new Promise((r) => {
          timer = setTimeout(r, 10_000);
        })]);
        clearTimeout(timer);
        if (proc.exitCode === null) {
          proc.kill('SIGKILL');
        }
      }
    },
  };
}
