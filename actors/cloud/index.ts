/**
 * cloud — the cloud actor module (URL + method table), for configs on the main thread.
 * Importing this file loads no actor code.
 */
import { actorModule } from '../../runtime/actor.js';
import { CLOUD_METHODS } from './cloud-methods.js';

export const CLOUD_ACTOR = actorModule(new URL('./CloudActor.js', import.meta.url).href, CLOUD_METHODS);
