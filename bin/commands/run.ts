/**
 * run — `ivgw run`: a thin CLI over the Gateway (gateway/gateway.ts), from a config file
 * (bin/run-config.ts) or on embedded defaults (the two demo cameras).
 * Writes every gateway record through pino (gateway/logger.ts: JSON lines unless stdout is
 * a terminal, `--log-level`), then the start-up lines (device, broker, fingerprint, how to
 * get tokens; on the demo defaults also an app token for `app1`), each camera's state and
 * statistics every few seconds, until SIGINT/SIGTERM (or --seconds). A start that cannot
 * succeed exits 1 with one line on stderr naming the cause.
 * Owns: the process side (signals, the timer, the exit code). Must never: print the device
 * secret, or compose the gateway itself.
 */
import { availableParallelism } from 'node:os';
import { Gateway } from '../../gateway/gateway.js';
import type { GatewayOptions } from '../../gateway/gateway-options.js';
import { createLogger, type LogLevel } from '../../gateway/logger.js';
import { dropCleanFilePages, trimAllocator } from '../../runtime/allocator.js';
import { isIvErrorCode } from '../../runtime/errors.js';
import { optimizeV8ForSize } from '../../runtime/v8-size.js';

export interface RunOptions extends GatewayOptions {
  seconds: number | undefined;
  statsEverySeconds?: number;
  /** Set when the options come from a config file (no implicit recording or HTTP then, no demo token printed). */
  fromConfig?: boolean;
  logLevel?: LogLevel;
  /** auto: JSON lines unless stdout is a terminal. */
  logFormat?: 'auto' | 'text' | 'json';
  /** A C firmware (native/) drives the device instead of the cameras: `--firmware PATH [-- args]`. */
  firmware?: { path: string; args: string[] };
}

