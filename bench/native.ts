/**
 * native — the C API's overhead, each as a ratio to the same work done from TypeScript
 * in the same run:
 *  - push: N `iv_cs_push_stream` calls (the sample H.264's access units, back to back)
 *    from a C firmware thread under `ivgw run --firmware` (every call crosses to the main
 *    thread and back) vs N `CloudModule.pushStream` calls in this process:
 *    calls/s, bytes/s, `pushRatio` = C / TS (medians of 3 alternating rounds: the
 *    machine is shared and load moves both sides).
 *  - flv: a 16 MiB file served in 64 KiB chunks to one app over WebRTC, from the C
 *    sample's `p2p_handle_send_get_cb` vs from a TS `onSendGet` (P2pModule in a child
 *    device process): bytes/s at the app, `flvRatio` = C / TS. One chunk per 10 ms
 *    tick per stream caps both at 6.4 MB/s; the ratio shows what the C path loses.
 * Child mode (`node dist/bench/native.js --ts-device FILE CHUNK`): the TS device.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync, closeSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SAMPLE } from '../actors/capture/index.js';
import { CloudModule, P2pModule, mintToken } from '../native/sdk.js';
import { accessUnits } from '../test/helpers/media.js';
import { RemoteApps } from '../test/helpers/remote-apps.js';
import type { BenchOptions } from './run.js';
import { round } from './stats.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const IVGW = join(ROOT, 'bin/ivgw.js');
const SELF = fileURLToPath(import.meta.url);
const CHUNK = 64 * 1024;

function buildFirmware(src: string, out: string): string {
  const r = spawnSync('gcc', ['-O2', '-shared', '-fPIC', '-I', join(ROOT, 'native/include'), src, '-o', out], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`gcc: ${r.stderr}`);
  }
  return out;
}

interface Proc {
  lines: string[];
  waitFor(re: RegExp, ms?: number): Promise<RegExpExecArray>;
  stop(): Promise<void>;
}

function start(cmd: string[]): Proc {
  const proc = spawn(process.execPath, cmd, { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  createInterface({ input: proc.stdout }).on('line', (l) => lines.push(l));
  return {
    lines,
    waitFor: async (re, ms = 60_000) => {
      for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) {
        for (const l of lines) {
          const m = re.exec(l);
          if (m) {
            return m;
          }
        }
        if (proc.exitCode !== null) {
          break;
        }
      }
      throw new Error(`no ${re} in:\n${lines.join('\n')}`);
    },
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        const gone = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
        await gone;
        clearTimeout(t);
      }
    },
  };
}

async function pushFromC(dir: string, fw: string, n: number): Promise<{ callsPerS: number; bytesPerS: number; refused: number }> {
  const p = start([IVGW, 'run', '--mqtt-port', '0', '--device', 'bench-c', '--secret', 's', '--record', join(dir, 'rec-c'), '--firmware', fw, '--', 'push-bench', SAMPLE.h264, String(n)]);
  const m = await p.waitFor(/^fw: bench push init=0 calls=(\d+) bytes=(\d+) ns=(\d+) refused=(\d+)$/, 120_000);
  await p.stop();
  const s = Number(m[3]) / 1e9;
  return { callsPerS: Number(m[1]) / s, bytesPerS: Number(m[2]) / s, refused: Number(m[4]) };
}

async function pushFromTs(dir: string, n: number): Promise<{ callsPerS: number; bytesPerS: number; refused: number }> {
  const store = join(dir, 'store-ts');
  mkdirSync(join(store, 'bench-ts'), { recursive: true });
  writeFileSync(join(store, 'bench-ts', 'plan.json'), JSON.stringify({ fullTime: { enabled: true } }));
  const cloud = new CloudModule({ deviceId: 'bench-ts', store: { kind: 'local', dir: store }, spoolDir: join(dir, 'spool-ts') });
  await cloud.init({ maxGopSize: 1 << 20, avFormat: { video: { codec: 'h264', fps: 25 }, audio: { codec: 'aac', sampleRate: 16000, channels: 1 } } });
  const frames = accessUnits(SAMPLE.h264, 'h264');
  let refused = 0;
  let bytes = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const f = frames[i % frames.length] as Uint8Array;
    try {
      cloud.pushStream('video', { data: f, pts: i * 40, keyframe: isIdr(f) });
    } catch {
      refused++;
    }
    bytes += f.length;
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  await cloud.exit();
  return { callsPerS: n / s, bytesPerS: bytes / s, refused };
}

/** An H.264 access unit with an IDR slice (NAL type 5). */
function isIdr(au: Uint8Array): boolean {
  for (let i = 0; i + 3 < au.length; i++) {
    if (au[i] === 0 && au[i + 1] === 0 && au[i + 2] === 1 && ((au[i + 3] ?? 0) & 0x1f) === 5) {
      return true;
    }
  }
  return false;
}

