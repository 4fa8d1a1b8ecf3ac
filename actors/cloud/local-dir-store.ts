/**
 * local-dir-store — the embedded object store: one file per key under a directory.
 * A put writes a temporary file (a file body in parts), fsyncs it, renames it over the
 * key and fsyncs the directory, so a confirmed object survives a power cut.
 * Owns: that directory's layout. Must never: expose a half-written object under its key.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { IvError } from '../../runtime/errors.js';
import { openDurable } from '../../recording/fs-durable.js';
import { filesUnder } from '../../recording/fs-tree.js';
import { checkKey } from '../../recording/keys.js';
import { fileChunks, type ObjectBody, type ObjectStore } from './object-store.js';

export class LocalDirStore implements ObjectStore {
  readonly description: string;

  constructor(private readonly root: string) {
    this.description = `local directory ${root}`;
  }

  async put(key: string, body: ObjectBody): Promise<void> {
    checkKey(key);
    const f = await openDurable(join(this.root, key));
    try {
      if (body instanceof Uint8Array) {
        await f.write(body);
      } else {
        for await (const chunk of fileChunks(body, { buffers: 1 })) {
          await f.write(chunk);
        }
      }
    } catch (err) {
      await f.abort();
      throw err;
    }
    await f.commit();
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    checkKey(key);
    try {
      return await readFile(join(this.root, key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        return undefined;
      }
      throw new IvError('IV_ERR_CS_STORE', `reading ${key}: ${(err as Error).message}`, { field: 'key', cause: err });
    }
  }

  async list(prefix: string): Promise<string[]> {
    return (await filesUnder(this.root)).map((f) => f.key).filter((k) => k.startsWith(prefix)).sort();
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    await rm(join(this.root, key), { force: true });
  }
}
