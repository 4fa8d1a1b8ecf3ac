#!/usr/bin/env node
// ivgw — command-line entry. Limits the C allocator to one malloc arena per core (before any
// thread starts), builds the TypeScript once if dist/ is missing, then runs dist/bin/ivgw-main.js.
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

// Before any thread takes a malloc arena: at most one per core (glibc makes up to 8 per
// core, each keeping its own high-water mark). MALLOC_ARENA_MAX in the environment wins.
if (!process.env.MALLOC_ARENA_MAX) {
  try {
    createRequire(import.meta.url)(fileURLToPath(new URL('../native/build/Release/iv_mem.node', import.meta.url))).limitArenas(Math.max(2, availableParallelism()));
  } catch {
    // the addon is not built (or not glibc): glibc's own limit
  }
}

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
