/**
 * open-session — the local recording's crash marker: `<dir>/open-session` names the
 * session being written. A crash (actor, worker or process) leaves it behind, and the
 * next start ends that session's playlist (ENDLIST), which players would otherwise
 * treat as live forever.
 *
 * Owns: the `open-session` file. Must never: rewrite a playlist that is already ended.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RecordingStore } from './recording-store.js';

const OPEN_SESSION_FILE = 'open-session';

/** Remember which session is being written (undefined: none), so a crash can be tidied up. */
export async function markOpenSession(recordingDir: string, sessionDir: string | undefined): Promise<void> {
  const file = join(recordingDir, OPEN_SESSION_FILE);
  await (sessionDir === undefined ? rm(file, { force: true }) : writeFile(file, sessionDir)).catch(() => undefined);
}

/** End the playlist of a session a crash cut short, and queue it for upload again. */
export async function closeOrphanSession(recording: RecordingStore): Promise<void> {
  const dir = await readFile(join(recording.root, OPEN_SESSION_FILE), 'utf8').catch(() => undefined);
  if (dir) {
    const key = `${dir}/index.m3u8`;
    const text = await recording.read(key).then((b) => new TextDecoder().decode(b), () => undefined);
    if (text !== undefined && !text.includes('#EXT-X-ENDLIST')) {
      await recording.accept(key, new TextEncoder().encode(`${text.trimEnd()}\n#EXT-X-ENDLIST\n`));
    }
  }
  await markOpenSession(recording.root, undefined);
}
