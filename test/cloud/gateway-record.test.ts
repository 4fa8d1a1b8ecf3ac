/**
 * `ivgw run` records every demo camera (H.264 + AAC and H.265 + G.711) full time into
 * its local recording and uploads to the embedded local-directory store; what reaches
 * the store decodes in ffmpeg with the codecs the cameras have.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeErrors, ffprobe, tempDir } from '../helpers/media.js';

const IVGW = fileURLToPath(new URL('../../../bin/ivgw.js', import.meta.url));

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

test('ivgw run --record: both cameras recorded, uploaded and playable; the spool is empty after a clean stop', async (t) => {
  const dir = tempDir(t);
  const proc = spawn(process.execPath, [IVGW, 'run', '--mqtt-port', '0', '--device', 'gw1', '--seconds', '7', '--record', dir, '--http', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => proc.on('exit', r));
  t.is(code, 0, out);
  t.regex(out, /recording every camera to/);
  const cloud = join(dir, 'cloud');
  const keys = walk(cloud).map((p) => relative(cloud, p).split(sep).join('/'));
  const expected = { 0: { video: 'h264', audio: 'aac' }, 1: { video: 'hevc', audio: 'pcm_s16le' } } as const;
  for (const [channel, codecs] of Object.entries(expected)) {
    const playlist = keys.find((k) => k.startsWith(`gw1/${channel}/`) && k.endsWith('index.m3u8'));
    t.truthy(playlist, `channel ${channel} has a playlist in the store`);
    const file = join(cloud, playlist as string);
    t.deepEqual(decodeErrors(file), [], `channel ${channel} decodes`);
    const probe = ffprobe(file);
    t.deepEqual(probe.streams.map((s) => s.codec_name).sort(), [codecs.audio, codecs.video].sort());
    const duration = Number(probe.format?.duration);
    t.true(duration >= 5 && duration <= 8, `channel ${channel}: ${duration} s recorded in a 7 s run`);
  }
  for (const ch of ['ch0', 'ch1']) {
    t.deepEqual(readdirSync(join(dir, 'local', ch, 'pending')), [], `${ch}: everything was confirmed by the store`);
  }
});
