/**
 * gateway — a whole gateway from validated options (gateway-options.ts): `start()`,
 * `stop()`, typed events, `status()`, `health()`, `metrics`, `token()`.
 *  - the workers and their actors (gateway-workers.ts): one CaptureActor per camera
 *    (rtsp:/ffmpeg:/test: through an ffmpeg child retried with backoff, file:, push)
 *    publishing into FrameRings, the P2P host layout (the pinned p2p worker with one
 *    PeerActor per app, the io worker with the command and voice actors, the built-in
 *    handlers and one CloudActor per recorded camera);
 *  - a P2pService with the device's one DTLS certificate (its options: gateway-p2p.ts);
 *  - an embedded MQTT broker (aedes) on the configured addresses, or an external one, and a
 *    built-in STUN responder (or the configured STUN/TURN servers): gateway-network.ts;
 *  - the HTTP server (http-server.ts: metrics, health, status, the browser viewer at `/`)
 *    when `http` is given, up before start-up waits for the broker.
 * Everything it would log is a `log` record (never a secret or token; gateway-events.ts
 * turns the parts' reports into events, log records and metrics); the CLI writes them.
 *
 * Owns: the start order (network first, so a port in use fails before any worker exists;
 * workers, cameras and HTTP before the wait for the broker), the stop order (apps told
 * bye, cloud drained, workers stopped, native transport last), and a stop asked for
 * during start-up (start() then drains the recordings, tears down and rejects with
 * IV_ERR_CLOSED).
 * Must never: print, exit the process, or leave a worker running after start() failed.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ActorSystem } from '../runtime/actor-system.js';
import { PeriodicTrim } from '../runtime/allocator.js';
import { IvError } from '../runtime/errors.js';
import { redactUrlCredentials } from '../runtime/redact.js';
import type { WorkerHeap } from '../runtime/schema.js';
import { TypedEmitter } from '../runtime/typed-emitter.js';
import { demoCameras } from '../actors/capture/index.js';
import { mintToken } from '../shared/protocol/access-token.js';
import { RIGHTS, type Right } from '../shared/protocol/rights.js';
import { DEFAULT_ADMISSION } from '../actors/p2p/admission.js';
import { P2pService } from '../actors/p2p/p2p-service.js';
import { registerBuiltinHandlers } from '../actors/p2p/builtin-handlers.js';
import { CLOUD_ACTOR } from '../actors/cloud/index.js';
import { planCamera, type CapturePlan } from './cameras/camera-plan.js';
import { createCameraRing } from './cameras/camera-ring.js';
import { CameraStatusBoard } from './cameras/camera-status.js';
import { runIdentity, type RunIdentity } from './identity/run-identity.js';
import { GatewayMetrics } from './metrics.js';
import { startGatewayNetwork } from './gateway-network.js';
import { captureWorkerFor, gatewayWorkers } from './gateway-workers.js';
import { gatewayP2pOptions } from './gateway-p2p.js';
import { reportCameras, reportCloud, reportP2p, reportSupervisor, type GatewayEventSink } from './gateway-events.js';
import { GatewayHttpServer, type Health } from './http-server.js';
import { cameraSnapshots, cloudSnapshots, gatewayStatus, p2pSnapshot, settledHeaps, statsRecords, workerHeaps, type GatewayCamera, type GatewayParts, type GatewayStatus } from './gateway-report.js';
import { CAPTURE_WORKERS, DEFAULT_KEEP_ALIVE, type GatewayEvents, type GatewayInfo, type GatewayLogLevel, type GatewayOptions } from './gateway-options.js';

/** The browser viewer (client/browser, bundled by `npm run build:web`), served at `/` of the HTTP server. */
const VIEWER_DIR = fileURLToPath(new URL('../www/', import.meta.url));

/** The parts a running gateway holds. */
interface Running extends GatewayParts {
  identity: RunIdentity;
}

export class Gateway extends TypedEmitter<GatewayEvents> {
  /** Prometheus metrics (prom-client); served at `/metrics` when `http` is given. */
  readonly metrics: GatewayMetrics;
  private running: Running | undefined;
  /** The periodic memory look (memory.trimEvery, memory.dropIdleCode); its counts feed /metrics. */
  private memoryLook: PeriodicTrim | undefined;
  private readonly cleanup: (() => Promise<void> | void)[] = [];
  private state: 'idle' | 'starting' | 'running' | 'stopping' | 'stopped' = 'idle';
  private stopRequested: (() => void) | undefined;
  private readonly stopAsked: Promise<void>;
  private readonly startedAt = Date.now();
  private fatalError: IvError | undefined;
  private starting: Promise<GatewayInfo> | undefined;
  private p2pClosed: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  /** Where the parts' reports go (gateway-events.ts): this gateway's events, log and metrics. */
  private readonly sink: GatewayEventSink;

