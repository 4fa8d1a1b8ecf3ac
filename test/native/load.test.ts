/**
 * Loading a firmware: the iv_* symbols resolve at load (built with nothing but gcc
 * -shared -fPIC -I native/include), a missing symbol or entry point is refused with
 * dlopen's reason at start, and iv_firmware_main's return value is the exit code.
 */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/media.js';
import { buildFirmware, runFirmware } from './firmware.js';

function firmware(dir: string, name: string, src: string): string {
  const file = join(dir, `${name}.c`);
  writeFileSync(file, src);
  return buildFirmware(file, dir, name, true);
}

test('iv_firmware_main gets argv (the library path first) on its own thread and its return value is the exit code', async (t) => {
  const dir = tempDir(t);
  const fw = firmware(dir, 'argv', `#include <stdio.h>
#include <string.h>
#include "iv_av.h"
int iv_firmware_main(int argc, char **argv) {
  printf("fw: argc=%d last=%s set=%d\\n", argc, argv[argc - 1], iv_avt_p2p_set_buf_watermark(1, 2, 3));
  fflush(stdout);
  return argc == 3 && strcmp(argv[1], "a b") == 0 ? 7 : 1;
}
`);
  const gw = runFirmware(fw, ['a b', 'c'], { asan: false });
  t.is(await gw.exited, 7);
  t.true(gw.fw().includes('argc=3 last=c set=0'), gw.lines.join('\n'));
});

test('a firmware that needs a symbol the runtime does not have, or has no iv_firmware_main, is refused at start with the reason', async (t) => {
  const dir = tempDir(t);
  const missing = firmware(dir, 'missing', `int iv_no_such_function(void);
int iv_firmware_main(int argc, char **argv) { (void)argc; (void)argv; return iv_no_such_function(); }
`);
  const a = runFirmware(missing, [], { asan: false });
  t.is(await a.exited, 1);
  t.regex(a.stderr(), /undefined symbol: iv_no_such_function/);
  const noEntry = firmware(dir, 'noentry', 'int something(void) { return 0; }\n');
  const b = runFirmware(noEntry, [], { asan: false });
  t.is(await b.exited, 1);
  t.regex(b.stderr(), /no int iv_firmware_main/);
});
