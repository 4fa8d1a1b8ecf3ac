/**
 * proc-cpu — where a benchmark's CPU goes, from /proc: a process's CPU time by thread name
 * (the runtime's workers are `ivgw-<worker>`, runtime/thread-name.ts; native threads a
 * worker starts inherit its name; the main thread and V8's and libuv's helpers are `node`)
 * and the whole machine's busy time, so that "the rest" (the load generator on the same
 * cores) is the machine minus the server. Linux only. Owns: nothing. Must never: write to
 * the process it reads.
 */
import { readFileSync, readdirSync } from 'node:fs';

/** Clock ticks per second of /proc's times (USER_HZ, 100 on Linux). */
const HZ = 100;

export interface CpuSnapshot {
  at: number;
  /** CPU ticks (user + system) and thread count by thread name. */
  byThread: Record<string, { ticks: number; threads: number }>;
  machineBusy: number;
}

/** Fields after the `(comm)` of a /proc stat line: utime and stime are the 12th and 13th. */
function ticksOf(stat: string): number {
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(rest[11] ?? 0) + Number(rest[12] ?? 0);
}

export function cpuSnapshot(pid: number): CpuSnapshot {
  const byThread: Record<string, { ticks: number; threads: number }> = {};
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    // gone
  }
  for (const tid of tids) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const entry = (byThread[name] ??= { ticks: 0, threads: 0 });
      entry.ticks += ticksOf(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
      entry.threads++;
    } catch {
      // the thread ended meanwhile
    }
  }
  const cpu = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: busy is all but idle and iowait
  const busy = (cpu[0] ?? 0) + (cpu[1] ?? 0) + (cpu[2] ?? 0) + (cpu[5] ?? 0) + (cpu[6] ?? 0) + (cpu[7] ?? 0);
  return { at: performance.now(), byThread, machineBusy: busy };
}

export interface CpuUse {
  /** Cores the server used over the window, and by thread name (with how many threads have it). */
  serverCores: number;
  serverByThread: Record<string, { cores: number; threads: number }>;
  /** Cores the whole machine was busy; `restCores` = machine − server (the load generator and anything else). */
  machineCores: number;
  restCores: number;
}

const cores = (ticks: number, ms: number): number => Math.round((ticks / HZ / (ms / 1000)) * 100) / 100;

/** CPU use between two snapshots of the same process (threads that ended in between are not counted). */
export function cpuUse(a: CpuSnapshot, b: CpuSnapshot): CpuUse {
  const ms = b.at - a.at;
  const serverByThread: Record<string, { cores: number; threads: number }> = {};
  let server = 0;
  for (const [name, v] of Object.entries(b.byThread)) {
    const ticks = Math.max(0, v.ticks - (a.byThread[name]?.ticks ?? 0));
    server += ticks;
    serverByThread[name] = { cores: cores(ticks, ms), threads: v.threads };
  }
  const machine = b.machineBusy - a.machineBusy;
  return { serverCores: cores(server, ms), serverByThread, machineCores: cores(machine, ms), restCores: cores(machine - server, ms) };
}