async function receive(url: string, deviceId: string, secret: string, size: number): Promise<number> {
  const apps = new RemoteApps();
  try {
    await apps.connect('app1', { url, deviceId, peerId: 'app1', token: mintToken(secret, { deviceId, peerId: 'app1', expires: Math.floor(Date.now() / 1000) + 600, rights: ['live'] }), bindAddress: '127.0.0.1' });
    const t0 = Date.now();
    const stream = await apps.open('app1', 'action=live&channel=0', {});
    for (;;) {
      const s = await apps.stats('app1', stream);
      if (s.bytes >= size || Date.now() - t0 > 120_000) {
        return s.bytes / ((Date.now() - t0) / 1000);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await apps.exit();
  }
}

async function flvFromC(file: string, fw: string, size: number): Promise<number> {
  const p = start([IVGW, 'run', '--mqtt-port', '0', '--device', 'bench-flv-c', '--secret', 's', '--no-record', '--firmware', fw, '--', file, String(CHUNK)]);
  try {
    const url = (await p.waitFor(/signaling (mqtt:\/\/[\d.]+:\d+)/))[1] as string;
    await p.waitFor(/^fw: ready/);
    return await receive(url, 'bench-flv-c', 's', size);
  } finally {
    await p.stop();
  }
}

async function flvFromTs(file: string, size: number): Promise<number> {
  const p = start([SELF, '--ts-device', file, String(CHUNK)]);
  try {
    const url = (await p.waitFor(/signaling (mqtt:\/\/[\d.]+:\d+)/))[1] as string;
    return await receive(url, 'bench-flv-ts', 's', size);
  } finally {
    await p.stop();
  }
}

/** The TS device of the flv comparison: P2pModule with onSendGet reading the file. */
async function tsDevice(file: string, chunk: number): Promise<void> {
  const p2p = new P2pModule({ deviceId: 'bench-flv-ts', secret: 's', mqttPort: 0 });
  const fds = new Map<unknown, number>();
  let next = 1;
  await p2p.init({
    onSendInit: () => {
      const h = next++;
      fds.set(h, openSync(file, 'r'));
      return h;
    },
    onSendGet: (h) => {
      const fd = fds.get(h);
      if (fd === undefined) {
        return null;
      }
      const b = Buffer.allocUnsafe(chunk);
      const n = readSync(fd, b, 0, chunk, null);
      return n > 0 ? b.subarray(0, n) : null;
    },
    onSendStop: (h) => {
      const fd = fds.get(h);
      if (fd !== undefined) {
        closeSync(fd);
      }
      fds.delete(h);
    },
  });
  await p2p.setBufWatermark(200 * 1024, 400 * 1024, 500 * 1024);
  process.stdout.write(`ivgw: device bench-flv-ts up; signaling ${p2p.brokerUrl ?? ''}\n`);
  process.once('SIGTERM', () => {
    void p2p.exit().finally(() => process.exit(0));
  });
}

export async function run(opts: BenchOptions): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'ivgw-bench-native-'));
  try {
    const n = opts.quick ? 2_000 : 20_000;
    const fwTest = buildFirmware(join(ROOT, 'native/test-fw/fw_test.c'), join(dir, 'libfw_test.so'));
    const fwSample = buildFirmware(join(ROOT, 'native/samples/p2p_sample.c'), join(dir, 'libp2p_sample.so'));
    // alternating rounds, the median of each side: the machine is shared, so load moves both
    const rounds = opts.quick ? 1 : 3;
    const tsRuns: Awaited<ReturnType<typeof pushFromTs>>[] = [];
    const cRuns: Awaited<ReturnType<typeof pushFromC>>[] = [];
    for (let r = 0; r < rounds; r++) {
      tsRuns.push(await pushFromTs(join(dir, `ts${r}`), n));
      cRuns.push(await pushFromC(join(dir, `c${r}`), fwTest, n));
    }
    const median = <T extends { callsPerS: number }>(runs: T[]): T => [...runs].sort((a, b) => a.callsPerS - b.callsPerS)[Math.floor(runs.length / 2)] as T;
    const tsPush = median(tsRuns);
    const cPush = median(cRuns);
    const size = (opts.quick ? 4 : 16) * 1024 * 1024;
    const file = join(dir, 'big.bin');
    writeFileSync(file, randomBytes(size));
    const tsFlv = await flvFromTs(file, statSync(file).size);
    const cFlv = await flvFromC(file, fwSample, statSync(file).size);
    return {
      push: {
        calls: n,
        rounds,
        cCallsPerSRuns: cRuns.map((x) => round(x.callsPerS, 0)),
        tsCallsPerSRuns: tsRuns.map((x) => round(x.callsPerS, 0)),
        c: { callsPerS: round(cPush.callsPerS, 0), MBPerS: round(cPush.bytesPerS / 1e6, 2), refused: cPush.refused },
        ts: { callsPerS: round(tsPush.callsPerS, 0), MBPerS: round(tsPush.bytesPerS / 1e6, 2), refused: tsPush.refused },
      },
      pushRatio: round(cPush.callsPerS / tsPush.callsPerS, 2),
      flv: { bytes: size, chunk: CHUNK, cMBPerS: round(cFlv / 1e6, 2), tsMBPerS: round(tsFlv / 1e6, 2) },
      flvRatio: round(cFlv / tsFlv, 2),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url && process.argv[2] === '--ts-device') {
  await tsDevice(process.argv[3] as string, Number(process.argv[4]));
}
