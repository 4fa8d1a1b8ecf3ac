/**
 * build-web — `npm run build:web`: bundles the browser client's page (client/browser/viewer.ts)
 * with esbuild for browsers into dist/www/viewer.js, next to index.html, for the gateway's
 * HTTP server to serve (`staticDir`). Fails when anything Node-only would end up in the
 * bundle (a `node:` import or a Node built-in).
 * Owns: the bundle's settings. Must never: write outside dist/www.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..'); // dist/bin → repo root
const src = join(root, 'client', 'browser');
const out = join(root, 'dist', 'www');

mkdirSync(out, { recursive: true });
const result = await build({
  entryPoints: [join(src, 'viewer.ts')],
  outfile: join(out, 'viewer.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome110', 'firefox115', 'safari16'],
  sourcemap: true,
  minify: true,
  metafile: true,
  logLevel: 'warning',
  // nothing Node-only may reach the browser: a node: import fails the build instead of being shimmed
  external: [],
  plugins: [{
    name: 'no-node',
    setup(b) {
      b.onResolve({ filter: /^node:|^(crypto|fs|net|tls|os|path|child_process|worker_threads|node-datachannel)$/ }, (args) => ({ errors: [{ text: `Node-only module ${args.path} imported by ${args.importer} is not allowed in the browser bundle` }] }));
    },
  }],
});
copyFileSync(join(src, 'index.html'), join(out, 'index.html'));
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
process.stdout.write(`build:web: dist/www/index.html + viewer.js (${(bytes / 1024).toFixed(0)} KiB with the source map)\n`);
