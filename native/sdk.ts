/**
 * sdk — the one place native/ reaches into the TS SDK. actors/p2p/index.ts and
 * actors/cloud/index.ts export only actor URLs today, so P2pModule / CloudModule come
 * from their own files here; when the entry points export them, only this file changes.
 */
export { P2pModule, type P2pInitParams } from '../actors/p2p/p2p-module.js';
export { CloudModule, type CloudInitParams, type AvFormat } from '../actors/cloud/cloud-module.js';
export type { StoreConfig } from '../actors/cloud/object-store.js';
export { mintToken } from '../shared/protocol/access-token.js';
export { RIGHTS } from '../shared/protocol/rights.js';
export { startStunResponder } from '../actors/p2p/stun-server.js';
