/**
 * ivgw-main — the `ivgw` command: parses the sub-command and hands over to it.
 * Must never: do a sub-command's work itself (each lives in bin/commands/).
 */
import { parseArgs } from 'node:util';
import { probeCommand } from './commands/probe.js';
import { runCommand } from './commands/run.js';
import { tokenCommand } from './commands/token.js';

const USAGE = `usage: ivgw <command> [options]

commands:
  run [--seconds N]     run the gateway on embedded defaults (Ctrl-C stops it)
  probe <file...>       check camera elementary streams against the SDK's rules
  token --peer ID       mint an app access token (device id/secret from flags or env)
  help                  show this text
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run': {
      const { values } = parseArgs({ args: rest, options: { seconds: { type: 'string' } }, strict: true });
      const seconds = values.seconds === undefined ? undefined : Number(values.seconds);
      if (seconds !== undefined && (!Number.isFinite(seconds) || seconds <= 0)) {
        process.stderr.write(`ivgw run: --seconds must be a positive number, got ${values.seconds}\n`);
        return 2;
      }
      return runCommand({ seconds });
    }
    case 'probe':
      return probeCommand(rest);
    case 'token':
      return tokenCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`ivgw: unknown command ${JSON.stringify(command)}\n${USAGE}`);
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
