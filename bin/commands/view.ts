/**
 * view — `ivgw view`: one app watching one stream of a device, saved to a file.
 *   ivgw view --broker URL --device ID --peer P --token T [--channel N] [--seconds S]
 *             [--out f.flv] [--bind ADDR] [--json]
 * Prints connect time, first-frame time, received rate, frames, gaps and integrity
 * violations; exits 1 when anything arrived broken.
 */
import { writeFileSync } from 'node:fs';
import { durationFlag, parseCommand, usageError } from '../cli.js';
import { AppClient } from '../../client/app-client.js';

export async function viewCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand('view', argv, {
    broker: { type: 'string' }, device: { type: 'string' }, peer: { type: 'string' }, token: { type: 'string' }, fingerprint: { type: 'string' },
    channel: { type: 'string' }, seconds: { type: 'string' }, out: { type: 'string' }, bind: { type: 'string' }, json: { type: 'boolean' },
  });
  if (typeof parsed === 'number') {
    return parsed;
  }
  const { values } = parsed;
  const missing = (['broker', 'device', 'peer', 'token'] as const).filter((k) => !values[k]);
  if (missing.length > 0) {
    return usageError('view', `missing --${missing.join(', --')}`);
  }
  const channel = Number(values.channel ?? 0);
  const secondsFlag = durationFlag('view', 'seconds', values.seconds);
  if (secondsFlag === null) {
    return 2;
  }
  const seconds = secondsFlag ?? 5;
  if (!Number.isInteger(channel) || channel < 0) {
    process.stderr.write('ivgw view: --channel must be an integer >= 0\n');
    return 2;
  }
  const started = performance.now();
  const client = await AppClient.connect({
    url: values.broker as string,
    deviceId: values.device as string,
    peerId: values.peer as string,
    token: values.token as string,
    bindAddress: values.bind ?? '127.0.0.1',
    ...(values.fingerprint ? { fingerprint: values.fingerprint } : {}),
  });
  const connectMs = performance.now() - started;
  const receiver = await client.open(`action=live&channel=${channel}`, { record: values.out !== undefined });
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const s = receiver.stats;
  const report = {
    device: values.device,
    channel,
    connectMs: Math.round(connectMs * 10) / 10,
    firstFrameMs: Math.round(s.firstFrameMs * 10) / 10,
    timeToFirstFrameMs: Math.round((connectMs + s.firstFrameMs) * 10) / 10,
    /** performance.now() counts from process start: this includes loading the command. */
    fromProcessStartMs: Math.round((started + connectMs + s.firstFrameMs) * 10) / 10,
    seconds,
    bytes: s.bytes,
    kbps: Math.round((s.bytes * 8) / seconds / 1000),
    videoFrames: s.videoFrames,
    audioFrames: s.audioFrames,
    keyframes: s.keyframes,
    gaps: s.gaps,
    violations: s.violations,
    out: values.out,
  };
  if (values.out) {
    writeFileSync(values.out, receiver.recorded());
  }
  client.close();
  process.stdout.write(values.json ? `${JSON.stringify(report)}\n`
    : `ivgw view: connected in ${report.connectMs} ms, first frame ${report.firstFrameMs} ms after open (${report.timeToFirstFrameMs} ms from start); ` +
      `${report.videoFrames} video + ${report.audioFrames} audio frames, ${report.kbps} kbit/s, ${report.gaps} gaps, ${report.violations.length} violations${values.out ? `; saved ${values.out}` : ''}\n`);
  return report.violations.length === 0 && report.videoFrames > 0 ? 0 : 1;
}
