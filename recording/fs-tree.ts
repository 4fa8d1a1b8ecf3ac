/**
 * fs-tree — the files under a directory as `/`-separated keys with size and mtime
 * (temporary `.tmp` files of unfinished writes left out; a missing root is empty), and
 * the sweep that removes the temporary files a crash left behind.
 * Used by the local recording's store and cloud's local-directory object store.
 * Must never: list a file a write has not finished, or remove anything but a
 * temporary file (fs-durable.ts `isTempName`).
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { isTempName } from './fs-durable.js';

export interface TreeFile {
  key: string;
  bytes: number;
  mtimeMs: number;
}

/** Every file under `root` (recursively), as its path; a missing root has none. */
async function walk(root: string, onFile: (path: string, name: string) => Promise<void>): Promise<void> {
  const visit = async (dir: string): Promise<void> => {
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
        await visit(p);
      } else {
        await onFile(p, e.name);
      }
    }
  };
  await visit(root);
}

export async function filesUnder(root: string): Promise<TreeFile[]> {
  const out: TreeFile[] = [];
  await walk(root, async (p, name) => {
    if (!name.endsWith('.tmp')) {
      const st = await stat(p);
      out.push({ key: relative(root, p).split(sep).join('/'), bytes: st.size, mtimeMs: st.mtimeMs });
    }
  });
  return out;
}

/** Remove the temporary files of writes that never finished (a crash); returns how many. */
export async function removeUnfinished(root: string): Promise<number> {
  let removed = 0;
  await walk(root, async (p, name) => {
    if (isTempName(name)) {
      await rm(p, { force: true });
      removed++;
    }
  });
  return removed;
}
