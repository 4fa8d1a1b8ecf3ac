/**
 * iotvideo-gateway — the package's root entry: the SDK facades (P2pModule: iv_av.h,
 * CloudModule: iv_cs.h), what feeds a camera channel (FrameRing, Ingest, the splitters,
 * SampleFeed and the sample media), the app client, tokens and the errors. Subpaths:
 * `iotvideo-gateway/client` (the app side), `iotvideo-gateway/runtime` (the actor kernel).
 * Importing it starts nothing and never loads node-datachannel (P2pModule loads it in its
 * pinned p2p worker, AppClient on its first connect).
 */

// ---- the whole gateway from a config ----
export { Gateway } from './gateway/gateway.js';
export { CAPTURE_WORKERS, DEFAULT_WATERMARKS, type CaptureWorker, type GatewayEvents, type GatewayInfo, type GatewayLogRecord, type GatewayOptions } from './gateway/gateway-options.js';
export type { GatewayStatus } from './gateway/gateway-report.js';
export { loadConfig, ConfigError } from './gateway/config/load.js';
export { gatewayOptions } from './gateway/config/to-options.js';
export type { GatewayConfig, CameraConfig } from './gateway/config/schema.js';

// ---- P2P (iv_av.h) ----
export { IV_AVT_EVENT, P2pModule, type IvAvtEvent, type P2pDeviceOptions, type P2pInitParams, type P2pModuleEvents, type SendStatus } from './actors/p2p/p2p-module.js';
export type { CameraChannel } from './actors/p2p/peer-state.js';
export type { NetworkEvent } from './actors/p2p/keep-alive.js';
export { DEFAULT_ADMISSION, type AdmissionLimits } from './actors/p2p/admission.js';
export type { Watermarks } from './actors/p2p/watermark.js';
export { startStunResponder, type StunResponder } from './actors/p2p/stun-server.js';

// ---- cloud storage (iv_cs.h) ----
export { CloudModule, IV_CM_STREAM_TYPE, extTimes, type AvFormat, type BalanceResult, type CloudDeviceOptions, type CloudInitParams, type CloudModuleEvents, type StreamPack } from './actors/cloud/cloud-module.js';
export type { StoreConfig } from './actors/cloud/object-store.js';

// ---- camera channels: frames into a FrameRing by the SDK's input rules ----
export { FrameRing, type RingOptions } from './runtime/frame-ring.js';
export { Ingest, type IngestOptions, type IngestResult, type IngestStats } from './actors/capture/ingest.js';
export { SampleFeed, type SampleFeedOptions } from './actors/capture/sample-feed.js';
export { SAMPLE, SAMPLES_DIR } from './actors/capture/index.js';
export { AccessUnitSplitter, AdtsSplitter, RawAudioSplitter } from './media/es-splitter.js';
export type { AudioCodecName, AudioFormat, VideoCodecName, VideoFormat } from './media/codecs.js';

// ---- the app side (also `iotvideo-gateway/client`) ----
export { AppClient, type AppClientEvents, type AppClientOptions } from './client/app-client.js';
export { StreamReceiver, type ReceiverStats } from './client/stream-receiver.js';
export { mintToken, verifyToken, type TokenClaims, type TokenVerdict } from './shared/protocol/access-token.js';
export { RIGHTS, type Right } from './shared/protocol/rights.js';

// ---- errors and events ----
export { IV_ERRORS, IvError, isIvError, isIvErrorCode, type IvErrorCode, type IvErrorOptions, type WireError } from './runtime/errors.js';
export { TypedEmitter, type EventMap, type ListenerErrorEvents } from './runtime/typed-emitter.js';
