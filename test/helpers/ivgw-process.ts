/**
 * ivgw-process — `ivgw <args>` as a child process the way a user runs it (no identity
 * flags added, unlike gateway.ts): waits for the signaling line (or the exit), collects
 * stdout/stderr lines, stops with a signal and reports how it ended.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { IVGW } from './gateway.js';
import { renderLine, withHttp } from './log-lines.js';

export interface IvgwProcess {
  proc: ChildProcess;
  /** stdout and stderr lines so far, JSON records rendered as `ivgw: msg` / `[component] msg` (log-lines.ts). */
  lines: string[];
  /** The raw output lines (JSON records as written). */
  raw: string[];
  /** The signaling URL once the gateway is up. */
  url: string;
  /** The HTTP server's URL (`HTTP http://…` line), when it serves one. */
  http: string | undefined;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Wait for a line matching `re` from line `from` on (default 0; rejects after `timeoutMs`). */
  waitFor(re: RegExp, timeoutMs?: number, from?: number): Promise<string>;
  /** Send `signal` (default SIGTERM), SIGKILL after `graceMs`; resolves with the exit. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `configHttp`: the config file's `http` section decides (no free-port --http added). */
export function spawnIvgw(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; prefix?: string[]; configHttp?: boolean } = {}): Omit<IvgwProcess, 'url' | 'http'> {
  const argv = [...(opts.prefix ?? []), process.execPath, IVGW, ...(args[0] === 'run' && !opts.configHttp ? withHttp(args) : args)];
  const proc = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, IVGW_DEVICE_ID: '', IVGW_DEVICE_SECRET: '', ...opts.env }, ...(opts.cwd ? { cwd: opts.cwd } : {}) });
  const lines: string[] = [];
  const raw: string[] = [];
  const waiters = new Set<() => void>();
  for (const stream of [proc.stdout, proc.stderr]) {
    let buf = '';
    stream?.on('data', (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split('\n');
      buf = parts.pop() ?? '';
      raw.push(...parts);
      lines.push(...parts.map(renderLine));
      for (const w of waiters) {
        w();
      }
    });
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('exit', (code, signal) => {
    resolve({ code, signal });
    for (const w of waiters) {
      w();
    }
  }));
  const waitFor = (re: RegExp, timeoutMs = 20_000, start = 0): Promise<string> => new Promise((resolve, reject) => {
    let from = start;
    const check = (): void => {
      for (; from < lines.length; from++) {
        if (re.test(lines[from] as string)) {
          done();
          resolve(lines[from] as string);
          return;
        }
      }
      if (proc.exitCode !== null || proc.signalCode !== null) {
        done();
        reject(new Error(`ivgw exited (${proc.exitCode ?? proc.signalCode}) before ${re}:\n${lines.join('\n')}`));
      }
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`no ${re} within ${timeoutMs} ms:\n${lines.join('\n')}`));
    }, timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      waiters.delete(check);
    };
    waiters.add(check);
    check();
  });
  const stop = async (signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
    return exited;
  };
  return { proc, lines, raw, exited, waitFor, stop };
}

/** `ivgw run ARGS` up to its "signaling URL" line. */
export async function startIvgw(args: string[], opts: Parameters<typeof spawnIvgw>[1] = {}): Promise<IvgwProcess> {
  const p = spawnIvgw(['run', ...args], opts);
  try {
    const line = await p.waitFor(/ivgw: device \S+ up; signaling (mqtts?:\/\/\S+);/, 40_000);
    const http = p.lines.map((l) => /^ivgw: HTTP (http:\/\/\S+) \(/.exec(l)?.[1]).find((u) => u !== undefined);
    return { ...p, url: /signaling (mqtts?:\/\/\S+);/.exec(line)?.[1] as string, http };
  } catch (err) {
    await p.stop('SIGKILL');
    throw err;
  }
}
