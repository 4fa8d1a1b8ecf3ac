/**
 * run-config — what `ivgw run` runs: the config file's options (--config) or the demo's,
 * with the command-line flags on top. A config with problems prints every one of them,
 * each at its path, and exits 2.
 * Owns: reading the file for the CLI (the mapping itself is gateway/config/to-options.ts).
 * Must never: start anything.
 */
import type { RunOptions } from './commands/run.js';
import { ConfigError, loadConfig } from '../gateway/config/load.js';
import type { GatewayConfig } from '../gateway/config/schema.js';
import { gatewayOptions } from '../gateway/config/to-options.js';
import { applyRunFlags, type RunFlags } from './run-flags.js';

/** The config's gateway options plus what only the CLI uses (logging). */
export function optionsFromConfig(c: GatewayConfig): RunOptions {
  return { ...gatewayOptions(c), seconds: undefined, fromConfig: true, logLevel: c.logging.level, logFormat: c.logging.format };
}

/** Print a config's problems (all of them) and return 2, or the options. */
export function configOptions(file: string): RunOptions | number {
  try {
    return optionsFromConfig(loadConfig(file));
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`ivgw: config ${err.message}\n`);
      return 2;
    }
    const e = err as NodeJS.ErrnoException;
    process.stderr.write(`ivgw: config ${file}: ${e.code === 'ENOENT' ? `a file it names does not exist: ${e.path ?? ''}` : e.message}\n`);
    return 2;
  }
}

export async function runOptions(flags: RunFlags, firmwareArgs: string[] = []): Promise<RunOptions | number> {
  const base = flags.config !== undefined ? configOptions(flags.config) : { seconds: undefined };
  if (typeof base === 'number') {
    return base;
  }
  return applyRunFlags(flags, base, firmwareArgs);
}
