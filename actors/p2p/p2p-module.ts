/**
 * p2p-module — the SDK's P2P API (iv_av.h) one-to-one in TypeScript:
 *   init({ onSendInit, onSendGet, onSendStop, onEvent, onRecvInit, onRecvVoice,
 *          onCommand, keepAlive })            iv_avt_p2p_init
 *   exit()                                     iv_avt_p2p_exit
 *   setBufWatermark(low, warn, high)           iv_avt_p2p_set_buf_watermark
 *   getSendBuf(handle) / getSendStatus(handle) iv_avt_p2p_get_send_buf / _status
 * Callbacks run on the calling (main) thread. Without onSendGet, streams are the
 * built-in FLV live streams of the camera rings; with it, onSendGet is polled every
 * 10 ms per stream and its bytes are sent as they are (paused above the HIGH mark).
 * Handles returned by onSendInit / onRecvInit stay on this thread (threads see numbers).
 *
 * Keep-alive (keepAlive, both fields > 0): probes the first stun: server of
 * ice.iceServers; PEER_READY on the first answered round (without keep-alive: when
 * init completes), PEER_CONNECT_FAIL while the server cannot be reached at start
 * (retried with backoff), PEER_ERROR when a round is lost (the app connections that
 * are gone are restarted), PEER_ADDR_CHANGED when the mapped address changes (every
 * app's connection is ICE-restarted; its streams and handles stay). No handle (null).
 * Events (beside the SDK's callbacks): `network` (every keep-alive result) and
 * `listenererror` (a user callback or listener that threw; without a listener, a
 * process warning).
 * Owns: the signaling service, the handle tables, the onSendGet pumps; it shares the
 * process-wide P2P host (p2p-host.ts: pinned p2p worker, io worker with the command
 * and voice actors) with every other P2pModule of the process. exit() closes this
 * device's apps and signaling, never the host.
 * Must never: let a throwing user callback take down a stream of another app.
 */
import type { ActorSystem } from '../../runtime/actor-system.js';
import { IvError, invalidParam } from '../../runtime/errors.js';
import { TypedEmitter } from '../../runtime/typed-emitter.js';
import type { CameraChannel, PeerArgs } from './peer-state.js';
import type { P2pServiceEvents } from './p2p-service.js';
import { startEmbeddedBroker, type EmbeddedBroker } from './embedded-broker.js';
import { acquireP2pHost } from './p2p-host.js';
import { P2pService } from './p2p-service.js';
import { belowLow, checkWatermarks, type Watermarks } from './watermark.js';
import { keepAliveProblem, type NetworkEvent } from './keep-alive.js';
import { parseStunUrl } from './stun.js';
import { admissionProblem, type AdmissionLimits } from './admission.js';

/** Without watermarks onSendGet is not polled while a stream's backlog is above this, until it is below PULL_RESUME_BYTES. */
const PULL_LIMIT_BYTES = 1 << 20;
const PULL_RESUME_BYTES = 512 * 1024;

/** iv_avt_event_e */
export const IV_AVT_EVENT = {
  P2P_PEER_READY: 0,
  P2P_PEER_CONNECT_FAIL: 1,
  P2P_PEER_ERROR: 2,
  P2P_PEER_ADDR_CHANGED: 3,
  P2P_WATERMARK_LOW: 4,
  P2P_WATERMARK_WARN: 5,
  P2P_WATERMARK_HIGH: 6,
  P2P_BUTT: 7,
} as const;
export type IvAvtEvent = (typeof IV_AVT_EVENT)[keyof typeof IV_AVT_EVENT];

export interface SendStatus {
  instNetRate: number;
  aveSentRate: number;
  sumSentAcked: number;
}