  constructor(private readonly opts: GatewayOptions = {}) {
    super();
    this.stopAsked = new Promise<void>((resolve) => {
      this.stopRequested = resolve;
    });
    this.metrics = new GatewayMetrics({
      cameras: () => cameraSnapshots(this.running),
      p2p: () => p2pSnapshot(this.running),
      cloud: () => cloudSnapshots(this.running),
      workers: () => workerHeaps(this.running),
      memoryLooks: () => this.memoryLook?.counts,
      afterLeave: () => this.running?.p2p?.trim.counts,
    });
    this.sink = {
      emit: (event, ...args) => this.emit(event, ...args),
      log: (level, component, msg, fields) => this.log(level, component, msg, fields),
      metrics: this.metrics,
    };
  }

  private log(level: GatewayLogLevel, component: string, msg: string, fields?: Record<string, unknown>): void {
    this.emit('log', fields ? { level, component, msg, fields } : { level, component, msg });
  }


  /** What the started gateway tells about itself; throws before start() resolved. */
  get info(): GatewayInfo {
    if (!this.running) {
      throw new IvError('IV_ERR_NOT_INITIALIZED', 'the gateway is not running; call start() first');
    }
    return this.running.info;
  }

  /** The gateway failed for good (the p2p worker died, a supervisor gave up). */
  get failed(): IvError | undefined {
    return this.fatalError;
  }

  /** An access token for app `peerId` (default: every right, 24 h). */
  token(peerId: string, opts: { ttlS?: number; rights?: readonly Right[] } = {}): string {
    const r = this.running;
    if (!r) {
      throw new IvError('IV_ERR_NOT_INITIALIZED', 'the gateway is not running; call start() first');
    }
    return mintToken(r.identity.secret, { deviceId: r.info.deviceId, peerId, expires: Math.floor(Date.now() / 1000) + (opts.ttlS ?? 86_400), rights: [...(opts.rights ?? RIGHTS)] });
  }

  /**
   * 200-worthy when every permanent worker and actor runs and signaling is connected. While
   * start-up waits for the broker (the workers already run, cameras capture and record):
   * not ok, the reason naming the broker.
   */
  health(): Health {
    const r = this.running;
    if (!r || (this.state !== 'running' && this.state !== 'starting')) {
      return { ok: false, reasons: [`the gateway is ${this.state}`] };
    }
    const reasons = r.system.notRunning().map((s) => `supervisor: ${s}`);
    if (!r.p2p?.signalingConnected) {
      reasons.push(`signaling: not connected to the broker ${redactUrlCredentials(r.info.brokerUrl)}${r.p2p ? '' : ' (start-up waits for it)'}`);
    }
    if (this.fatalError) {
      reasons.push(`fatal: ${this.fatalError.code} ${this.fatalError.message}`);
    }
    return { ok: reasons.length === 0, reasons };
  }

  /** Cameras, apps, streams and recording (the `/api/status` answer). */
  async status(): Promise<GatewayStatus> {
    const r = this.running;
    if (!r) {
      throw new IvError('IV_ERR_NOT_INITIALIZED', 'the gateway is not running; call start() first');
    }
    return gatewayStatus(r, Math.round((Date.now() - this.startedAt) / 1000), this.health());
  }

  /** Each camera's state and stream statistics, the P2P totals, the recording: as log records. */
  async report(): Promise<void> {
    const r = this.running;
    if (r) {
      for (const rec of await statsRecords(r)) {
        this.emit('log', rec);
      }
    }
  }

  /** Each isolate's V8 heap, after a full GC in each when node runs with `--expose-gc` (benchmarks). */
  async settleMemory(): Promise<Record<string, WorkerHeap>> {
    const r = this.running;
    if (!r) {
      throw new IvError('IV_ERR_NOT_INITIALIZED', 'the gateway is not running; call start() first');
    }
    return settledHeaps(r);
  }

  async start(): Promise<GatewayInfo> {
    if (this.state !== 'idle') {
      throw new IvError('IV_ERR_ALREADY_INITIALIZED', `the gateway was already started (it is ${this.state})`);
    }
    this.state = 'starting';
    this.starting = this.startOrTearDown();
    return this.starting;
  }

