/**
 * local-dir-store — the embedded object store: one file per key under a directory.
 * A put writes a temporary file, fsyncs it, renames it over the key and fsyncs the
 * directory, so a confirmed object survives a power cut.
 * Owns: that directory's layout. Must never: expose a half-written object under its key.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { IvError } from '../../runtime/errors.js';
import { checkKey, type ObjectStore } from './object-store.js';
import { writeFileDurable } from './fs-durable.js';

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
    const out: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          return;
        }
        throw err;
      }
      for (const e of entries) {
        const p = join(dir, e.name);
        if (e.isDirectory()) {
          await walk(p);
        } else if (!e.name.endsWith('.tmp')) {
          const key = relative(this.root, p).split(sep).join('/');
          if (key.startsWith(prefix)) {
            out.push(key);
          }
        }
      }
    };
    await walk(this.root);
    return out.sort();
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    await rm(join(this.root, key), { force: true });
  }
}
