/**
 * node-transport — the once-per-process setup of node-datachannel that the device's p2p
 * worker and a Node app client share: the SCTP buffers of transport-rules.ts and the
 * optional libdatachannel trace. Node-only; takes the module as an argument, so
 * importing this file never loads node-datachannel.
 * Owns: the "set up once" flag. Must never: be called outside the one thread of a
 * process that loads node-datachannel.
 */
import type nodeDataChannel from 'node-datachannel';
import { traceTransport } from '../transport-trace.js';
import { MAX_MESSAGE_BYTES, SCTP_BUFFER_BYTES } from './transport-rules.js';

type Ndc = typeof nodeDataChannel;
export type RtcConfig = ConstructorParameters<Ndc['PeerConnection']>[1];

let setUp = false;

/** Apply the shared SCTP settings and the trace (IVGW_RTC_LOG), once per process; returns the module. */
export function setUpTransport(ndc: Ndc): Ndc {
  if (!setUp) {
    setUp = true;
    ndc.setSctpSettings({ sendBufferSize: SCTP_BUFFER_BYTES, recvBufferSize: SCTP_BUFFER_BYTES });
    traceTransport(ndc);
  }
  return ndc;
}

/** A peer connection's configuration: ICE servers, the shared message size, where ICE binds, the DTLS certificate. */
export function rtcConfig(ice: { iceServers: string[]; bindAddress?: string | undefined; portRangeBegin?: number | undefined; portRangeEnd?: number | undefined; certificatePemFile?: string | undefined; keyPemFile?: string | undefined }): RtcConfig {
  const config: RtcConfig = { iceServers: ice.iceServers, maxMessageSize: MAX_MESSAGE_BYTES };
  if (ice.bindAddress) {
    config.bindAddress = ice.bindAddress;
  }
  if (ice.portRangeBegin !== undefined && ice.portRangeEnd !== undefined) {
    config.portRangeBegin = ice.portRangeBegin;
    config.portRangeEnd = ice.portRangeEnd;
  }
  if (ice.certificatePemFile && ice.keyPemFile) {
    // one certificate for every connection (the device's identity) instead of one generated per connection
    config.certificatePemFile = ice.certificatePemFile;
    config.keyPemFile = ice.keyPemFile;
  }
  return config;
}