  /** start()'s work; settles only after a failed or stopped start-up is torn down (what stop() waits for). */
  private async startOrTearDown(): Promise<GatewayInfo> {
    try {
      const info = await this.startParts();
      if (this.state !== 'starting') {
        throw new IvError('IV_ERR_CLOSED', 'the gateway was stopped before start-up finished');
      }
      this.state = 'running';
      return info;
    } catch (err) {
      await this.drainRecordings(); // stopped (or failed) while waiting for the broker: what was recorded goes to the store too
      await this.teardown();
      this.state = 'stopped';
      throw err;
    }
  }

  private async startParts(): Promise<GatewayInfo> {
    const o = this.opts;
    if (o.captureWorker !== undefined && !CAPTURE_WORKERS.includes(o.captureWorker)) {
      throw new IvError('IV_ERR_INVALID_PARAM', `captureWorker: expected ${CAPTURE_WORKERS.join(', ')}, got ${JSON.stringify(o.captureWorker)}`, { field: 'captureWorker' });
    }
    const dataDir = o.dataDir ?? o.record?.dir ?? 'ivgw-data';
    const identity = await runIdentity({ dataDir, deviceId: o.deviceId ?? (process.env.IVGW_DEVICE_ID || undefined), secret: o.secret ?? (process.env.IVGW_DEVICE_SECRET || undefined) });
    this.cleanup.push(() => identity.dispose());
    const trim = new PeriodicTrim(o.trimEveryMs ?? 60_000, undefined, o.dropIdleCode ?? true);
    this.memoryLook = trim;
    this.cleanup.push(() => trim.close());
    const deviceId = identity.id;
    if (identity.created) {
      this.log('info', 'ivgw', `created the device identity ${identity.file} (id ${deviceId}; secret and DTLS certificate inside, mode 0600)`, { file: identity.file, deviceId });
    }
    // the network first: a port in use fails the start before any worker exists
    const { broker, brokerUrl, stunResponder, stunUrl, iceBind } = await startGatewayNetwork(o, {
      deviceId,
      secret: identity.secret,
      log: (level, component, msg, fields) => this.log(level, component, msg, fields),
      refused: (what) => this.metrics.brokerRefused(what),
      cleanup: (fn) => this.cleanup.push(fn),
    });
    const cameras: GatewayCamera[] = (await cameraPlans(o)).map((p) => ({ ...p, ring: createCameraRing(p.config.ringBytes) }));
    const record = o.record;
    const recorded = record ? cameras.filter((c) => c.config.recording !== 'off' && c.video) : [];
    const system = new ActorSystem({ workers: gatewayWorkers(o, deviceId, cameras, recorded) });
    reportSupervisor(system, this.sink, (err) => {
      this.fatalError = err;
    });
    const status = new CameraStatusBoard(cameras.map((c) => c.camera));
    reportCameras(system, cameras, status, this.sink);
    await system.start();
    this.cleanup.push(() => system.stop());
    for (const c of recorded) {
      reportCloud(system, c.camera, this.sink);
      if (c.config.recording === 'full-time') {
        await system.ref(`cloud:${c.camera}`, CLOUD_ACTOR).call('CLOUD_FULL_TIME', { on: true });
      }
    }
    const keepAlive = o.keepAlive ?? DEFAULT_KEEP_ALIVE;
    const handlers = registerBuiltinHandlers(system, deviceId, (v) => {
      this.metrics.intercomEnded();
      this.log('info', `voice ${v.peer}`, `ended: ${v.frames} frames, ${v.bytes} bytes (${v.params})`, { frames: v.frames, bytes: v.bytes });
    }, () => this.metrics.commandAnswered());
    this.cleanup.push(() => handlers.unregister());
    const info: GatewayInfo = {
      deviceId,
      brokerUrl,
      websocketUrls: broker?.wsUrls ?? [],
      stunUrl,
      fingerprint: identity.fingerprint,
      identityFile: identity.file,
      channels: cameras.map((c) => ({ channel: c.channel, camera: c.camera, recording: recorded.includes(c) ? c.config.recording : 'off' })),
      httpUrl: undefined,
      captureWorker: captureWorkerFor(o.captureWorker),
    };
    // cameras capture and record from here on; /metrics, /healthz and /api/status answer while P2P waits for the broker
    const running: Running = { identity, system, cameras, recorded, status, p2p: undefined, maxStreams: o.admission?.maxStreams ?? DEFAULT_ADMISSION.maxStreams, handlers, info };
    this.running = running;
    if (o.http) {
      const http = await GatewayHttpServer.start({
        listen: o.http.listen,
        metrics: async () => ({ contentType: this.metrics.contentType, text: await this.metrics.text() }),
        health: () => this.health(),
        status: () => this.status(),
        ...(o.http.bearerToken !== undefined ? { bearerToken: o.http.bearerToken } : {}),
        ...(o.http.openHealth ? { openHealth: true } : {}),
        ...(o.http.staticDir !== undefined ? { staticDir: o.http.staticDir } : existsSync(VIEWER_DIR) ? { staticDir: VIEWER_DIR } : {}),
      });
      this.cleanup.push(() => http.close());
      info.httpUrl = http.url;
      this.log('info', 'ivgw', `HTTP ${http.url} (/metrics, /healthz, /api/status)`, { url: http.url });
    }
    const starting = P2pService.start(gatewayP2pOptions(o, { system, identity, brokerUrl, stunUrl, iceBind, cameras, recorded, keepAlive, log: this.sink.log }), (service) => reportP2p(service, this.sink));
    starting.then((service) => this.cleanup.push(() => this.closeP2p(service)), () => undefined);
    const p2p = await Promise.race([starting, this.stopAsked.then(() => undefined)]);
    if (!p2p) {
      throw new IvError('IV_ERR_CLOSED', 'the gateway was stopped before start-up finished');
    }
    this.log('info', 'ivgw', `STUN ${stunUrl}${stunResponder ? ' (built-in)' : ''}; keep-alive ${keepAlive.timeInterS > 0 && keepAlive.maxAttemptNum > 0 ? `every ${keepAlive.timeInterS} s, ${keepAlive.maxAttemptNum} probes` : 'off'}`, { stun: stunUrl });
    if (broker && o.brokerListen) {
      const b = broker;
      this.log('info', 'ivgw', `MQTT broker listening on ${o.brokerListen.map((l, i) => `${l.host}:${i === 0 ? b.port : l.port}`).join(', ')}${b.tlsUrl ? `; TLS ${b.tlsUrl}` : ''}`);
    }
    if (broker && broker.wsUrls.length > 0) {
      this.log('info', 'ivgw', `MQTT over WebSocket (browsers) on ${broker.wsUrls.join(', ')}`, { websocket: broker.wsUrls });
    }
    running.p2p = p2p;
    return info;
  }

