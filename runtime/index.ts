/**
 * runtime — the public entry `iotvideo-gateway/runtime`: the actor kernel (ActorSystem,
 * defineActor / actorModule, typed method tables and their checks), FrameRing and its
 * readers, TypedEmitter, the errors. Nothing about video; importing it starts nothing.
 */
export { ActorSystem, type ActorConfig, type SystemConfig, type SystemEvents, type WorkerConfig } from './actor-system.js';
export { ActorRef, type CallOptions } from './actor-ref.js';
export { actorModule, defineActor, type ActorContext, type ActorDefinition, type ActorModule, type ExitReason, type Handlers } from './actor.js';
export { notice, request, returns, tell, type BodyOf, type MethodSpec, type MethodTable, type NoticeSpec, type RequestSpec, type ResultOf, type Returns, type TellSpec } from './schema.js';
export * as checks from './checks.js';
export type { Check, Checked, OptionalCheck } from './checks.js';
export type { Intensity, RestartPolicy, Strategy, SupervisorEvent, SupervisorEventType } from './supervisor.js';
export { FrameReader, FrameRing, FrameWriter, type Frame, type FrameInput, type FrameMeta, type ReaderStats, type RingOptions, type RingView, type StartAt } from './frame-ring.js';
export { TypedEmitter, type EventMap, type ListenerErrorEvents } from './typed-emitter.js';
export { exposeFacade, wrapFacade } from './comlink-bridge.js';
export { IV_ERRORS, IvError, fromWireError, invalidParam, isIvError, isIvErrorCode, toWireError, type IvErrorCode, type IvErrorOptions, type WireError } from './errors.js';
