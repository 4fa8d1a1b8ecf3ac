/**
 * cli — the manners every `ivgw` sub-command shares: `--help`/`-h` prints the command's own
 * usage (exit 0), an unknown or malformed flag prints the problem and that usage (exit 2),
 * `ivgw --version`. Usage texts live in usage.ts so the dispatcher can print them without
 * loading a command module.
 * Owns: flag parsing conventions. Must never: do a command's work.
 */
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parseDuration, DURATION_HINT } from '../gateway/config/duration.js';
import { USAGES, type CommandName } from './usage.js';

type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed<O extends Options> {
  values: ReturnType<typeof parseArgs<{ options: O; allowPositionals: true; strict: true }>>['values'];
  positionals: string[];
}

/** Parsed flags, or the exit code when the command should end now (help shown: 0, bad usage: 2). */
export function parseCommand<O extends Options>(command: CommandName, argv: string[], options: O, allowPositionals = false): Parsed<O> | number {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGES[command]);
    return 0;
  }
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    if (!allowPositionals && positionals.length > 0) {
      return usageError(command, `unexpected argument ${JSON.stringify(positionals[0])}`);
    }
    return { values, positionals };
  } catch (err) {
    const message = (err as Error).message.split('\n')[0] ?? String(err);
    return usageError(command, message.replace(/\. To specify a positional argument.*$/, ''));
  }
}

/** Print `ivgw CMD: problem` and the command's usage on stderr; returns 2. */
export function usageError(command: CommandName, problem: string): number {
  process.stderr.write(`ivgw ${command}: ${problem}\n${USAGES[command]}`);
  return 2;
}

/** A duration flag in seconds (undefined when absent, null after printing the problem). */
export function durationFlag(command: CommandName, name: string, raw: string | undefined): number | undefined | null {
  if (raw === undefined) {
    return undefined;
  }
  const s = parseDuration(raw);
  if (s === undefined || s <= 0) {
    process.stderr.write(`ivgw ${command}: --${name} must be ${DURATION_HINT}, more than 0, got ${JSON.stringify(raw)}\n`);
    return null;
  }
  return s;
}

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name: string; version: string };
  return `${pkg.name} ${pkg.version} (ivgw), node ${process.version}`;
}
