#!/usr/bin/env node
// ivgw — command-line entry. Builds the TypeScript once if dist/ is missing, then runs dist/bin/ivgw-main.js.
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const entry = new URL('../dist/bin/ivgw-main.js', import.meta.url);
if (!existsSync(entry)) {
  let tsc;
  try {
    tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  } catch {
    process.stderr.write('ivgw: dist/ is missing and TypeScript is not installed; run `npm ci && npm run build`\n');
    process.exit(1);
  }
  process.stderr.write('ivgw: building (first run)...\n');
  execFileSync(process.execPath, [tsc, '-p', root], { stdio: 'inherit' });
}
await import(entry.href);