export async function runCommand(opts: RunOptions): Promise<number> {
  // before any worker (and the firmware's gateway) starts: each isolate is created under it
  const forSize = optimizeV8ForSize();
  if (opts.firmware) {
    return (await import('../../native/firmware-run.js')).runFirmware({ ...opts, firmware: opts.firmware });
  }
  // a log reader that goes away (`ivgw run | head`) must not bring the gateway down
  process.stdout.on('error', () => undefined);
  const level = opts.logLevel ?? 'info';
  const log = createLogger({ level, ...(opts.logFormat === 'text' ? { pretty: true } : opts.logFormat === 'json' ? { pretty: false } : {}) });
  const say = (msg: string, fields: Record<string, unknown> = {}): void => log.info({ component: 'ivgw', ...fields }, msg);
  const gw = new Gateway(opts);
  gw.on('log', (r) => log[r.level]({ component: r.component, ...r.fields }, r.msg));
  let wake: () => void = () => undefined;
  const stopSignal = new Promise<void>((resolve) => {
    wake = resolve;
  });
  let signalled = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    signalled = true;
    say(`${sig}: stopping`, { signal: sig });
    wake();
    void gw.stop();
  };
  // SIGUSR2: each isolate's V8 heap, GC-settled under --expose-gc, then (where the periodic
  // look drops code pages: memory.dropIdleCode, trimEvery not 0) the idle code pages dropped as it does, so that every
  // sample finds them in the same state wherever it falls between two looks, then the RSS
  // before the C allocator's free pages go back to the system (malloc_trim) — what benchmarks read
  const onUsr2 = (): void => {
    gw.settleMemory().then(
      (heaps) => {
        const dropped = opts.dropIdleCode === false || opts.trimEveryMs === 0 ? undefined : dropCleanFilePages();
        const rssBeforeTrimKB = Math.round(process.memoryUsage.rss() / 1024);
        say('memory settled', { heaps, codeDroppedKB: dropped ? Math.round(dropped.bytes / 1024) : null, rssBeforeTrimKB, trimmed: trimAllocator() ?? null });
      },
      (err: unknown) => say(`memory not settled: ${(err as Error).message}`),
    );
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.on('SIGUSR2', onUsr2);
  gw.on('fatal', () => wake());
  const done = (): void => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGUSR2', onUsr2);
  };
  let info;
  try {
    info = await gw.start();
  } catch (err) {
    done();
    const e = err as { code?: string; message?: string };
    if (signalled && e.code === 'IV_ERR_CLOSED') {
      say('stopped before start-up finished');
      return 0;
    }
    process.stderr.write(`ivgw run: ${e.code && isIvErrorCode(e.code) ? `${e.code}: ` : ''}${(e.message ?? String(err)).split('\n')[0]}\n`);
    return 1;
  }
  const data = info.identityFile ? `--data ${opts.dataDir ?? opts.record?.dir ?? 'ivgw-data'}` : `--device ${info.deviceId} --secret "$IVGW_DEVICE_SECRET"`;
  say(`device ${info.deviceId} up; signaling ${info.brokerUrl}; channels ${info.channels.map((c) => `${c.channel}=${c.camera}`).join(', ')}`, { deviceId: info.deviceId, broker: info.brokerUrl });
  say(`identity ${info.identityFile ?? 'from --secret (this run only)'}; DTLS certificate fingerprint ${info.fingerprint}`, { fingerprint: info.fingerprint });
  if (!opts.fromConfig) {
    // the demo's way in; a configured gateway never logs a token (ivgw token mints them)
    const token = gw.token('app1');
    say(`app token (peer app1, 24 h): ${token}`);
    if (info.httpUrl && info.websocketUrls[0]) {
      // the token rides in the fragment, which the browser never sends to any server
      const fragment = new URLSearchParams({ broker: info.websocketUrls[0], device: info.deviceId, peer: 'app1', token, fp: info.fingerprint });
      say(`watch it in a browser: ${info.httpUrl}/#${fragment.toString()}`);
    }
    say(`view it with: npx ivgw view --broker ${info.brokerUrl} --device ${info.deviceId} --peer app1 --token ${token} --seconds 5 --out live.flv`);
  }
  say(`tokens for apps: npx ivgw token ${data} --peer NAME --ttl 1d --json`);
  say(`load-test it with: npx ivgw load --broker ${info.brokerUrl} ${data} --peers 100 --seconds 30 --html load-report.html`);
  if (opts.record) {
    const store = opts.record.store;
    const rec = info.channels.filter((c) => c.recording !== 'off');
    const all = rec.length === info.channels.length && rec.every((c) => c.recording === 'full-time');
    say(`recording ${all ? 'every camera' : rec.map((c) => `${c.camera} (${c.recording})`).join(', ') || 'no camera'} to ${opts.record.dir}/local, uploading to ${store.kind === 'local' ? store.dir : `${store.endpoint}/${store.bucket}`}`);
  }
  if (info.httpUrl) {
    say(`metrics ${info.httpUrl}/metrics, health ${info.httpUrl}/healthz, status ${info.httpUrl}/api/status`, { http: info.httpUrl });
  }
  // what the memory figures depend on (docs/DEPLOY.md: small boxes): node's own flags, where capture runs
  const v8 = process.execArgv.filter((a) => a.startsWith('--'));
  say(`node ${process.version}${v8.length ? ` ${v8.join(' ')}` : ''}; V8 optimized for size ${forSize ? 'on' : 'off (IVGW_OPTIMIZE_FOR_SIZE=0)'}; cameras captured on the ${info.captureWorker === 'io' ? 'io' : 'capture'} worker${(opts.captureWorker ?? 'auto') === 'auto' ? ` (auto: ${availableParallelism()} cores)` : ''}`, { node: process.version, nodeFlags: v8, optimizeForSize: forSize, captureWorker: info.captureWorker, captureWorkerChoice: opts.captureWorker ?? 'auto' });
  say(`ready${opts.seconds ? ` for ${opts.seconds} s` : '; Ctrl-C stops'}`);
  const quiet = level !== 'trace' && level !== 'debug' && level !== 'info';
  const ticker = quiet ? undefined : setInterval(() => void gw.report(), (opts.statsEverySeconds ?? 5) * 1000);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([stopSignal, new Promise<void>((resolve) => {
    timer = opts.seconds ? setTimeout(resolve, opts.seconds * 1000) : undefined;
  })]);
  clearTimeout(timer);
  clearInterval(ticker);
  if (!signalled && !quiet) {
    await gw.report();
  }
  await gw.stop();
  done();
  say('stopped');
  return gw.failed ? 1 : 0;
}
