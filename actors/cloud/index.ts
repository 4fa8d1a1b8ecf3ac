/**
 * cloud — module URL of the cloud actor, for configs on the main thread.
 * Importing this file loads no actor code.
 */
export const CLOUD_ACTOR = new URL('./CloudActor.js', import.meta.url).href;
