/**
 * No data lost: a recording device is killed with SIGKILL in the middle of uploads
 * and while the S3 store (s3rver) is down, restarted each time on the same spool;
 * at the end every segment it accepted is in the store exactly once, byte for byte,
 * and every recorded session decodes in ffmpeg.
 */
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { S3Store } from '../../actors/cloud/s3-store.js';
import { sleep } from '../helpers/cloud.js';
import { decodeErrors, tempDir } from '../helpers/media.js';
import { startS3 } from '../helpers/s3.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/cloud-device.js', import.meta.url));

interface Device {
  child: ChildProcess;
  lines: unknown[];
  ready: Promise<void>;
  exited: Promise<number | null>;
}

function startDevice(args: unknown): Device {
  const child = spawn(process.execPath, [FIXTURE, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: unknown[] = [];
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => (onReady = r));
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (l) => {
    const msg = JSON.parse(l) as { ready?: boolean };
    lines.push(msg);
    if (msg.ready) {onReady();}
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, lines, ready, exited };
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

test('SIGKILL mid-upload and during a store outage loses no accepted segment; each is stored exactly once and plays', async (t) => {
  const s3 = await startS3();
  t.teardown(() => s3.close());
  const store = new S3Store(s3.config);
  await store.put('dev1/plan.json', new TextEncoder().encode(JSON.stringify({ fullTime: { enabled: true } })), 'application/json', 5_000);
  const spoolDir = join(tempDir(t), 'spool');
  const args = { store: s3.config, spoolDir };
  const running: Device[] = [];
  t.teardown(() => running.forEach((d) => d.child.kill('SIGKILL')));

  // 1 and 2: killed while uploading, at different points of the segment cycle (each after its
  // first 2 s segment was accepted, with a margin for a loaded machine: one session per run)
  const moments = [2_600 + Math.round(Math.random() * 2_400), 4_700];
  t.log(`SIGKILL after ${moments.join(' ms and ')} ms of recording`);
  for (const ms of moments) {
    const d = startDevice(args);
    running.push(d);
    await d.ready;
    await sleep(ms);
    d.child.kill('SIGKILL');
    await d.exited;
  }
  // 3: the store goes down, the device keeps recording into its spool, then dies
  await s3.stop();
  const down = startDevice(args);
  running.push(down);
  await down.ready;
  await sleep(4_500);
  down.child.kill('SIGKILL');
  await down.exited;
  const spooledWhileDown = walk(join(spoolDir, "pending")).length;
  t.true(spooledWhileDown >= 2, `${spooledWhileDown} objects were waiting in the spool`);
  // 4: the store is back; a new run uploads what earlier runs accepted, then exits cleanly
  await s3.start();
  const last = startDevice(args);
  running.push(last);
  await last.ready;
  await sleep(2_500);
  last.child.kill('SIGTERM');
  t.is(await last.exited, 0);
  t.true(last.lines.some((l) => (l as { exited?: boolean }).exited));

  const objects = join(spoolDir, 'objects');
  const accepted = walk(objects).map((p) => relative(objects, p).split(sep).join('/'));
  const media = accepted.filter((k) => k.endsWith('.m4s') || k.endsWith('init.mp4'));
  t.deepEqual(walk(join(spoolDir, 'pending')), [], 'nothing is left pending');
  const stored = (await store.list('dev1/0/', 10_000)).filter((k) => k.endsWith('.m4s') || k.endsWith('init.mp4'));
  t.deepEqual(stored, [...media].sort(), 'the store holds exactly the accepted segments, each once');
  for (const k of (await store.list('dev1/0/', 10_000)).filter((x) => x.endsWith('index.m3u8'))) {
    const text = new TextDecoder().decode(await store.get(k, 10_000));
    t.true(text.includes('#EXT-X-ENDLIST'), `${k}: a session cut short by SIGKILL was ended at the next start`);
  }
  const sessions = new Set(media.map((k) => k.split('/').slice(0, -1).join('/')));
  t.true(sessions.size >= 4, `${sessions.size} sessions (one per run)`);
  const out = tempDir(t);
  let decoded = 0;
  for (const dir of sessions) {
    const segs = media.filter((k) => k.startsWith(`${dir}/seg-`)).sort();
    const parts = [`${dir}/init.mp4`, ...segs];
    const bytes: Buffer[] = [];
    for (const k of parts) {
      const got = await store.get(k, 10_000);
      t.truthy(got, `${k} in the store`);
      t.deepEqual(new Uint8Array(got as Uint8Array), new Uint8Array(readFileSync(join(objects, k))), `${k}: stored bytes are the accepted bytes`);
      bytes.push(Buffer.from(got as Uint8Array));
    }
    if (segs.length === 0) {
      continue; // killed before its first segment was complete: only the init segment was accepted
    }
    decoded++;
    const file = join(out, `${dir.replaceAll('/', '_')}.mp4`);
    writeFileSync(file, Buffer.concat(bytes));
    t.deepEqual(decodeErrors(file), [], `${dir} (${segs.length} segments) decodes`);
  }
  t.true(decoded >= 3, `${decoded} sessions with segments decoded`);
});
