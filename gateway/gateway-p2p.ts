/**
 * gateway-p2p — the P2P service's options from the gateway's: the device's identity and
 * DTLS certificate, the broker's credentials (the embedded broker's device login, or the
 * configured ones with a rate-limited retry report), each camera's channel (with its
 * recording, for playback), ICE (bind address, STUN/TURN, port range), keep-alive,
 * watermarks and admission.
 * Must never: start anything (P2pService.start does), or put a secret in what it logs.
 */
import type { ActorSystem } from '../runtime/actor-system.js';
import type { P2pServiceOptions } from '../actors/p2p/p2p-service.js';
import type { RunIdentity } from './identity/run-identity.js';
import type { GatewayCamera } from './gateway-report.js';
import { DEFAULT_WATERMARKS, type GatewayLogLevel, type GatewayOptions } from './gateway-options.js';
import { join } from 'node:path';

export interface GatewayP2pParts {
  system: ActorSystem;
  identity: RunIdentity;
  brokerUrl: string;
  stunUrl: string;
  /** The address ICE binds to (the embedded network's), if any. */
  iceBind: string | undefined;
  cameras: readonly GatewayCamera[];
  recorded: readonly GatewayCamera[];
  keepAlive: { timeInterS: number; maxAttemptNum: number };
  log(level: GatewayLogLevel, component: string, msg: string, fields?: Record<string, unknown>): void;
}

export function gatewayP2pOptions(o: GatewayOptions, p: GatewayP2pParts): P2pServiceOptions {
  const deviceId = p.identity.id;
  const record = o.record;
  let brokerRetries = 0;
  return {
    system: p.system,
    worker: 'p2p',
    deviceId,
    secret: p.identity.secret,
    brokerUrl: p.brokerUrl,
    broker: o.broker
      ? {
        ...(o.brokerOptions ? { connectOptions: o.brokerOptions } : {}),
        onConnectError: (err: Error) => {
          brokerRetries++;
          if (brokerRetries <= 3 || brokerRetries % 10 === 0) {
            p.log('warn', 'ivgw', `broker ${p.brokerUrl} not reachable (${err.message}); retrying (attempt ${brokerRetries})`, { broker: p.brokerUrl, attempt: brokerRetries });
          }
        },
      }
      // the embedded broker: the device logs in as itself (broker-acl.ts)
      : { connectOptions: { username: `device:${deviceId}`, password: p.identity.secret } },
    cameras: p.cameras.map((c) => ({
      channel: c.channel,
      ring: c.ring,
      ...(c.video ? { video: { ...c.video, ...(c.source.kind !== 'push' ? { fps: c.source.fps } : {}) } } : {}),
      ...(c.audio ? { audio: c.audio } : {}),
      ...(record && p.recorded.includes(c) ? { recording: { spoolDir: join(record.dir, 'local', `ch${c.channel}`), device: deviceId } } : {}),
    })),
    ice: {
      ...(p.iceBind ? { bindAddress: p.iceBind } : {}),
      iceServers: [p.stunUrl, ...(o.iceServers ?? [])],
      ...(o.icePortRange ? { portRangeBegin: o.icePortRange.begin, portRangeEnd: o.icePortRange.end } : {}),
      ...p.identity.dtls,
    },
    ...(p.keepAlive.timeInterS > 0 && p.keepAlive.maxAttemptNum > 0 ? { keepAlive: { server: p.stunUrl, ...p.keepAlive } } : {}),
    ...(o.trimAfterLeaveMs !== undefined ? { trimAfterLeaveMs: o.trimAfterLeaveMs } : {}),
    watermarks: o.watermarks ?? DEFAULT_WATERMARKS,
    commandActor: 'command',
    voiceActor: 'voice',
    ...(o.admission ? { admission: o.admission } : {}),
  };
}
