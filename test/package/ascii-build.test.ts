/**
 * The build writes the emitted JavaScript as ASCII (bin/build-ascii.ts): V8 holds each
 * loaded module's source in every isolate that imports it, two bytes a character when
 * one character is outside Latin-1. Every module under dist/ (not the browser bundle) is
 * ASCII, and text a user reads still says what the source says: an error message whose
 * source holds an ellipsis reads the same after the rewrite.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jsFiles } from '../../bin/build-ascii.js';
import { pinProblem } from '../../shared/protocol/fingerprint-pin.js';

const DIST = fileURLToPath(new URL('../../', import.meta.url));

test('every emitted module is ASCII, so V8 keeps its source one byte a character', (t) => {
  const files = jsFiles();
  t.true(!files.some((f) => f.startsWith(join(DIST, 'www'))), 'the browser bundle is not among them');
  t.true(files.length > 100, `found ${files.length} modules under dist/`);
  const wide = files.filter((f) => /[\u0080-\uffff]/.test(readFileSync(f, 'utf8')));
  t.deepEqual(wide, []);
  // the rewrite happened: a module whose source has an ellipsis holds its escape
  t.true(readFileSync(join(DIST, 'shared', 'protocol', 'fingerprint-pin.js'), 'utf8').includes('\\u2026'));
});

test('a message with a non-ASCII character reads the same after the rewrite', (t) => {
  t.is(pinProblem('v=0', 'nonsense'), 'the pinned fingerprint is not "sha-256 XX:XX:\u2026": "nonsense"');
});
