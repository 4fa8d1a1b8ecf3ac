/**
 * run — `ivgw run`: the gateway, from a config file (bin/run-config.ts) or on embedded
 * defaults (the two demo cameras).
 *  - capture worker: one CaptureActor per camera (rtsp:/ffmpeg:/test: through an ffmpeg
 *    child retried with backoff, file:, push) publishing into FrameRings;
 *  - p2p worker (pinned): one PeerActor per app, serving live FLV over WebRTC with the
 *    device's one DTLS certificate (gateway/identity);
 *  - io worker: the command and voice actors with the built-in handlers;
 *  - an embedded MQTT broker (aedes) on the configured addresses, or an external one;
 *  - a built-in STUN responder (or the configured STUN/TURN servers) for ICE and the
 *    P2P keep-alive;
 *  - cloud worker: one CloudActor per recorded camera (full time or events) into the local
 *    recording and the store (local dir or S3);
 * and prints the device id, the broker URL, an app token and the certificate fingerprint
 * (never the secret), then each camera's state, fps, bitrate and GOP every few seconds
 * until SIGINT/SIGTERM (or --seconds). A start that cannot succeed stops what it started
 * and exits 1 with one line naming the cause.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ActorSystem } from '../../runtime/actor-system.js';
import { FrameRing } from '../../runtime/frame-ring.js';
import { CAPTURE_ACTOR, demoCameras } from '../../actors/capture/index.js';
import { mintToken } from '../../shared/protocol/access-token.js';
import { RIGHTS } from '../../shared/protocol/rights.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../actors/p2p/embedded-broker.js';
import { P2pService } from '../../actors/p2p/p2p-service.js';
import type { SignalingOptions } from '../../actors/p2p/signaling.js';
import type { Watermarks } from '../../actors/p2p/watermark.js';
import type { AdmissionLimits } from '../../actors/p2p/admission.js';
import { CLOUD_ACTOR } from '../../actors/cloud/index.js';
import { COMMAND_ACTOR, VOICE_ACTOR } from '../../actors/p2p/index.js';
import { registerBuiltinHandlers } from '../../actors/p2p/builtin-handlers.js';
import { startStunResponder, type StunResponder } from '../../actors/p2p/stun-server.js';
import type { StoreConfig } from '../../actors/cloud/object-store.js';
import { planCamera, type CapturePlan } from '../../gateway/cameras/camera-plan.js';
import { CameraStatusBoard } from '../../gateway/cameras/camera-status.js';
import type { CameraConfig } from '../../gateway/config/schema.js';
import { runIdentity, type RunIdentity } from '../../gateway/identity/run-identity.js';
import { cloudArgs, describePeerEvent, printStats, type RunCamera } from './run-report.js';

export interface RunOptions {
  seconds: number | undefined;
  statsEverySeconds?: number;
  deviceId?: string;
  secret?: string;
  /** Data directory: device.json, default recording dir (default ./ivgw-data, or the --record dir). */
  dataDir?: string;
  /** Set when the options come from a config file (no implicit recording then). */
  fromConfig?: boolean;
  /** Embedded broker port (0: any free port). Ignored with `broker`. */
  mqttPort?: number;
  /** Embedded broker addresses (config); `mqttPort` overrides the first one's port. */
  brokerListen?: { host: string; port: number }[];
  /** Embedded broker TLS (mqtts) listeners with the certificate and key files. */
  brokerTls?: { cert: string; key: string; listen: { host: string; port: number }[] };
  /** Embedded broker MQTT-over-WebSocket listeners (browsers). */
  brokerWebsocket?: { host: string; port: number }[];
  broker?: string;
  /** Credentials / TLS for the external broker. */
  brokerOptions?: NonNullable<SignalingOptions['connectOptions']>;
  /** ICE bind address (default 127.0.0.1); `any` binds every interface. */
  iceBind?: string;
  /** STUN server for ICE and the keep-alive (`stun:host:port`); default: the built-in responder. */
  stun?: string;
  /** More ICE servers (TURN as `turn:user:pass@host:port`). */
  iceServers?: string[];
  icePortRange?: { begin: number; end: number };
  /** p2p_keep_alive_cfg; default 5 s × 3 probes (the spec's recommendation); 0 turns it off. */
  keepAlive?: { timeInterS: number; maxAttemptNum: number };
  /** Default RUN_WATERMARKS; all zero disables. */
  watermarks?: Watermarks;
  admission?: AdmissionLimits;
  /** Channel 0 plays this H.264/H.265 elementary stream file (looped, no audio) instead of the demo camera. */
  video?: { file: string; codec: 'h264' | 'h265'; fps: number };
  /** Record (full time unless a camera says otherwise) and upload; absent: no recording. */
  record?: { dir: string; store: StoreConfig };
  /** The configured cameras; absent: the demo cameras. */
  cameras?: CameraConfig[];
  /** Periodic status lines off (`logging.level` warn/error). */
  quiet?: boolean;
  /** Status lines as JSON objects (`logging.format: json`). */
  jsonLogs?: boolean;
  /** A C firmware (native/) drives the device instead of the cameras: `--firmware PATH [-- args]`. */
  firmware?: { path: string; args: string[] };
}

