/**
 * ivgw-main — the `ivgw` command: parses the sub-command and hands over to it.
 * Must never: do a sub-command's work itself (each lives in bin/commands/).
 */
import { parseArgs } from 'node:util';
import { probeCommand } from './commands/probe.js';
import { runCommand, type RunOptions } from './commands/run.js';
import { checkWatermarks } from '../actors/p2p/watermark.js';
import { tokenCommand } from './commands/token.js';

const USAGE = `usage: ivgw <command> [options]

commands:
  run [--seconds N] [--device ID] [--secret S] [--mqtt-port P | --broker URL]
      [--ice-bind ADDR] [--watermarks LOW,WARN,HIGH]
                        run the gateway on embedded defaults (Ctrl-C stops it)
  probe <file...>       check camera elementary streams against the SDK's rules
  token --peer ID       mint an app access token (device id/secret from flags or env)
  help                  show this text
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run': {
      const { values } = parseArgs({
        args: rest,
        strict: true,
        options: { seconds: { type: 'string' }, device: { type: 'string' }, secret: { type: 'string' }, 'mqtt-port': { type: 'string' }, broker: { type: 'string' }, 'ice-bind': { type: 'string' }, watermarks: { type: 'string' } },
      });
      const num = (name: string, raw: string | undefined, min: number): number | undefined | null => {
        if (raw === undefined) {
          return undefined;
        }
        const n = Number(raw);
        if (!Number.isFinite(n) || n < min) {
          process.stderr.write(`ivgw run: --${name} must be a number >= ${min}, got ${raw}\n`);
          return null;
        }
        return n;
      };
      const seconds = num('seconds', values.seconds, 0.001);
      const mqttPort = num('mqtt-port', values['mqtt-port'], 0);
      if (seconds === null || mqttPort === null) {
        return 2;
      }
      const opts: RunOptions = { seconds };
      if (values.device) opts.deviceId = values.device;
      if (values.secret) opts.secret = values.secret;
      if (mqttPort !== undefined) opts.mqttPort = mqttPort;
      if (values.broker) opts.broker = values.broker;
      if (values['ice-bind']) opts.iceBind = values['ice-bind'];
      if (values.watermarks) {
        const [low, warn, high] = values.watermarks.split(',').map(Number);
        const w = { low: low ?? NaN, warn: warn ?? NaN, high: high ?? NaN };
        const problem = checkWatermarks(w);
        if (problem) {
          process.stderr.write(`ivgw run: --watermarks low,warn,high: ${problem.field}: ${problem.message}\n`);
          return 2;
        }
        opts.watermarks = w;
      }
      return runCommand(opts);
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
