/**
 * probe — the diagnostic actor modules (URL + method table), for configs on the main thread.
 * Importing this file loads no actor code.
 */
import { actorModule } from '../../runtime/actor.js';
import { PROBE_METHODS, RING_PROBE_METHODS } from './probe-methods.js';

export const PROBE_ACTOR = actorModule(new URL('./ProbeActor.js', import.meta.url).href, PROBE_METHODS);
export const RING_PROBE_ACTOR = actorModule(new URL('./RingProbeActor.js', import.meta.url).href, RING_PROBE_METHODS);
