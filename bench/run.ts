/**
 * run — `npm run bench -- <name> [--quick]`: runs bench/<name>.js, adds the machine
 * description, writes bench/results/<name>.json and prints a one-line JSON summary
 * as its last line, then exits: what a bench leaves running after its result (node-
 * datachannel's threads in ttff's in-process apps kept it alive for an hour, holding the
 * heavy-job lock) must not hold the machine.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describeMachine } from '../shared/machine.js';

export interface BenchOptions {
  quick: boolean;
}

const BENCHES = ['ring', 'mailbox', 'restart', 'mux', 'cloud', 'ttff', 'fanout', 'native', 'dtls-cert', 'metrics', 'footprint', 'browser', 'weak-network', 'ice-restart'] as const;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const name = args.find((a) => !a.startsWith('--'));
  if (name === undefined || !(BENCHES as readonly string[]).includes(name)) {
    process.stderr.write(`usage: npm run bench -- <${BENCHES.join('|')}> [--quick]\n`);
    process.exit(2);
  }
  const mod = (await import(`./${name}.js`)) as { run(opts: BenchOptions): Promise<Record<string, unknown>> };
  const started = performance.now();
  const result = await mod.run({ quick });
  const summary = { bench: name, quick, ...result, seconds: Math.round((performance.now() - started) / 100) / 10, machine: describeMachine() };
  const dir = fileURLToPath(new URL('../../bench/results/', import.meta.url));
  await mkdir(dir, { recursive: true });
  await writeFile(`${dir}${name}.json`, `${JSON.stringify(summary, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(summary)}\n`, () => process.exit(0));
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
