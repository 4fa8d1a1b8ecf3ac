/**
 * logger — the gateway's structured log (pino): one record per thing that happened,
 * with fields, never a secret.
 *
 * Owns: the pino instance of a gateway (JSON lines when the output is not a terminal,
 * readable `HH:MM:SS.mmm LEVEL [component] message key=value` lines on a terminal), the
 * level (`--log-level`), and redaction: any field named token, secret, password,
 * authorization or key material is written as `[redacted]` at any depth we log, and a
 * URL's password in the message or any string field as `***` (runtime/redact.ts).
 * Must never: write a token or the device secret held in a field (message text is the
 * caller's: `ivgw run` prints the demo's own app token so on purpose), or block the
 * event loop on a slow terminal for more than a line (pino's synchronous destination).
 */
import { Writable } from 'node:stream';
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';
import { redactDeep } from '../runtime/redact.js';

export type { Logger };

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const satisfies readonly LevelWithSilent[];
export type LogLevel = (typeof LOG_LEVELS)[number];

const SECRET_KEYS = ['token', 'secret', 'password', 'authorization', 'keyPem', 'privateKey'];
const REDACT = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** Turns pino's JSON lines into one readable line each (for a terminal). */
export function prettyLine(json: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const { level, time, msg, component, pid: _pid, hostname: _host, ...rest } = rec;
  const at = new Date(typeof time === 'number' ? time : Date.now()).toISOString().slice(11, 23);
  const text = String(msg ?? '');
  // a field the message already says in words is left out of the readable line
  const fields = Object.entries(rest).filter(([, v]) => !(typeof v === 'string' || typeof v === 'number') || !text.includes(String(v))).map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`).join(' ');
  const name = LEVEL_NAMES[level as number] ?? String(level);
  return `${at} ${name.padEnd(5)} ${component ? `[${String(component)}] ` : ''}${text}${fields ? ` ${fields}` : ''}`;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Readable lines instead of JSON (default: when stdout is a terminal). */
  pretty?: boolean;
  /** Where lines go (default stdout). */
  destination?: NodeJS.WritableStream;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const out = opts.destination ?? process.stdout;
  const pretty = opts.pretty ?? (out as { isTTY?: boolean }).isTTY === true;
  const stream = pretty
    ? new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n')) {
          if (line) {
            out.write(`${prettyLine(line)}\n`);
          }
        }
        done();
      },
    })
    : out;
  return pino({
    level: opts.level ?? 'info',
    base: null,
    redact: { paths: REDACT, censor: '[redacted]' },
    formatters: { level: (_label, number) => ({ level: number }) },
    hooks: {
      logMethod(args, method) {
        return method.apply(this, redactDeep<typeof args>(args));
      },
    },
  }, stream as DestinationStream);
}
