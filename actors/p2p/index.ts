/**
 * p2p — module URL of the peer actor, for configs on the main thread.
 * Importing this file loads no actor code (and so never loads node-datachannel).
 */
export const PEER_ACTOR = new URL('./PeerActor.js', import.meta.url).href;