export interface P2pInitParams {
  onSendInit?: (params: string, peer: string) => unknown;
  onSendGet?: (handle: unknown) => Uint8Array | null | undefined;
  onSendStop?: (handle: unknown) => number | void;
  onEvent?: (event: IvAvtEvent, handle: unknown) => void;
  onRecvInit?: (params: string, peer: string) => unknown;
  onRecvVoice?: (handle: unknown, data: Uint8Array | null, len: number) => void;
  onCommand?: (command: Uint8Array, len: number, peer: string) => Uint8Array | string | null;
  keepAlive?: { timeInterS: number; maxAttemptNum: number };
}

export interface P2pDeviceOptions {
  deviceId: string;
  secret: string | Buffer;
  /** An MQTT broker URL; without it an embedded broker runs on `mqttPort` (0 = any). */
  broker?: string;
  mqttPort?: number;
  cameras?: CameraChannel[];
  ice?: PeerArgs['ice'];
  commandDeadlineMs?: number;
  /** Apps and streams beyond these are refused with IV_ERR_BUSY (default DEFAULT_ADMISSION). */
  admission?: AdmissionLimits;
}

interface StreamEntry {
  peer: string;
  stream: number;
  handle: unknown;
  pump: NodeJS.Timeout | undefined;
  /** Above HIGH, until the backlog is below LOW: onSendGet is not called. */
  paused?: boolean;
}

/** What a P2pModule reports besides the SDK's callbacks. */
export type P2pModuleEvents = {
  /** A keep-alive result (also reported to onEvent as PEER_READY / _CONNECT_FAIL / _ERROR / _ADDR_CHANGED). */
  network: [event: NetworkEvent];
};

export class P2pModule extends TypedEmitter<P2pModuleEvents> {
  private system: ActorSystem | undefined;
  private service: P2pService | undefined;
  private broker: EmbeddedBroker | undefined;
  private cb: P2pInitParams = {};
  private watermarks: Watermarks = { low: 0, warn: 0, high: 0 };
  private readonly streams = new Map<string, StreamEntry>();
  private readonly byHandle = new Map<unknown, StreamEntry>();
  private nextHandle = 1;
  private unregister: () => void = () => undefined;

  constructor(private readonly device: P2pDeviceOptions) {
    super();
  }

  get brokerUrl(): string | undefined {
    return this.device.broker ?? this.broker?.url;
  }

  /** iv_avt_p2p_init */
  async init(params: P2pInitParams): Promise<void> {
    if (this.system) {
      throw new IvError('IV_ERR_ALREADY_INITIALIZED', 'p2p is already initialised; call exit() first');
    }
    const ka = params.keepAlive;
    // either field 0 turns keep-alive off (the SDK's rule): the other is then not checked
    const kaProblem = ka && ka.timeInterS !== 0 && ka.maxAttemptNum !== 0 ? keepAliveProblem(ka, 1) : undefined;
    if (kaProblem) {
      throw invalidParam(kaProblem.field, kaProblem.message);
    }
    const keepAliveOn = ka !== undefined && ka.timeInterS > 0 && ka.maxAttemptNum > 0;
    const stunServer = (this.device.ice?.iceServers ?? []).find((u) => parseStunUrl(u) !== undefined);
    if (keepAliveOn && !stunServer) {
      throw invalidParam('keepAlive', 'the keep-alive probes the P2P (STUN) server: put a stun: URL in ice.iceServers, or set timeInterS or maxAttemptNum to 0');
    }
    const admission = this.device.admission && admissionProblem(this.device.admission);
    if (admission) {
      throw invalidParam(admission.field, admission.message);
    }
    if (!params.onSendGet && (this.device.cameras ?? []).length === 0) {
      throw invalidParam('onSendGet', 'without onSendGet the device needs cameras for its built-in streams');
    }
    this.cb = params;
    const system = await acquireP2pHost();
    this.unregister = this.registerCallbacks(system);
    this.system = system;
    try {
      if (!this.device.broker) {
        // every client authenticated and kept to its own topics (broker-acl.ts), as the gateway's broker
        this.broker = await startEmbeddedBroker({ port: this.device.mqttPort ?? 0, acl: { deviceId: this.device.deviceId, secret: this.device.secret } });
      }
      this.service = await P2pService.start({
        system,
        worker: 'p2p',
        deviceId: this.device.deviceId,
        secret: this.device.secret,
        brokerUrl: this.brokerUrl as string,
        ...(!this.device.broker ? { broker: { connectOptions: { username: `device:${this.device.deviceId}`, password: this.device.secret } } } : {}),
        cameras: this.device.cameras ?? [],
        ice: this.device.ice ?? { bindAddress: '127.0.0.1', iceServers: [] },
        watermarks: this.watermarks,
        customSource: params.onSendGet !== undefined,
        ...(params.onCommand ? { commandActor: 'command' } : {}), // without onCommand apps get IV_ERR_NOT_SUPPORTED
        voiceActor: 'voice',
        commandDeadlineMs: this.device.commandDeadlineMs ?? 2_000,
        ...(this.device.admission ? { admission: this.device.admission } : {}),
        ...(keepAliveOn && ka && stunServer ? { keepAlive: { server: stunServer, timeInterS: ka.timeInterS, maxAttemptNum: ka.maxAttemptNum, ...(this.device.ice?.bindAddress ? { bindAddress: this.device.ice.bindAddress } : {}) } } : {}),
      });
      this.service.on('peer', (peer, e) => this.onPeerEvent(peer, e));
      this.service.on('network', (e) => this.onNetworkEvent(e));
    } catch (err) {
      await this.exit();
      throw err;
    }
    if (!keepAliveOn) {
      // without keep-alive, init itself is the "P2P ready" moment; with it, the first answered probe round is
      this.guard('onEvent', () => this.cb.onEvent?.(IV_AVT_EVENT.P2P_PEER_READY, null));
    }
  }