  /** Stop everything (apps told bye, recording drained up to 3 s); safe to call at any time, also during start(); every call waits for the one stop. */
  stop(): Promise<void> {
    this.stopping ??= this.stopOnce();
    return this.stopping;
  }

  private async stopOnce(): Promise<void> {
    if (this.state === 'idle' || this.state === 'stopped') {
      this.state = 'stopped';
      return;
    }
    const wasStarting = this.state === 'starting';
    this.state = 'stopping';
    this.stopRequested?.();
    if (wasStarting) {
      await this.starting?.catch(() => undefined); // start() sees the request, drains the recordings, tears down and rejects
      return;
    }
    const p2p = this.running?.p2p;
    if (p2p) {
      await this.closeP2p(p2p); // p2p first: every app is told bye while the workers still run
    }
    await this.drainRecordings();
    await this.teardown();
    this.state = 'stopped';
  }

  /** Each recorded camera's recording closed and drained to the store, up to 3 s per camera (the rest stays spooled for the next run). */
  private async drainRecordings(): Promise<void> {
    const r = this.running;
    for (const c of r?.recorded ?? []) {
      const res = await r?.system.ref(`cloud:${c.camera}`, CLOUD_ACTOR).call('CLOUD_CLOSE', { drainMs: 3_000 }, { timeoutMs: 60_000 }).catch(() => undefined);
      this.log(res ? 'info' : 'warn', `cloud ${c.camera}`, `closed; ${res ? `${res.pending} objects of the local recording not yet uploaded (the next run uploads them)` : 'close failed'}`, res ? { pending: res.pending } : {});
    }
  }

  /** Once: a second call waits for the first. */
  private closeP2p(service: P2pService): Promise<void> {
    this.p2pClosed ??= service.close().catch(() => undefined);
    return this.p2pClosed;
  }

  private async teardown(): Promise<void> {
    for (const f of this.cleanup.splice(0).reverse()) {
      await Promise.resolve().then(f).catch(() => undefined);
    }
    this.running = undefined;
  }
}

async function cameraPlans(o: GatewayOptions): Promise<CapturePlan[]> {
  if (o.cameras) {
    return Promise.all(o.cameras.map((c) => planCamera(c)));
  }
  const demo = demoCameras();
  if (o.video) {
    demo[0] = { camera: `file-${o.video.file.split('/').pop() ?? 'video'}`, video: { codec: o.video.codec }, source: { kind: 'file', video: o.video.file, fps: o.video.fps } };
  }
  return demo.map((d, channel) => ({ ...d, channel, notes: [], config: { name: d.camera, channel, source: { kind: 'push' }, transcode: false, recording: 'full-time', retention: { maxAgeS: 86_400, maxBytes: 1 << 30 } } }));
}
