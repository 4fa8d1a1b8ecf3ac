/**
 * Objects written and uploaded in parts, never held whole: the local recording's
 * create() (the recorder streams a segment's fragments into it) shows nothing until
 * commit, then accepts the object as accept() does; abort leaves nothing; a write a
 * crash cut short leaves a temp file that the next open removes. An object opened from
 * the recording goes to a real S3 store (s3rver, Content-MD5 checked) and to a local
 * directory in 64 KiB parts and arrives byte for byte; a file shorter than it says
 * fails the put with IV_ERR_CS_STORE and stores nothing under the key.
 */
import test from 'ava';
import { readdirSync } from 'node:fs';
import { open as openFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LocalDirStore } from '../../actors/cloud/local-dir-store.js';
import { BODY_CHUNK_BYTES } from '../../actors/cloud/object-store.js';
import { S3Store } from '../../actors/cloud/s3-store.js';
import { RecordingStore } from '../../recording/recording-store.js';
import { IvError } from '../../runtime/errors.js';
import { tempDir } from '../helpers/media.js';
import { startS3 } from '../helpers/s3.js';

/** Every file name under `dir`, recursively. */
function namesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name);
}

const pattern = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

test('create(): nothing shows before commit; commit accepts the parts as one object; abort leaves nothing', async (t) => {
  const root = tempDir(t);
  const rec = await RecordingStore.open(root);
  const parts = [pattern(70_000, 1), pattern(3, 2), pattern(130_001, 3)];
  const w = await rec.create('dev/ch0/seg-0.m4s');
  for (const p of parts) {
    await w.write(p);
  }
  t.deepEqual(await rec.list(), [], 'an object being written is not listed');
  t.false(rec.isPending('dev/ch0/seg-0.m4s'), 'nor queued for upload');
  await w.commit();
  t.deepEqual(Buffer.from(await rec.read('dev/ch0/seg-0.m4s')), Buffer.concat(parts));
  t.deepEqual([...rec.pendingEntries()].map((e) => [e.key, e.bytes]), [['dev/ch0/seg-0.m4s', 200_004]]);

  const dropped = await rec.create('dev/ch0/seg-1.m4s');
  await dropped.write(pattern(1000, 4));
  await dropped.abort();
  t.deepEqual(await rec.list(), ['dev/ch0/seg-0.m4s']);
  t.false(namesUnder(root).some((n) => n.endsWith('.tmp')), 'no temp file after an abort');
});

test('a write cut short by a crash leaves only a temp file, which the next open removes', async (t) => {
  const root = tempDir(t);
  const rec = await RecordingStore.open(root);
  await rec.accept('dev/ch0/init.mp4', pattern(100, 5));
  const w = await rec.create('dev/ch0/seg-0.m4s');
  await w.write(pattern(50_000, 6)); // the process dies here: no commit, no abort
  t.true(namesUnder(root).some((n) => n.endsWith('.tmp')));
  const again = await RecordingStore.open(root);
  t.false(namesUnder(root).some((n) => n.endsWith('.tmp')), 'the temp file is gone');
  t.deepEqual(await again.list(), ['dev/ch0/init.mp4'], 'the cut-short object never appears');
  t.deepEqual([...again.pendingEntries()].map((e) => e.key), ['dev/ch0/init.mp4'], 'what was accepted is still pending');
  await w.abort(); // the dead process's handle, closed here
});

test('an object opened from the recording is stored in parts to S3 and to a local directory, byte for byte; a short file stores nothing', async (t) => {
  const s3 = await startS3();
  t.teardown(() => s3.close());
  const rec = await RecordingStore.open(tempDir(t));
  const bytes = pattern(5 * BODY_CHUNK_BYTES + 1234, 7); // five whole parts and a piece
  await rec.accept('dev/ch0/seg-0.m4s', bytes);
  const stores = [new S3Store(s3.config), new LocalDirStore(tempDir(t))];
  for (const store of stores) {
    const obj = await rec.openObject('dev/ch0/seg-0.m4s');
    try {
      t.is(obj.size, bytes.byteLength);
      await store.put('dev/ch0/seg-0.m4s', obj, 'video/iso.segment', 10_000);
    } finally {
      await obj.file.close();
    }
    t.deepEqual(Buffer.from((await store.get('dev/ch0/seg-0.m4s', 10_000)) ?? new Uint8Array(0)), Buffer.from(bytes), store.description);
  }

  const short = join(tempDir(t), 'short');
  await writeFile(short, pattern(100_000, 8));
  for (const store of stores) {
    const file = await openFile(short, 'r');
    try {
      const err = await t.throwsAsync(store.put('dev/ch0/short.m4s', { file, size: 100_010 }, 'video/iso.segment', 10_000));
      t.regex(err?.message ?? '', /ended at 100000 of its 100010 bytes/, store.description);
      t.true(err instanceof IvError && err.code === 'IV_ERR_CS_STORE', `${store.description}: ${String(err)}`);
    } finally {
      await file.close();
    }
    t.is(await store.get('dev/ch0/short.m4s', 10_000), undefined, `${store.description}: nothing under the key`);
  }
});
