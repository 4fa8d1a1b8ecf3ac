/**
 * schema — every production method table of the features, in one list.
 *
 * Each feature declares its messages in its own folder (`<feature>/*-methods.ts`, built
 * with runtime/schema's `request` / `tell` / `notice`); the runtime registers a table
 * when an actor module is named (`actorModule`) or loaded (`defineActor`). This list
 * is what the gateway speaks across threads besides the runtime's own `SYS_*`: tests
 * pin that no two tables share a method name and that every name carries its
 * feature's prefix. Test-only probes (actors/probe) are not part of it.
 * Must never: import actor code.
 */
import { SYS_METHODS } from '../runtime/schema.js';
import { CAPTURE_METHODS } from './capture/capture-methods.js';
import { CLOUD_METHODS } from './cloud/cloud-methods.js';
import { COMMAND_METHODS, PEER_METHODS, VOICE_METHODS } from './p2p/peer-methods.js';

export const METHOD_TABLES = {
  SYS: SYS_METHODS,
  CAPTURE: CAPTURE_METHODS,
  P2P: PEER_METHODS,
  COMMAND: COMMAND_METHODS,
  VOICE: VOICE_METHODS,
  CLOUD: CLOUD_METHODS,
} as const;
