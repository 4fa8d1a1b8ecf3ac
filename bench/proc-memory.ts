/**
 * proc-memory — what a benchmark reads of another process's memory from /proc: RSS and
 * its smaps_rollup breakdown (private dirty/clean, shared, anonymous; kB) and its thread
 * count. Linux only. Owns: nothing. Must never: write to the process it reads.
 */
import { readFileSync, readdirSync } from 'node:fs';

export interface ProcMemory {
  rssKB: number;
  privateDirtyKB: number;
  privateCleanKB: number;
  sharedCleanKB: number;
  sharedDirtyKB: number;
  anonKB: number;
  threads: number;
}

/** The process's smaps_rollup fields (kB) by name; empty once it is gone. */
export function smapsRollup(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    for (const line of readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').split('\n')) {
      const m = /^(\w+):\s+(\d+) kB/.exec(line);
      if (m) {
        out[m[1] as string] = Number(m[2]);
      }
    }
  } catch {
    // gone
  }
  return out;
}

export function threadCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/task`).length;
  } catch {
    return 0;
  }
}

export function procMemory(pid: number): ProcMemory {
  const m = smapsRollup(pid);
  return {
    rssKB: m.Rss ?? 0,
    privateDirtyKB: m.Private_Dirty ?? 0,
    privateCleanKB: m.Private_Clean ?? 0,
    sharedCleanKB: m.Shared_Clean ?? 0,
    sharedDirtyKB: m.Shared_Dirty ?? 0,
    anonKB: m.Anonymous ?? 0,
    threads: threadCount(pid),
  };
}

/** Resident memory (bytes) from /proc/PID/status, cheap enough to sample every second; 0 once gone. */
export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}
