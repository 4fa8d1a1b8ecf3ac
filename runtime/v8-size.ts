/**
 * v8-size — V8's memory settings for a gateway process, set by `ivgw run` before any
 * worker starts; every worker isolate created afterwards starts under them:
 * - `--optimize-for-size` (V8's own trade of a little speed for memory). Bench fanout, same
 *   run: 552 KB per streaming viewer after malloc_trim against 687 KB with
 *   IVGW_OPTIMIZE_FOR_SIZE=0 (623 / 802 KB before the trim), the p2p thread 0.16 against
 *   0.17 cores at 100 viewers; FLV muxing ~6 % slower in one run of the mux bench
 *   (actors/p2p/README.md, "V8 settings").
 * - `--no-short-builtin-calls`: on a machine of 4 GB or more V8 maps a copy of its builtins'
 *   code next to each isolate's code range (file-backed, ~1 MB resident each); without it a
 *   worker calls the ones in node's own code pages, which every isolate shares. The main
 *   isolate exists before this runs and keeps its copy (docs/DEPLOY.md, Memory).
 * - `--bytecode-old-age=1 --flush-baseline-code`: a function's bytecode (and its baseline
 *   code) is dropped after one full GC without a call instead of five, so what ran only at
 *   start-up (config checks, module bodies, the workers' set-up) does not stay compiled in
 *   every isolate; a function called again is compiled again. V8 reads them at each full
 *   GC, so the main isolate follows them too.
 * `IVGW_OPTIMIZE_FOR_SIZE=0` leaves V8 as node starts it.
 * Owns: those process-wide settings. Must never: be called once a worker runs, or from
 * the library (`Gateway`): an embedder's process is its own to tune (node --optimize-for-size).
 */
import { setFlagsFromString } from 'node:v8';

let set = false;

/** Sets the flags unless IVGW_OPTIMIZE_FOR_SIZE=0; returns whether V8 optimizes for size. */
export function optimizeV8ForSize(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.IVGW_OPTIMIZE_FOR_SIZE === '0') {
    return set || process.execArgv.includes('--optimize-for-size') || process.execArgv.includes('--lite-mode');
  }
  if (!set) {
    setFlagsFromString('--optimize-for-size');
    setFlagsFromString('--no-short-builtin-calls');
    setFlagsFromString('--bytecode-old-age=1');
    setFlagsFromString('--flush-baseline-code');
    set = true;
  }
  return true;
}