  private onNetworkEvent(e: NetworkEvent): void {
    const event = e.type === 'ready' ? IV_AVT_EVENT.P2P_PEER_READY
      : e.type === 'connect-fail' ? IV_AVT_EVENT.P2P_PEER_CONNECT_FAIL
        : e.type === 'error' ? IV_AVT_EVENT.P2P_PEER_ERROR
          : IV_AVT_EVENT.P2P_PEER_ADDR_CHANGED;
    this.emit('network', e);
    this.guard('onEvent', () => this.cb.onEvent?.(event, null));
  }

  /** iv_avt_p2p_exit */
  async exit(): Promise<void> {
    for (const entry of [...this.streams.values()]) {
      this.endStream(entry);
    }
    await this.service?.close();
    this.unregister();
    this.unregister = () => undefined;
    await this.broker?.close();
    this.service = undefined;
    this.system = undefined;
    this.broker = undefined;
  }

  /** iv_avt_p2p_set_buf_watermark: global for every stream; 0/0/0 disables. */
  async setBufWatermark(low: number, warn: number, high: number): Promise<void> {
    const w = { low, warn, high };
    const problem = checkWatermarks(w);
    if (problem) {
      throw invalidParam(problem.field, problem.message);
    }
    this.watermarks = w;
    await this.service?.setWatermarks(w);
  }

  /** iv_avt_p2p_get_send_buf: bytes sent and not yet acknowledged by the app. */
  getSendBuf(handle: unknown): number {
    return this.statsOf(handle).backlog;
  }

  /** iv_avt_p2p_get_send_status */
  getSendStatus(handle: unknown): SendStatus {
    const s = this.statsOf(handle);
    return { instNetRate: s.instNetRate, aveSentRate: s.aveSentRate, sumSentAcked: s.sumSentAcked };
  }

  private statsOf(handle: unknown): NonNullable<ReturnType<P2pService['streamStats']>> {
    const entry = this.byHandle.get(handle);
    const stats = entry && this.service?.streamStats(entry.peer, entry.stream);
    if (!entry || !stats) {
      throw new IvError('IV_ERR_INVALID_PARAM', 'no open stream has this handle', { field: 'handle' });
    }
    return stats;
  }

