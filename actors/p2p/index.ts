/**
 * p2p — module URLs of the P2P actors, for configs on the main thread.
 * Importing this file loads no actor code (and so never loads node-datachannel).
 */
export const PEER_ACTOR = new URL('./PeerActor.js', import.meta.url).href;
export const COMMAND_ACTOR = new URL('./CommandActor.js', import.meta.url).href;
export const VOICE_ACTOR = new URL('./VoiceActor.js', import.meta.url).href;