/** ≈ 1, 2 and 4 s of a 2 Mbit/s stream: a stalled app costs at most ~1 MiB plus the SCTP buffer. */
export const RUN_WATERMARKS: Watermarks = { low: 256 * 1024, warn: 512 * 1024, high: 1024 * 1024 };

let jsonLogs = false;
/** One status line: text, or a JSON object per line (`logging.format: json`). */
const out = (line: string): boolean => process.stdout.write(jsonLogs ? `${JSON.stringify({ time: new Date().toISOString(), msg: line })}\n` : `${line}\n`);

async function cameraPlans(opts: RunOptions): Promise<CapturePlan[]> {
  if (opts.cameras) {
    return Promise.all(opts.cameras.map((c) => planCamera(c)));
  }
  const demo = demoCameras();
  if (opts.video) {
    demo[0] = { camera: `file-${opts.video.file.split('/').pop() ?? 'video'}`, video: { codec: opts.video.codec }, source: { kind: 'file', video: opts.video.file, fps: opts.video.fps } };
  }
  return demo.map((d, channel) => ({ ...d, channel, notes: [], config: { name: d.camera, channel, source: { kind: 'push' }, transcode: false, recording: 'full-time', retention: { maxAgeS: 86_400, maxBytes: 1 << 30 } } }));
}

