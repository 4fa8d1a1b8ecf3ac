/**
 * `ivgw probe` against files made by real ffmpeg: good files pass; B-frames, dropped
 * repeated headers and files cut mid-NAL fail with a code and a frame number.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SAMPLE, encodeClip, tempDir } from '../helpers/media.js';

const IVGW = fileURLToPath(new URL('../../../bin/ivgw.js', import.meta.url));

function probe(...args: string[]): { status: number; out: string } {
  const r = spawnSync(process.execPath, [IVGW, 'probe', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

test('good sample files pass and are described', (t) => {
  const r = probe(SAMPLE.h264, SAMPLE.h265, SAMPLE.aac, SAMPLE.g711a);
  t.is(r.status, 0, r.out);
  t.regex(r.out, /demo-h264\.h264: h264 OK 640x360 Main@3, 25 fps, GOP 50, 250 frames, 10\.00 s, \d+ kbit\/s, decode clean/);
  t.regex(r.out, /demo-h265\.h265: h265 OK 640x360 Main@[\d.]+, 25 fps \(assumed\), GOP 50, 250 frames/);
  t.regex(r.out, /demo-aac\.aac: aac OK 16000 Hz 1 ch, 158 frames/);
  t.regex(r.out, /demo-g711a\.alaw: g711a OK 8000 Hz 1 ch, 80 frames, 10\.24 s/);
});

test('files with B-frames fail with IV_ERR_AV_B_FRAME and the frame number', (t) => {
  const dir = tempDir(t);
  encodeClip(join(dir, 'b.h264'), 'h264', ['-bf', '2', '-g', '25']);
  encodeClip(join(dir, 'b.h265'), 'h265', ['-x265-params', 'bframes=3:log-level=error', '-g', '25']);
  for (const f of ['b.h264', 'b.h265']) {
    const r = probe(join(dir, f));
    t.is(r.status, 1, r.out);
    t.regex(r.out, /FAIL IV_ERR_AV_B_FRAME at frame \d+:/, f);
  }
});

test('a file encoded with repeated headers dropped fails with IV_ERR_AV_MISSING_PARAM_SETS', (t) => {
  const dir = tempDir(t);
  encodeClip(join(dir, 'noheaders.h264'), 'h264', ['-bf', '0', '-g', '25', '-x264-params', 'repeat-headers=0'], 3);
  const r = probe(join(dir, 'noheaders.h264'));
  t.is(r.status, 1);
  t.regex(r.out, /FAIL IV_ERR_AV_MISSING_PARAM_SETS at frame 0/);
});

test('files cut mid-NAL fail with a clear code (H.264 and H.265 video, ADTS audio)', (t) => {
  const dir = tempDir(t);
  const cuts: [string, Buffer, RegExp][] = [
    ['cut.h264', readFileSync(SAMPLE.h264).subarray(0, 150_000), /FAIL IV_ERR_AV_TRUNCATED at frame \d+: the decoder reports/],
    ['cut.h265', readFileSync(SAMPLE.h265).subarray(0, 150_000), /FAIL IV_ERR_AV_TRUNCATED at frame \d+: the decoder reports/],
    ['cut.aac', readFileSync(SAMPLE.aac).subarray(0, 20_000), /FAIL IV_ERR_AV_TRUNCATED at frame 99: last ADTS frame is cut/],
    ['cut.alaw', readFileSync(SAMPLE.g711a).subarray(0, 5_000), /FAIL IV_ERR_AV_BAD_AUDIO_FRAME at frame 4: 904 trailing bytes/],
  ];
  for (const [name, bytes, expected] of cuts) {
    writeFileSync(join(dir, name), bytes);
    const r = probe(join(dir, name));
    t.is(r.status, 1, `${name}: ${r.out}`);
    t.regex(r.out, expected, name);
  }
  // cut inside the first keyframe's SPS: caught without decoding
  writeFileSync(join(dir, 'cut-sps.h264'), readFileSync(SAMPLE.h264).subarray(0, 9));
  t.regex(probe('--decode', 'off', join(dir, 'cut-sps.h264')).out, /FAIL IV_ERR_AV_/);
});

test('bad usage exits 2 with a message', (t) => {
  t.is(probe().status, 2);
  t.is(probe('--type', 'vp9', SAMPLE.h264).status, 2);
});
