/**
 * load — `ivgw load`: N simulated apps against a device, with a live progress line,
 * a summary, `--json` for machines and `--html` for people (client/load/).
 *   ivgw load --secret S | --data DIR [--broker URL] [--device ID] [--peers N] [--seconds S] [--ramp R]
 *             [--workers W] [--mix live=70,...] [--channels 0,1] [--stall-seconds S]
 *             [--bind ADDR] [--json] [--html FILE]
 * Exit code 0 only when every app connected and received video with no error, no
 * integrity violation and no gap; 1 otherwise; 2 for bad options.
 */
import { writeFileSync } from 'node:fs';
import { parseDuration } from '../../gateway/config/duration.js';
import { loadIdentity } from '../../gateway/identity/device-identity.js';
import { parseCommand } from '../cli.js';
import { USAGES } from '../usage.js';
import { isIvError } from '../../runtime/errors.js';
import { renderLoadHtml } from '../../client/load/load-html.js';
import { checkLoadOptions, DEFAULT_MIX, defaultWorkers, parseMix, type LoadOptions } from '../../client/load/load-plan.js';
import type { LoadReport } from '../../client/load/load-report.js';
import { LoadRun, type LoadProgress } from '../../client/load/load-run.js';

export const LOAD_USAGE = USAGES.load;

const asSeconds = (raw: string | undefined, dflt: number): number => (raw === undefined ? dflt : parseDuration(raw) ?? NaN);

function options(argv: string[]): { o: LoadOptions; json: boolean; html: string | undefined } | number {
  const parsed = parseCommand('load', argv, {
      broker: { type: 'string' }, device: { type: 'string' }, secret: { type: 'string' }, data: { type: 'string' }, peers: { type: 'string' }, seconds: { type: 'string' },
      ramp: { type: 'string' }, workers: { type: 'string' }, mix: { type: 'string' }, channels: { type: 'string' }, 'stall-seconds': { type: 'string' },
      bind: { type: 'string' }, json: { type: 'boolean' }, html: { type: 'string' },
  });
  if (typeof parsed === 'number') {
    return parsed;
  }
  const { values } = parsed;
  const identity = !values.secret && !process.env.IVGW_DEVICE_SECRET && values.data ? loadIdentity(values.data) : undefined;
  const peers = Number(values.peers ?? 10);
  const o: LoadOptions = {
    broker: values.broker ?? 'mqtt://127.0.0.1:1883',
    device: values.device ?? identity?.id ?? process.env.IVGW_DEVICE_ID ?? 'ivgw-demo',
    secret: values.secret ?? identity?.secret ?? process.env.IVGW_DEVICE_SECRET ?? '',
    bind: values.bind ?? '127.0.0.1',
    peers,
    seconds: asSeconds(values.seconds, 30),
    rampPerS: Number(values.ramp ?? 20),
    workers: values.workers !== undefined ? Number(values.workers) : defaultWorkers(peers),
    mix: parseMix(values.mix ?? DEFAULT_MIX),
    channels: (values.channels ?? '0').split(',').map((c) => Number(c.trim())),
    stallSeconds: asSeconds(values['stall-seconds'], 8),
  };
  checkLoadOptions(o);
  return { o, json: values.json === true, html: values.html };
}

function bar(p: LoadProgress): string {
  const width = 24;
  const done = Math.round((p.elapsedS / Math.max(p.totalS, 0.001)) * width);
  return `[${'#'.repeat(done)}${'.'.repeat(width - done)}] ${p.elapsedS.toFixed(0)}/${p.totalS.toFixed(0)} s  apps ${p.connected}/${p.apps} connected, ` +
    `${p.firstFrames} with video  ${p.mbps.toFixed(1)} Mbit/s  latency p99 ${p.latencyP99 === null ? '–' : `${Math.round(p.latencyP99)} ms`}  errors ${p.errors}`;
}

function summary(r: LoadReport): string {
  const s = (name: string, x: { n: number; p50: number | null; p99: number | null; max: number | null }, unit: string): string =>
    `  ${name.padEnd(28)} n=${String(x.n).padEnd(7)} p50 ${x.p50 ?? '–'} ${unit}, p99 ${x.p99 ?? '–'} ${unit}, max ${x.max ?? '–'} ${unit}\n`;
  const t = r.totals;
  let out = `ivgw load: ${t.apps} apps (${Object.entries(r.perScenario).map(([k, v]) => `${k} ${v.apps}`).join(', ')}), ${r.options.workers} worker processes\n`;
  out += s('connect', r.connectMs, 'ms') + s('first frame after open', r.firstFrameMs, 'ms') + s('capture-to-receive latency', r.latencyMs, 'ms') +
    s('command round trip', r.commandRttMs, 'ms') + s('delivered rate per app', r.appKbps, 'kbit/s');
  out += `  apps connected ${t.appsConnected}/${t.apps}, sessions ${t.sessions} (connect retries ${t.connectRetries}), video frames ${t.videoFrames}, audio frames ${t.audioFrames}, voice frames sent ${t.voiceFrames}, commands ${t.commands}, playback rounds ${t.playbackRounds}\n`;
  out += `  errors ${t.errors}, integrity violations ${t.integrityViolations}, gaps ${t.gaps}, watermark resumes ${t.resumes} (${t.pauseGaps} with a jump; events ${t.watermarkEvents}), worker faults ${t.workerFaults}\n`;
  for (const p of r.problems.slice(0, 10)) {
    out += `  ! app ${p.app} (${p.scenario}) ${p.kind} ${p.code}: ${p.message}\n`;
  }
  for (const f of r.faults) {
    out += `  ! ${f}\n`;
  }
  out += r.verdict.ok ? '  PASS\n' : `  FAIL: ${r.verdict.problems.join('; ')}\n`;
  return out;
}

export async function loadCommand(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof options>;
  try {
    parsed = options(argv);
  } catch (err) {
    const e = err as { code?: string; message?: string };
    process.stderr.write(`ivgw load: ${isIvError(err) ? `${e.code}: ` : ''}${e.message ?? String(err)}\n${LOAD_USAGE}`);
    return 2;
  }
  if (typeof parsed === 'number') {
    return parsed;
  }
  const { o, json, html } = parsed;
  const tty = process.stderr.isTTY === true;
  let lastLine = 0;
  const run = new LoadRun(o, (p) => {
    if (tty) {
      process.stderr.write(`\r${bar(p)}\u001b[K`);
    } else if (Date.now() - lastLine >= 5_000) {
      lastLine = Date.now();
      process.stderr.write(`${bar(p)}\n`);
    }
  });
  const stop = (): void => {
    process.stderr.write('\nivgw load: stopping (apps close and report)\n');
    run.stop();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const report = await run.run();
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  if (tty) {
    process.stderr.write('\n');
  }
  if (html) {
    writeFileSync(html, renderLoadHtml(report));
  }
  process.stdout.write(json ? `${JSON.stringify(report)}\n` : `${summary(report)}${html ? `  report: ${html}\n` : ''}`);
  return report.verdict.ok ? 0 : 1;
}
