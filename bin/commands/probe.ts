/**
 * probe — `ivgw probe <file...>`: checks camera elementary streams against the SDK's
 * rules; prints one line per file; exits 1 on the first file with a violation.
 */
import { parseCommand } from '../cli.js';
import { USAGES } from '../usage.js';
import { formatReport, probeFile, type ProbeKind, type ProbeOptions } from '../../media/probe.js';

const KINDS = ['h264', 'h265', 'aac', 'g711a', 'g711u', 'pcm'];

export function probeCommand(argv: string[]): number {
  const parsed = parseCommand('probe', argv, { type: { type: 'string' }, rate: { type: 'string' }, channels: { type: 'string' }, fps: { type: 'string' }, decode: { type: 'string' }, json: { type: 'boolean' } }, true);
  if (typeof parsed === 'number') {
    return parsed;
  }
  const { values, positionals } = parsed;
  if (positionals.length === 0) {
    process.stderr.write(USAGES.probe);
    return 2;
  }
  const opts: ProbeOptions = {};
  if (values.type !== undefined) {
    if (!KINDS.includes(values.type)) {
      process.stderr.write(`ivgw probe: --type must be one of ${KINDS.join(', ')}\n`);
      return 2;
    }
    opts.kind = values.type as ProbeKind;
  }
  for (const [key, raw] of [['sampleRate', values.rate], ['fps', values.fps]] as const) {
    if (raw !== undefined) {
      const n = Number(raw);
      if (!Number.isFinite(n) || n <= 0) {
        process.stderr.write(`ivgw probe: --${key === 'sampleRate' ? 'rate' : 'fps'} must be a positive number\n`);
        return 2;
      }
      opts[key] = n;
    }
  }
  if (values.channels !== undefined) {
    if (values.channels !== '1' && values.channels !== '2') {
      process.stderr.write('ivgw probe: --channels must be 1 or 2\n');
      return 2;
    }
    opts.channels = Number(values.channels) as 1 | 2;
  }
  if (values.decode !== undefined) {
    if (!['auto', 'on', 'off'].includes(values.decode)) {
      process.stderr.write('ivgw probe: --decode must be auto, on or off\n');
      return 2;
    }
    opts.decode = values.decode as 'auto' | 'on' | 'off';
  }
  let status = 0;
  for (const file of positionals) {
    let line: string;
    try {
      const report = probeFile(file, opts);
      line = values.json ? JSON.stringify(report) : formatReport(report);
      if (!report.ok) {
        status = 1;
      }
    } catch (err) {
      line = `${file}: FAIL ${(err as { code?: string }).code ?? 'IV_ERR_INVALID_PARAM'}: ${(err as Error).message}`;
      status = 1;
    }
    process.stdout.write(`${line}\n`);
  }
  return status;
}
