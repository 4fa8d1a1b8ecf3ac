/**
 * ivgw-main — the `ivgw` command: parses the sub-command and hands over to it.
 * Must never: do a sub-command's work itself (each lives in bin/commands/), or import a
 * command module statically: `view` loads node-datachannel, which must never be loaded
 * in the main thread of a process whose p2p worker loads it too (`run`).
 */
import { parseCommand, version } from './cli.js';
import { RUN_FLAGS } from './run-flags.js';
import { MAIN_USAGE } from './usage.js';

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run': {
      const dashes = rest.indexOf('--'); // `--firmware PATH -- args`: what follows -- is the firmware's argv
      const parsed = parseCommand('run', dashes < 0 ? rest : rest.slice(0, dashes), RUN_FLAGS);
      if (typeof parsed === 'number') {
        return parsed;
      }
      const opts = await (await import('./run-config.js')).runOptions(parsed.values, dashes < 0 ? [] : rest.slice(dashes + 1));
      if (typeof opts === 'number') {
        return opts;
      }
      const code = await (await import('./commands/run.js')).runCommand(opts);
      // everything was stopped in order; a client still reconnecting must not keep the process
      setTimeout(() => process.exit(code), 2_000).unref();
      return code;
    }
    case 'init':
      return (await import('./commands/init.js')).initCommand(rest);
    case 'probe':
      return (await import('./commands/probe.js')).probeCommand(rest);
    case 'token':
      return (await import('./commands/token.js')).tokenCommand(rest);
    case 'view': {
      // node-datachannel's native teardown at exit is unreliable: leave right after the report
      const code = await (await import('./commands/view.js')).viewCommand(rest).catch((err: unknown) => {
        const e = err as { code?: string; message?: string };
        process.stderr.write(`ivgw view: ${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}\n`);
        return 1;
      });
      await new Promise((r) => setTimeout(r, 200));
      return process.exit(code);
    }
    case 'load':
      return (await import('./commands/load.js')).loadCommand(rest);
    case '--version':
    case '-V':
    case 'version':
      process.stdout.write(`${version()}\n`);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      (command === undefined ? process.stderr : process.stdout).write(MAIN_USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`ivgw: unknown command ${JSON.stringify(command)}\n${MAIN_USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const e = err as { code?: string; message?: string };
    process.stderr.write(`ivgw: ${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
