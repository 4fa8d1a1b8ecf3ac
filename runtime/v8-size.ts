/**
 * v8-size — V8's `--optimize-for-size` for a gateway process, set by `ivgw run` before any
 * worker starts (V8's own trade of a little speed for memory); every worker isolate
 * created afterwards starts under it.
 * Bench fanout, same run: 552 KB per streaming viewer after malloc_trim against 687 KB
 * with IVGW_OPTIMIZE_FOR_SIZE=0 (623 / 802 KB before the trim), the p2p thread 0.16
 * against 0.17 cores at 100 viewers; FLV muxing ~6 % slower in one run of the mux bench
 * (actors/p2p/README.md, "V8 settings"). `IVGW_OPTIMIZE_FOR_SIZE=0` leaves V8 as node starts it.
 * Owns: that one process-wide setting. Must never: be called once a worker runs, or from
 * the library (`Gateway`): an embedder's process is its own to tune (node --optimize-for-size).
 */
import { setFlagsFromString } from 'node:v8';

let set = false;

/** Sets the flag unless IVGW_OPTIMIZE_FOR_SIZE=0; returns whether it is on. */
export function optimizeV8ForSize(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.IVGW_OPTIMIZE_FOR_SIZE === '0') {
    return set || process.execArgv.includes('--optimize-for-size') || process.execArgv.includes('--lite-mode');
  }
  if (!set) {
    setFlagsFromString('--optimize-for-size');
    set = true;
  }
  return true;
}
