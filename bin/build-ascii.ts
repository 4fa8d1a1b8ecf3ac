/**
 * build-ascii — the step of `npm run build` after tsc: rewrites every character above
 * U+007F in the emitted JavaScript (dist/, not the browser bundle) as a `\uXXXX` escape.
 * V8 keeps each loaded module's source text in every isolate that imports it, as a
 * one-byte string when every character fits in Latin-1 and as a two-byte string
 * otherwise; one em dash in a header comment doubles what that module's source costs
 * in every worker. An escape means the same thing wherever it can stand in a module
 * (string, template and regular-expression literals, identifiers; in a comment it is
 * text), so the program is unchanged; String.raw templates are the exception, and
 * the build fails if one holds such a character. Source-map columns after an escaped
 * character on the same line shift by five per character (comments, mostly).
 * Owns: that rewrite, and which files it covers (`jsFiles`, which the test reads too).
 * Must never: touch a file outside dist/, the browser bundle (dist/www) or the declaration
 * files; rewrite anything when imported rather than run.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..'); // dist/bin → dist

/** Every .js file under `dir` (default dist/), except the browser bundle's directory. */
export function jsFiles(dir = dist): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (p !== join(dist, 'www')) {
        out.push(...jsFiles(p));
      }
    } else if (e.name.endsWith('.js')) {
      out.push(p);
    }
  }
  return out;
}

/** `text` with every UTF-16 unit above U+007F written as `\uXXXX`. */
function escapeNonAscii(text: string): string {
  return text.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Rewrites every module under dist/ that holds a non-ASCII character; returns how many. */
function rewriteAll(): number {
  let rewritten = 0;
  for (const file of jsFiles()) {
    const text = readFileSync(file, 'utf8');
    if (!/[\u0080-\uffff]/.test(text)) {
      continue;
    }
    if (/String\.raw`[^`]*[\u0080-\uffff]/.test(text)) {
      throw new Error(`${file}: a String.raw template holds a non-ASCII character; an escape would change it`);
    }
    writeFileSync(file, escapeNonAscii(text));
    rewritten++;
  }
  return rewritten;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(`build-ascii: ${rewriteAll()} modules rewritten as ASCII\n`);
}