export async function runCommand(opts: RunOptions): Promise<number> {
  if (opts.firmware) {
    return (await import('../../native/firmware-run.js')).runFirmware({ ...opts, firmware: opts.firmware });
  }
  const dataDir = opts.dataDir ?? opts.record?.dir ?? 'ivgw-data';
  jsonLogs = opts.jsonLogs === true;
  // a log reader that goes away (`ivgw run | head`) must not bring the gateway down
  process.stdout.on('error', () => undefined);
  const cleanup: (() => Promise<void> | void)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const f of cleanup.splice(0).reverse()) {
      await Promise.resolve().then(f).catch(() => undefined);
    }
  };
  let system: ActorSystem | undefined;
  // a stop asked for at any time, start-up included, is a clean stop
  let stopRequested = false;
  let wake: () => void = () => undefined;
  const stopSignal = new Promise<void>((resolve) => {
    wake = resolve;
  });
  const onSignal = (): void => {
    stopRequested = true;
    wake();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  cleanup.push(() => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  });
  try {
    const identity: RunIdentity = await runIdentity({ dataDir, deviceId: opts.deviceId ?? (process.env.IVGW_DEVICE_ID || undefined), secret: opts.secret ?? (process.env.IVGW_DEVICE_SECRET || undefined) });
    cleanup.push(() => identity.dispose());
    const deviceId = identity.id;
    if (identity.created) {
      out(`ivgw: created the device identity ${identity.file} (id ${deviceId}; secret and DTLS certificate inside, mode 0600)`);
    }
    // the network first: a port in use fails the start before any worker exists
    let broker: EmbeddedBroker | undefined;
    if (!opts.broker) {
      const listen = (opts.brokerListen ?? [{ host: '127.0.0.1', port: 1883 }]).map((l, i) => (i === 0 && opts.mqttPort !== undefined ? { ...l, port: opts.mqttPort } : l));
      let refusals = 0;
      const refusalWindow = setInterval(() => (refusals = 0), 1_000);
      refusalWindow.unref();
      broker = await startEmbeddedBroker({
        listen,
        ...(opts.brokerWebsocket ? { websocket: opts.brokerWebsocket } : {}),
        ...(opts.brokerTls ? { tls: { cert: readFileSync(opts.brokerTls.cert), key: readFileSync(opts.brokerTls.key), listen: opts.brokerTls.listen } } : {}),
        acl: {
          deviceId: identity.id,
          secret: identity.secret,
          onRefused: (what, who, detail) => {
            if (++refusals <= 5) {
              out(`[broker] refused ${what} of ${who}: ${detail}`);
            }
          },
        },
      });
      cleanup.push(() => clearInterval(refusalWindow));
      cleanup.push(() => broker?.close());
    }
    const brokerUrl = opts.broker ?? (broker as EmbeddedBroker).url;
    const iceBind = opts.iceBind === 'any' || opts.iceBind === '0.0.0.0' ? undefined : opts.iceBind ?? '127.0.0.1';
    let stunResponder: StunResponder | undefined;
    if (!opts.stun) {
      stunResponder = await startStunResponder({ host: iceBind ?? '0.0.0.0' });
      cleanup.push(() => stunResponder?.close());
    }
    const stunUrl = opts.stun ?? `stun:${iceBind ?? '127.0.0.1'}:${(stunResponder as StunResponder).port}`;
    const plans = await cameraPlans(opts);
    const cameras: RunCamera[] = plans.map((p) => ({ ...p, ring: FrameRing.create({ dataBytes: 8 * 1024 * 1024, slots: 2048, keys: 64 }).buffer }));
    const recorded = opts.record ? cameras.filter((c) => c.config.recording !== 'off' && c.video) : [];
    const record = opts.record;
    system = new ActorSystem({
      workers: [
        { name: 'capture', actors: cameras.map((c) => ({ id: `capture:${c.camera}`, module: CAPTURE_ACTOR, args: { camera: c.camera, ring: c.ring, source: c.source, ...(c.video ? { video: c.video } : {}), ...(c.audio ? { audio: c.audio } : {}) } })) },
        { name: 'p2p', pinned: true, actors: [] },
        { name: 'io', actors: [{ id: 'command', module: COMMAND_ACTOR, handlerTimeoutMs: 60_000 }, { id: 'voice', module: VOICE_ACTOR, handlerTimeoutMs: 60_000 }] },
        ...(record && recorded.length > 0 ? [{ name: 'cloud', resourceLimits: { maxYoungGenerationSizeMb: 4 }, actors: recorded.map((c) => ({ id: `cloud:${c.camera}`, module: CLOUD_ACTOR, handlerTimeoutMs: 120_000, args: cloudArgs(deviceId, c, record) })) }] : []),
      ],
    });
    const sys = system;
    sys.on('event', (e) => {
      if (e.type !== 'start' && e.type !== 'stop' && !e.child.startsWith('peer:')) {
        out(`[supervisor] ${e.type} ${e.supervisor}/${e.child}${e.reason ? ` (${e.reason})` : ''}${e.error ? `: ${e.error.code} ${e.error.message}` : ''}`);
      }
    });
    let fatal = false;
    sys.on('fatal', (err) => {
      fatal = true;
      process.stderr.write(`[supervisor] fatal: ${err.code} ${err.message}\n`);
    });
    const status = new CameraStatusBoard(cameras.map((c) => c.camera));
    for (const c of cameras) {
      for (const n of c.notes) {
        out(`[${c.camera}] ${n}`);
      }
      sys.ref(`capture:${c.camera}`, CAPTURE_ACTOR).onNotification('CAPTURE_EVENT', (e) => {
        const changed = status.onEvent(e);
        if (e.type !== 'format' && (e.type !== 'source-up' || changed)) {
          out(`[${e.camera}] ${e.type}${e.code ? ` ${e.code}` : ''}${e.message ? ` ${e.message}` : ''}`);
        }
      });
    }
    await sys.start();
    cleanup.push(() => sys.stop());
    for (const c of recorded) {
      const ref = sys.ref(`cloud:${c.camera}`, CLOUD_ACTOR);
      ref.onNotification('CLOUD_NOTICE', (n) => {
        out(`[cloud ${c.camera}] ${n.type}${n.what ? ` ${n.what}` : ''}${n.key ? ` ${n.key}` : ''}${n.message ? ` ${n.message}` : ''}`);
      });
      if (c.config.recording === 'full-time') {
        await ref.call('CLOUD_FULL_TIME', { on: true });
      }
    }
    const keepAlive = opts.keepAlive ?? { timeInterS: 5, maxAttemptNum: 3 };
    const handlers = registerBuiltinHandlers(sys, deviceId, (v) => out(`[voice ${v.peer}] ended: ${v.frames} frames, ${v.bytes} bytes (${v.params})`));
    cleanup.push(() => handlers.unregister());
    const p2pRef: { service?: P2pService } = {};
    let brokerRetries = 0;
    const starting = P2pService.start({
      system: sys,
      worker: 'p2p',
      deviceId,
      secret: identity.secret,
      brokerUrl,
      ...(!opts.broker ? { broker: { connectOptions: { username: `device:${deviceId}`, password: identity.secret } } } : {}),
      ...(opts.broker ? {
        broker: {
          ...(opts.brokerOptions ? { connectOptions: opts.brokerOptions } : {}),
          onConnectError: (err: Error) => {
            brokerRetries++;
            if (brokerRetries <= 3 || brokerRetries % 10 === 0) {
              out(`ivgw: broker ${brokerUrl} not reachable (${err.message}); retrying (attempt ${brokerRetries})`);
            }
          },
        },
      } : {}),
      cameras: cameras.map((c) => ({ channel: c.channel, ring: c.ring, ...(c.video ? { video: c.video } : {}), ...(c.audio ? { audio: c.audio } : {}), ...(record && recorded.includes(c) ? { recording: { spoolDir: join(record.dir, 'local', `ch${c.channel}`), device: deviceId } } : {}) })),
      ice: {
        ...(iceBind ? { bindAddress: iceBind } : {}),
        iceServers: [stunUrl, ...(opts.iceServers ?? [])],
        ...(opts.icePortRange ? { portRangeBegin: opts.icePortRange.begin, portRangeEnd: opts.icePortRange.end } : {}),
        ...identity.dtls,
      },
      ...(keepAlive.timeInterS > 0 && keepAlive.maxAttemptNum > 0 ? { keepAlive: { server: stunUrl, ...keepAlive } } : {}),
      watermarks: opts.watermarks ?? RUN_WATERMARKS,
      commandActor: 'command',
      voiceActor: 'voice',
      ...(opts.admission ? { admission: opts.admission } : {}),
    }, (service) => {
      service.on('network', (e) => {
        const what = e.type === 'ready' ? `PEER_READY (mapped address ${e.mapped})`
          : e.type === 'connect-fail' ? `PEER_CONNECT_FAIL: ${e.reason}; retry in ${e.retryInMs} ms`
            : e.type === 'error' ? `PEER_ERROR: ${e.reason}`
              : `PEER_ADDR_CHANGED from ${e.from} to ${e.to}`;
        const then = e.type === 'addr-changed' ? `; ICE restart of ${p2pRef.service?.peerIds.length ?? 0} app connection(s)` : e.type === 'error' ? '; restarting the app connections that are gone' : '';
        out(`[p2p] ${what}${then}`);
      });
      service.on('peer', (peer, e) => {
        const line = describePeerEvent(peer, e);
        if (line) {
          out(line);
        }
      });
    });
    starting.then((service) => cleanup.push(() => service.close()), () => undefined);
    const p2p = await Promise.race([starting, stopSignal.then(() => undefined)]);
    if (!p2p || stopRequested) {
      out('ivgw: stopping before start-up finished');
      await stopAll();
      out('ivgw: stopped');
      return 0;
    }
    p2pRef.service = p2p;
    const token = mintToken(identity.secret, { deviceId, peerId: 'app1', expires: Math.floor(Date.now() / 1000) + 24 * 3600, rights: [...RIGHTS] });
    out(`ivgw: STUN ${stunUrl}${stunResponder ? ' (built-in)' : ''}; keep-alive ${keepAlive.timeInterS > 0 && keepAlive.maxAttemptNum > 0 ? `every ${keepAlive.timeInterS} s, ${keepAlive.maxAttemptNum} probes` : 'off'}`);
    out(`ivgw: device ${deviceId} up; signaling ${brokerUrl}; channels ${cameras.map((c) => `${c.channel}=${c.camera}`).join(', ')}`);
    if (broker && opts.brokerListen) {
      out(`ivgw: MQTT broker listening on ${opts.brokerListen.map((l, i) => `${l.host}:${i === 0 ? broker?.port : l.port}`).join(', ')}${broker.tlsUrl ? `; TLS ${broker.tlsUrl}` : ''}`);
    }
    if (broker && broker.wsUrls.length > 0) {
      out(`ivgw: MQTT over WebSocket (browsers) on ${broker.wsUrls.join(', ')}`);
    }
    out(`ivgw: identity ${identity.file ?? 'from --secret (this run only)'}; DTLS certificate fingerprint ${identity.fingerprint}`);
    out(`ivgw: app token (peer app1, 24 h): ${token}`);
    out(`ivgw: view it with: npx ivgw view --broker ${brokerUrl} --device ${deviceId} --peer app1 --token ${token} --seconds 5 --out live.flv`);
    out(`ivgw: more tokens: npx ivgw token ${identity.file ? `--data ${dataDir}` : '--device ID --secret "$IVGW_DEVICE_SECRET"'} --peer NAME --ttl 1d --json`);
    out(`ivgw: load-test it with: npx ivgw load --broker ${brokerUrl} ${identity.file ? `--data ${dataDir}` : `--device ${deviceId} --secret "$IVGW_DEVICE_SECRET"`} --peers 100 --seconds 30 --html load-report.html`);
    if (record) {
      const all = recorded.length === cameras.length && recorded.every((c) => c.config.recording === 'full-time');
      out(`ivgw: recording ${all ? 'every camera' : recorded.map((c) => `${c.camera} (${c.config.recording})`).join(', ') || 'no camera'} to ${record.dir}/local, uploading to ${record.store.kind === 'local' ? record.store.dir : `${record.store.endpoint}/${record.store.bucket}`}`);
    }
    out(`ivgw: ready${opts.seconds ? ` for ${opts.seconds} s` : '; Ctrl-C stops'}`);
    const report = (): Promise<void> => printStats(sys, cameras, recorded, status, p2p, handlers, out);
    const ticker = opts.quiet ? undefined : setInterval(() => void report(), (opts.statsEverySeconds ?? 5) * 1000);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([stopSignal, new Promise<void>((resolve) => {
      timer = opts.seconds ? setTimeout(resolve, opts.seconds * 1000) : undefined;
    })]);
    clearTimeout(timer);
    clearInterval(ticker);
    await report();
    cleanup.pop(); // p2p.close, in the order below
    await p2p.close();
    for (const c of recorded) {
      const r = await sys.ref(`cloud:${c.camera}`, CLOUD_ACTOR).call('CLOUD_CLOSE', { drainMs: 3_000 }, { timeoutMs: 60_000 }).catch(() => undefined);
      out(`[cloud ${c.camera}] closed; ${r ? `${r.pending} objects of the local recording not yet uploaded (the next run uploads them)` : 'close failed'}`);
    }
    await stopAll();
    out('ivgw: stopped');
    return fatal ? 1 : 0;
  } catch (err) {
    await stopAll();
    const e = err as { code?: string; message?: string };
    process.stderr.write(`ivgw run: ${e.code && e.code.startsWith('IV_ERR') ? `${e.code}: ` : ''}${(e.message ?? String(err)).split('\n')[0]}\n`);
    return 1;
  }
}
