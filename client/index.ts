/**
 * client — the public entry `iotvideo-gateway/client`: an app talking to a gateway
 * (docs/PROTOCOL.md). `AppClient` (Node: MQTT + node-datachannel, loaded on the first
 * connect, never by importing this file), the transport-neutral `StreamReceiver`, access
 * tokens, certificate fingerprint pinning and the protocol's message types.
 */
export { AppClient, type AppClientEvents, type AppClientOptions } from './app-client.js';
export { StreamReceiver, type ReceiverStats } from './stream-receiver.js';
export type { RequestBody } from './control-channel.js';
export { mintToken, verifyToken, type TokenClaims, type TokenVerdict } from '../shared/protocol/access-token.js';
export { RIGHTS, grants, isRight, type Grant, type Right } from '../shared/protocol/rights.js';
export { normaliseFingerprint, pinProblem, sdpFingerprints } from '../shared/protocol/fingerprint-pin.js';
export { MAX_COMMAND_BYTES, MAX_CONTROL_BYTES, decodeFromDevice, encodeControl, type AppToDevice, type DeviceToApp } from '../shared/protocol/control.js';
export { downTopic, upTopic, type AppSignal, type DeviceSignal } from '../shared/protocol/signaling-messages.js';
export { parseStreamParams, type StreamParams } from '../shared/protocol/stream-params.js';
export { CONTROL_LABEL, VOICE_LABEL, streamLabel, streamOfLabel } from '../shared/protocol/transport-rules.js';
export { IvError, isIvError, isIvErrorCode, type IvErrorCode } from '../runtime/errors.js';
