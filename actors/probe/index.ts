/**
 * probe — module URLs of the diagnostic actors, for configs on the main thread.
 * Importing this file loads no actor code.
 */
export const PROBE_ACTOR = new URL('./ProbeActor.js', import.meta.url).href;
export const RING_PROBE_ACTOR = new URL('./RingProbeActor.js', import.meta.url).href;
