/**
 * run-config — what `ivgw run` runs: the config file's options (--config) or the demo's,
 * with the command-line flags on top.
 * Owns: that merge. Must never: start anything.
 */
import type { RunOptions } from './commands/run.js';
import { applyRunFlags, type RunFlags } from './run-flags.js';

export async function runOptions(flags: RunFlags): Promise<RunOptions | number> {
  const base: RunOptions = { seconds: undefined };
  return applyRunFlags(flags, base);
}
