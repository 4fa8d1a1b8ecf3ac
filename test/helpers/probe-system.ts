/**
 * probe-system — an ActorSystem of real worker threads running probe actors, with
 * short heartbeats so hang detection is quick in tests.
 */
import { ActorSystem, type ActorConfig, type SystemConfig, type WorkerConfig } from '../../runtime/actor-system.js';
import type { SupervisorEvent } from '../../runtime/supervisor.js';
import { PROBE_ACTOR } from '../../actors/probe/index.js';

export function probeActor(id: string, extra: Partial<ActorConfig> = {}): ActorConfig {
  return { id, module: PROBE_ACTOR, handlerTimeoutMs: 2_000, ...extra };
}

export function probeWorker(name: string, actors: ActorConfig[], extra: Partial<WorkerConfig> = {}): WorkerConfig {
  return {
    name,
    actors,
    heartbeatMs: 100,
    missedHeartbeats: 5,
    actorBackoffMs: [0],
    workerBackoffMs: [0],
    ...extra,
  };
}

export interface Recorded {
  system: ActorSystem;
  events: SupervisorEvent[];
  fatal: Error[];
}

export async function startSystem(config: SystemConfig): Promise<Recorded> {
  const system = new ActorSystem(config);
  const events: SupervisorEvent[] = [];
  const fatal: Error[] = [];
  system.on('event', (e) => events.push(e));
  system.on('fatal', (e) => fatal.push(e));
  await system.start();
  return { system, events, fatal };
}

export async function waitFor(what: string, pred: () => boolean, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > until) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}
