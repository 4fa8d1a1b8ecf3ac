/**
 * firmware — test helpers for the C API: build a firmware with gcc (AddressSanitizer +
 * UBSan by default) exactly as a firmware team would (`gcc -shared -fPIC -I
 * native/include fw.c -o libfw.so`), and run it under `ivgw run --firmware` in a child
 * process with libasan preloaded (the firmware's ASan runtime must come first; Node
 * itself is not instrumented, so leak detection is off: ASAN_OPTIONS=detect_leaks=0).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { mintToken } from '../../shared/protocol/access-token.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const IVGW = join(ROOT, 'bin/ivgw.js');
export const INCLUDE = join(ROOT, 'native/include');
export const SAMPLES = join(ROOT, 'native/samples');
export const TEST_FW = join(ROOT, 'native/test-fw');

export const LIBASAN = spawnSync('gcc', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).stdout.trim();

/** gcc -shared -fPIC -I native/include SRC -o DIR/NAME.so, with sanitizers unless `plain`. */
export function buildFirmware(src: string, dir: string, name: string, plain = false): string {
  const out = join(dir, `lib${name}.so`);
  const san = plain ? ['-O2'] : ['-fsanitize=address,undefined', '-fno-sanitize-recover=undefined', '-fno-omit-frame-pointer', '-g', '-O1'];
  const r = spawnSync('gcc', ['-Wall', '-Wextra', '-Werror', ...san, '-shared', '-fPIC', '-I', INCLUDE, src, '-o', out], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`gcc failed for ${src}: ${r.stderr}`);
  }
  return out;
}

/** Lines in the output that are sanitizer reports. */
export function sanitizerReports(stderr: string): string[] {
  return stderr.split('\n').filter((l) => /ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer|SUMMARY: (Address|Undefined)/.test(l));
}

export interface FirmwareGateway {
  proc: ChildProcess;
  deviceId: string;
  secret: string;
  lines: string[];
  stderr: () => string;
  /** The firmware's own lines ("fw: ..."), without the prefix. */
  fw: () => string[];
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  url: () => Promise<string>;
  token(peer: string): string;
  /** SIGTERM (unless already exited); resolves with the exit code. */
  stop(): Promise<number | null>;
  exited: Promise<number | null>;
}

export function runFirmware(fw: string, fwArgs: string[], opts: { record?: string; asan?: boolean; deviceId?: string; extra?: string[]; env?: Record<string, string> } = {}): FirmwareGateway {
  const deviceId = opts.deviceId ?? `fw-${process.pid}-${Math.floor(Math.random() * 1e6)}`;
  const secret = `secret-${Math.random()}`;
  const args = [IVGW, 'run', '--mqtt-port', '0', '--device', deviceId, '--secret', secret, '--seconds', '300', ...(opts.record ? ['--record', opts.record] : ['--no-record']), ...(opts.extra ?? []), '--firmware', fw, '--', ...fwArgs];
  const env = { ...process.env, ...(opts.env ?? {}), ...(opts.asan === false ? {} : { LD_PRELOAD: LIBASAN, ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=0:halt_on_error=1', UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1' }) };
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  const lines: string[] = [];
  let err = '';
  let partial = '';
  let waiters: (() => void)[] = [];
  const wake = (): void => {
    const w = waiters;
    waiters = [];
    w.forEach((f) => f());
  };
  proc.stdout?.on('data', (d: Buffer) => {
    partial += d.toString();
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
    wake();
  });
  proc.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => {
    if (partial) {
      lines.push(partial);
    }
    wake();
    r(code);
  }));
  const waitFor = async (re: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      for (const l of lines) {
        const m = re.exec(l);
        if (m) {
          return m;
        }
      }
      if (Date.now() > end || proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(`no line matching ${re} in:\n${lines.join('\n')}\nstderr:\n${err}`);
      }
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 200);
      });
    }
  };
  return {
    proc,
    deviceId,
    secret,
    lines,
    stderr: () => err,
    fw: () => lines.filter((l) => l.startsWith('fw: ')).map((l) => l.slice(4)),
    waitFor,
    url: async () => (await waitFor(/signaling (mqtt:\/\/[\d.]+:\d+)/))[1] as string,
    token: (peer) => mintToken(secret, { deviceId, peerId: peer, expires: Math.floor(Date.now() / 1000) + 600, rights: ['live', 'playback', 'voice', 'command'] }),
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 15_000);
        const code = await exited;
        clearTimeout(t);
        return code;
      }
      return exited;
    },
    exited,
  };
}
