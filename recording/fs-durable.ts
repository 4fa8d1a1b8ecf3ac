/**
 * fs-durable — the file-system steps durability rests on: fsync a directory (so a
 * rename or unlink survives a crash) and write a file atomically (temp + fsync + rename
 * + directory fsync), whole (`writeFileDurable`) or in parts as they come
 * (`openDurable`: the recorder streams a segment's fragments into it, so a segment is
 * never held whole in memory).
 * Temporary files are `<path>.<8 hex>.tmp` (`isTempName`): a crash leaves them behind,
 * never under the final name.
 * Must never: report success before the data and the directory entry are on disk, or
 * make a file visible under its name before all of it was written.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** A file being written under a temporary name; `commit` makes it durable under its own. */
export interface DurableFile {
  /** Bytes written so far. */
  readonly bytes: number;
  /** Append `data` (in order; one write at a time). */
  write(data: Uint8Array): Promise<void>;
  /** fsync, rename over the path, fsync the directory. */
  commit(): Promise<void>;
  /** Drop the temporary file (nothing appears under the path). */
  abort(): Promise<void>;
}

const TEMP_NAME = /\.[0-9a-f]{8}\.tmp$/;

/** True for the temporary name of an unfinished write. */
export function isTempName(name: string): boolean {
  return TEMP_NAME.test(name);
}

export async function openDurable(path: string): Promise<DurableFile> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  const fh: FileHandle = await open(tmp, 'w');
  let bytes = 0;
  let done = false;
  const finish = async (): Promise<void> => {
    if (!done) {
      done = true;
      await fh.close();
    }
  };
  return {
    get bytes() {
      return bytes;
    },
    async write(data) {
      if (done) {
        throw new Error(`fs-durable: ${path} was already committed or aborted`);
      }
      let at = 0;
      while (at < data.byteLength) {
        const { bytesWritten } = await fh.write(data, at, data.byteLength - at, bytes);
        at += bytesWritten;
        bytes += bytesWritten;
      }
    },
    async commit() {
      if (done) {
        throw new Error(`fs-durable: ${path} was already committed or aborted`);
      }
      try {
        await fh.sync();
      } catch (err) {
        await finish();
        await rm(tmp, { force: true });
        throw err;
      }
      await finish();
      await rename(tmp, path);
      await fsyncDir(dirname(path));
    },
    async abort() {
      await finish();
      await rm(tmp, { force: true });
    },
  };
}

/** Write `bytes` through a parts writer and commit; a failed write aborts it. */
export async function writeWhole(w: Pick<DurableFile, 'write' | 'commit' | 'abort'>, bytes: Uint8Array): Promise<void> {
  try {
    await w.write(bytes);
  } catch (err) {
    await w.abort();
    throw err;
  }
  await w.commit();
}

export async function writeFileDurable(path: string, bytes: Uint8Array): Promise<void> {
  await writeWhole(await openDurable(path), bytes);
}
