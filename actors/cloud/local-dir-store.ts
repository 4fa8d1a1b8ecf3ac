/**
 * local-dir-store — the embedded object store: one file per key under a directory.
 * A put writes a temporary file, fsyncs it, renames it over the key and fsyncs the
 * directory, so a confirmed object survives a power cut.
 * Owns: that directory's layout. Must never: expose a half-written object under its key.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { IvError } from '../../runtime/errors.js';
import { writeFileDurable } from '../../recording/fs-durable.js';
import { filesUnder } from '../../recording/fs-tree.js';
import { checkKey } from '../../recording/keys.js';
import type { ObjectStore } from './object-store.js';

export class LocalDirStore implements ObjectStore {
  readonly description: string;

  constructor(private readonly root: string) {
    this.description = `local directory ${root}`;
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    checkKey(key);
    await writeFileDurable(join(this.root, key), bytes);
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
