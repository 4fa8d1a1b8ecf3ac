/**
 * thread-name — names the calling thread `ivgw-<name>` (the iv_mem addon's prctl
 * PR_SET_NAME, 15 bytes at most): each worker names itself at start, so `top -H`,
 * `ps -L` and /proc/PID/task/TID/comm show which worker burns the CPU (the fanout
 * benchmark's breakdown reads them) instead of fourteen threads called `node`.
 * Owns: nothing. Must never: throw, or load the addon at import: without it (not built, not
 * Linux) the thread keeps its name.
 */
import { loadMemAddon } from './allocator.js';

/** Name this thread `ivgw-<name>`; true if the system took it. */
export function nameThread(name: string): boolean {
  try {
    return loadMemAddon()?.setThreadName(`ivgw-${name}`) ?? false;
  } catch {
    return false;
  }
}
