/**
 * fs-tree — the files under a directory as `/`-separated keys with size and mtime
 * (temporary `.tmp` files of unfinished writes left out; a missing root is empty).
 * Used by the local recording's store and cloud's local-directory object store.
 * Must never: list a file a write has not finished.
 */
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

export interface TreeFile {
  key: string;
  bytes: number;
  mtimeMs: number;
}

export async function filesUnder(root: string): Promise<TreeFile[]> {
  const out: TreeFile[] = [];
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
      } else if (!e.name.endsWith('.tmp')) {
        const st = await stat(p);
        out.push({ key: relative(root, p).split(sep).join('/'), bytes: st.size, mtimeMs: st.mtimeMs });
      }
    }
  };
  await visit(root);
  return out;
}
