/**
 * gateway-events — what the gateway's parts report, turned into the gateway's typed events,
 * its log records and its metrics: the supervisor's events, each camera's capture events,
 * each recording's cloud notices and the P2P service's network, peer and refusal events.
 * Owns: which of them is logged, at which level, with which fields (the wording operators
 * read and grep).
 * Must never: log a secret or a token, or act on what it reports (it only listens).
 */
import type { ActorSystem } from '../runtime/actor-system.js';
import type { IvError } from '../runtime/errors.js';
import { CAPTURE_ACTOR } from '../actors/capture/index.js';
import { CLOUD_ACTOR } from '../actors/cloud/index.js';
import type { P2pService } from '../actors/p2p/p2p-service.js';
import type { CameraStatusBoard } from './cameras/camera-status.js';
import type { GatewayMetrics } from './metrics.js';
import type { GatewayCamera } from './gateway-report.js';
import type { GatewayEvents, GatewayLogLevel } from './gateway-options.js';

/** Where the reports go: the gateway's events, its log records, its metrics. */
export interface GatewayEventSink {
  emit<K extends keyof GatewayEvents>(event: K, ...args: GatewayEvents[K]): void;
  log(level: GatewayLogLevel, component: string, msg: string, fields?: Record<string, unknown>): void;
  metrics: GatewayMetrics;
}

/** The supervisor's events (an app's peer actor: only its exit is news) and a fatal failure. */
export function reportSupervisor(system: ActorSystem, sink: GatewayEventSink, onFatal: (err: IvError) => void): void {
  system.on('event', (e) => {
    sink.metrics.supervisorEvent(e.type, e.child);
    sink.emit('supervisor', e);
    if (!e.child.startsWith('peer:') || e.type === 'exit') {
      const level = e.type === 'start' || e.type === 'stop' ? 'debug' : e.type === 'escalate' || e.type === 'start-failed' ? 'error' : 'warn';
      sink.log(level, 'supervisor', `${e.type} ${e.supervisor}/${e.child}${e.reason ? ` (${e.reason})` : ''}${e.error ? `: ${e.error.code} ${e.error.message}` : ''}`, { type: e.type, supervisor: e.supervisor, child: e.child, ...(e.reason ? { reason: e.reason } : {}), ...(e.error ? { code: e.error.code } : {}), ...(e.attempt ? { attempt: e.attempt } : {}) });
    }
  });
  system.on('fatal', (err) => {
    onFatal(err);
    sink.log('error', 'supervisor', `fatal: ${err.code} ${err.message}`, { code: err.code });
    sink.emit('fatal', err);
  });
}

/** Each camera's planning notes, then its capture events (a repeated source-up and the format are not logged). */
export function reportCameras(system: ActorSystem, cameras: readonly GatewayCamera[], status: CameraStatusBoard, sink: GatewayEventSink): void {
  for (const c of cameras) {
    for (const n of c.notes) {
      sink.log('info', c.camera, n);
    }
    system.ref(`capture:${c.camera}`, CAPTURE_ACTOR).onNotification('CAPTURE_EVENT', (e) => {
      const changed = status.onEvent(e);
      sink.emit('camera', e);
      if (e.type !== 'format' && (e.type !== 'source-up' || changed)) {
        sink.log(e.type === 'rejected' || e.type === 'source-exit' || e.type === 'ring-tight' ? 'warn' : 'info', e.camera, `${e.type}${e.code ? ` ${e.code}` : ''}${e.message ? ` ${e.message}` : ''}`, { event: e.type, state: status.get(e.camera)?.state, ...(e.code ? { code: e.code } : {}) });
      }
    });
  }
}

/** A recorded camera's cloud notices: uploads are counted, the rest logged. */
export function reportCloud(system: ActorSystem, camera: string, sink: GatewayEventSink): void {
  system.ref(`cloud:${camera}`, CLOUD_ACTOR).onNotification('CLOUD_NOTICE', (n) => {
    sink.emit('cloud', camera, n);
    if (n.type === 'uploaded') {
      sink.metrics.uploaded(n.ms ?? 0);
      return;
    }
    sink.log(n.type === 'upload-failed' || n.type === 'overrun' ? 'warn' : 'info', `cloud ${camera}`, `${n.type}${n.what ? ` ${n.what}` : ''}${n.key ? ` ${n.key}` : ''}${n.message ? ` ${n.message}` : ''}`, { event: n.type, ...(n.key ? { key: n.key } : {}) });
  });
}

/** The P2P service's keep-alive results, app events, first frames and refusals. */
export function reportP2p(service: P2pService, sink: GatewayEventSink): void {
  service.on('network', (e) => {
    sink.emit('network', e);
    const what = e.type === 'ready' ? `PEER_READY (${e.mapped ? `mapped address ${e.mapped}` : 'the broker connection is back'})`
      : e.type === 'connect-fail' ? `PEER_CONNECT_FAIL: ${e.reason}; retry in ${e.retryInMs} ms`
        : e.type === 'error' ? `PEER_ERROR: ${e.reason}`
          : `PEER_ADDR_CHANGED from ${e.from} to ${e.to}`;
    const then = e.type === 'addr-changed' ? `; ICE restart of ${service.peerIds.length} app connection(s)` : e.type === 'error' ? '; restarting the app connections that are gone' : '';
    sink.log(e.type === 'ready' ? 'info' : 'warn', 'p2p', `${what}${then}`, { keepAlive: e.type });
  });
  service.on('peer', (peer, e) => {
    sink.emit('peer', peer, e);
    if (e.type === 'connected' && e.detail) {
      sink.metrics.connected(e.detail.connectMs);
    } else if (e.type === 'watermark') {
      sink.metrics.watermark(e.detail.level);
      return;
    }
    const d = e.type === 'closed' ? e.detail.state : undefined;
    const extra = e.type === 'restarting' || e.type === 'restarted' || e.type === 'respawned' ? ` ${JSON.stringify(e.detail)}` : '';
    const stream = 'stream' in e ? e.stream : undefined;
    sink.log('info', `peer ${peer}`, `${e.type}${stream !== undefined ? ` stream ${stream}` : ''}${d ? ` (${d})` : ''}${extra}`, {
      peer, event: e.type, ...(stream !== undefined ? { stream } : {}), ...(e.type === 'connected' && e.detail ? { connectMs: Math.round(e.detail.connectMs) } : {}), ...(e.type === 'stream-open' ? { params: e.detail.params } : {}),
    });
  });
  service.on('first-frame', (_peer, _stream, ms) => sink.metrics.firstFrameSent(ms));
  service.on('refused', (peer, code, reason) => {
    sink.metrics.offerRefused(code);
    sink.log('warn', 'p2p', `refused a request of ${peer}: ${code} ${reason}`, { peer, code, reason });
  });
}
