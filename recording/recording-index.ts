/**
 * recording-index — what the local recording holds for one channel: its sessions and
 * their segments with wall-clock times, read from the session playlists it holds
 * (`<dir>/objects/<device>/<channel>/<date>/<session>/index.m3u8`).
 * Owns: nothing but reads. Must never: list a segment whose file is missing.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface RecordedSegment {
  /** Path of the segment file. */
  file: string;
  /** Path of its session's init segment. */
  init: string;
  startMs: number;
  durationS: number;
}

/** Parse a session name (`20261121T074326123Z[-n]`) back to its start, ms. */
export function sessionStartMs(name: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z(?:-\d+)?$/.exec(name);
  if (!m) {
    return undefined;
  }
  const [, y, mo, d, h, mi, s, ms] = m.map(Number);
  return Date.UTC(y as number, (mo as number) - 1, d, h, mi, s, ms);
}

/** Segments of `device`/`channel` overlapping [fromMs, toMs), oldest first. */
export async function recordedSegments(spoolDir: string, device: string, channel: number, fromMs: number, toMs: number): Promise<RecordedSegment[]> {
  const base = join(spoolDir, 'objects', device, String(channel));
  const out: RecordedSegment[] = [];
  const dates = await readdir(base).catch(() => [] as string[]);
  for (const date of dates.filter((d) => /^\d{4}-\d{2}-\d{2}$/.test(d)).sort()) {
    for (const session of (await readdir(join(base, date))).sort()) {
      const start = sessionStartMs(session);
      const dir = join(base, date, session);
      if (start === undefined || start >= toMs) {
        continue;
      }
      const playlist = await readFile(join(dir, 'index.m3u8'), 'utf8').catch(() => undefined);
      if (!playlist) {
        continue;
      }
      let t = start;
      let duration = 0;
      for (const line of playlist.split('\n')) {
        const inf = /^#EXTINF:([\d.]+),/.exec(line);
        if (inf) {
          duration = Number(inf[1]);
        } else if (line.endsWith('.m4s')) {
          const file = join(dir, line.trim());
          const end = t + duration * 1000;
          if (end > fromMs && t < toMs && existsSync(file)) {
            out.push({ file, init: join(dir, 'init.mp4'), startMs: t, durationS: duration });
          }
          t = end;
        }
      }
    }
  }
  return out;
}
