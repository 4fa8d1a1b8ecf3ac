/**
 * p2p — the P2P actor modules (URL + method table), for configs on the main thread.
 * Importing this file loads no actor code (and so never loads node-datachannel).
 */
import { actorModule } from '../../runtime/actor.js';
import { COMMAND_METHODS, PEER_METHODS, VOICE_METHODS } from './peer-methods.js';

export const PEER_ACTOR = actorModule(new URL('./PeerActor.js', import.meta.url).href, PEER_METHODS);
export const COMMAND_ACTOR = actorModule(new URL('./CommandActor.js', import.meta.url).href, COMMAND_METHODS);
export const VOICE_ACTOR = actorModule(new URL('./VoiceActor.js', import.meta.url).href, VOICE_METHODS);