  /** Register this device's callbacks under device-scoped names; returns the undo. */
  private registerCallbacks(system: ActorSystem): () => void {
    const voiceHandles = new Map<number, unknown>();
    let nextVoice = 1;
    const dev = this.device.deviceId;
    const undo: (() => void)[] = [];
    if (this.cb.onCommand) {
      const onCommand = this.cb.onCommand;
      undo.push(system.callbacks.register(`onCommand:${dev}`, ((data: Uint8Array, len: number, peer: string) => onCommand(data, len, peer))));
    }
    undo.push(system.callbacks.register(`onRecvInit:${dev}`, ((params: string, peer: string) => {
      const id = nextVoice++;
      voiceHandles.set(id, this.cb.onRecvInit ? this.cb.onRecvInit(params, peer) : id);
      return id;
    })));
    undo.push(system.callbacks.register(`onRecvVoice:${dev}`, ((id: number, data: Uint8Array | null, len: number) => {
      const handle = voiceHandles.get(id);
      if (data === null) {
        voiceHandles.delete(id);
      }
      this.cb.onRecvVoice?.(handle, data, len);
    })));
    return () => undo.forEach((fn) => fn());
  }

  private key(peer: string, stream: number): string {
    return `${peer}\u0000${stream}`;
  }

  private onPeerEvent(peer: string, e: P2pServiceEvents['peer'][1]): void {
    if (e.type === 'stream-open' && this.streams.has(this.key(peer, e.stream))) {
      return; // a stream resumed by a restarted peer actor keeps its handle
    }
    if (e.type === 'stream-open') {
      const params = e.detail.params;
      const handle = this.cb.onSendInit ? this.guard('onSendInit', () => this.cb.onSendInit?.(params, peer)) ?? this.nextHandle++ : this.nextHandle++;
      const entry: StreamEntry = { peer, stream: e.stream, handle, pump: undefined };
      this.streams.set(this.key(peer, e.stream), entry);
      this.byHandle.set(handle, entry);
      if (this.cb.onSendGet) {
        const onSendGet = this.cb.onSendGet;
        entry.pump = setInterval(() => {
          const stats = this.service?.streamStats(peer, entry.stream);
          // above HIGH no data is pulled until the backlog is below LOW (the SDK's rule, watermark.ts)
          const w = this.watermarks;
          if (stats) {
            // without watermarks (0/0/0: no alerts) the runtime still bounds what waits: no pull above 1 MiB until below 512 KiB
            entry.paused = w.high > 0
              ? (entry.paused ? !belowLow(stats.backlog, w) : stats.backlog > w.high)
              : (entry.paused ? stats.backlog >= PULL_RESUME_BYTES : stats.backlog > PULL_LIMIT_BYTES);
            if (entry.paused) {
              return;
            }
          }
          const data = this.guard('onSendGet', () => onSendGet(entry.handle));
          if (data && data.byteLength > 0) {
            this.service?.send(peer, entry.stream, data);
          }
        }, 10);
      }
    } else if (e.type === 'stream-close') {
      const entry = this.streams.get(this.key(peer, e.stream));
      if (entry) {
        this.endStream(entry);
      }
    } else if (e.type === 'watermark') {
      const entry = this.streams.get(this.key(peer, e.stream));
      const level = e.detail.level;
      const event = level === 'low' ? IV_AVT_EVENT.P2P_WATERMARK_LOW : level === 'warn' ? IV_AVT_EVENT.P2P_WATERMARK_WARN : IV_AVT_EVENT.P2P_WATERMARK_HIGH;
      if (entry) {
        this.guard('onEvent', () => this.cb.onEvent?.(event, entry.handle));
      }
    } else if (e.type === 'closed') {
      for (const entry of [...this.streams.values()]) {
        if (entry.peer === peer) {
          this.endStream(entry);
        }
      }
    }
  }

  private endStream(entry: StreamEntry): void {
    if (this.streams.delete(this.key(entry.peer, entry.stream))) {
      clearInterval(entry.pump);
      this.byHandle.delete(entry.handle);
      this.guard('onSendStop', () => this.cb.onSendStop?.(entry.handle));
    }
  }
}
