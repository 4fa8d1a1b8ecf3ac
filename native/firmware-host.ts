/**
 * firmware-host — runs a firmware library (`libfw.so`, built against native/include)
 * on this runtime: loads the iv_native addon, dlopens the firmware, calls its
 * `iv_firmware_main(argc, argv)` on a native thread, and serves every iv_* call it
 * makes with the TS SDK (P2pModule, CloudModule) on the main thread. C callbacks run on
 * the addon's callback thread (native/README.md, "Threading contract").
 * Owns: one P2pModule and one CloudModule for the device, the JS ↔ C handle tables.
 * Must never: leave a C caller blocked (every request is answered, also on a throw),
 * or load node-datachannel on this thread (P2pModule keeps it in the pinned p2p worker).
 */
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IvError } from '../runtime/errors.js';
import { CloudModule, P2pModule, type AvFormat, type CloudInitParams, type P2pInitParams, type StoreConfig } from './sdk.js';
import { IV, vendorCode, vendorCodeOf } from './vendor-codes.js';
import { activeServices } from '../actors/cloud/plan.js';

interface NativeAddon {
  start(path: string, argv: string[], dispatch: (fn: string, nums: number[], bytes: Buffer | null) => void, onResult: (id: number, code: number, bytes: Buffer | null, num: number) => void, onExit: (rc: number) => void): string | undefined;
  reply(id: number, code: number, out?: number[]): void;
  post(kind: string, id: number, num: number, s1: string | null, s2: string | null, bytes: Buffer | null): void;
  take(stream: number): Buffer | null;
  shutdown(): void;
  counters(): { sendGetCalls: number; freed: number };
}

/** The built addon (native/build/Release), from dist/native/ or the source tree. */
export const ADDON_PATH = fileURLToPath(new URL('../../native/build/Release/iv_native.node', import.meta.url));

export function loadAddon(): NativeAddon {
  if (!existsSync(ADDON_PATH)) {
    throw new Error(`the C API addon is not built (${ADDON_PATH}); run npm run build`);
  }
  return createRequire(import.meta.url)(ADDON_PATH) as NativeAddon;
}

export interface FirmwareHostOptions {
  path: string;
  args: string[];
  deviceId: string;
  secret: string;
  broker?: string;
  mqttPort?: number;
  /** ICE bind address; undefined binds every interface. */
  iceBind?: string;
  stun?: string;
  /** Where iv_cs_* records (local recording and spool) and uploads; absent: cloud storage refuses init. */
  record?: { dir: string; store: StoreConfig };
  log?: (line: string) => void;
}

const AUDIO_CODECS: Record<number, 'pcm' | 'g711a' | 'g711u' | 'aac' | undefined> = { 0: 'pcm', 1: 'g711a', 2: 'g711u', 4: 'aac' };
const UNSUPPORTED_AUDIO = new Set([3, 5, 6]); // G726, AMR, ADPCMA
const SAMPLE_RATES = new Set([8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 96000]);

export class FirmwareHost {
  readonly addon = loadAddon();
  readonly p2p: P2pModule;
  readonly cloud: CloudModule | undefined;
  private nextStream = 1;
  private nextVoice = 1;
  private nextTask = 1;
  private readonly tasks = new Map<number, (bytes: Buffer | null, num: number) => void>();
  private readonly pictures = new WeakMap<Uint8Array, number>();
  private exitResolve: (rc: number) => void = () => undefined;
  /** Resolves with iv_firmware_main's return value. */
  readonly exited = new Promise<number>((r) => (this.exitResolve = r));
  private closed = false;
  private readonly log: (line: string) => void;
  /** iv_* calls served, by function (diagnostics and the benchmark). */
  readonly calls = new Map<string, number>();

  constructor(private readonly opts: FirmwareHostOptions) {
    this.log = opts.log ?? ((l) => process.stdout.write(`${l}\n`));
    this.p2p = new P2pModule({
      deviceId: opts.deviceId,
      secret: opts.secret,
      ...(opts.broker ? { broker: opts.broker } : { mqttPort: opts.mqttPort ?? 1883 }),
      ice: { ...(opts.iceBind ? { bindAddress: opts.iceBind } : {}), iceServers: opts.stun ? [opts.stun] : [] },
    });
    if (opts.record) {
      const { dir, store } = opts.record;
      if (store.kind === 'local' && !existsSync(join(store.dir, opts.deviceId, 'plan.json'))) {
        // embedded default, as `ivgw run` records every camera: a full-time plan in the local store
        mkdirSync(join(store.dir, opts.deviceId), { recursive: true });
        writeFileSync(join(store.dir, opts.deviceId, 'plan.json'), JSON.stringify({ fullTime: { enabled: true, expiresAt: null }, storageDays: 7 }));
      }
      this.cloud = new CloudModule({ deviceId: opts.deviceId, channel: 0, store, spoolDir: join(dir, 'local', 'ch0') });
    }
  }

  start(): void {
    // an absolute path: dlopen would search the system's library path for a bare name
    const problem = this.addon.start(resolve(this.opts.path), this.opts.args, (fn, nums, bytes) => this.dispatch(fn, nums, bytes), (id, _code, bytes, num) => {
      const t = this.tasks.get(id);
      this.tasks.delete(id);
      t?.(bytes, num);
    }, (rc) => this.exitResolve(rc));
    if (problem) {
      throw new Error(`firmware ${this.opts.path}: ${problem}`);
    }
  }

  /** Exit the modules the firmware left running (their stop callbacks still reach C), then stop the callback thread. */
  async close(): Promise<void> {
    if (this.closed) {
      return;
    }
    this.closed = true;
    await this.p2p.exit().catch(() => undefined);
    if (this.cloud?.initialized) {
      await this.cloud.exit().catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 100)); // let queued callbacks (stop, results) run
    this.addon.shutdown();
    for (const t of this.tasks.values()) {
      t(null, 0);
    }
    this.tasks.clear();
  }

  private post(kind: string, id: number, num = 0, s1: string | null = null, s2: string | null = null, bytes: Uint8Array | null = null): void {
    if (!this.closed) {
      this.addon.post(kind, id, num, s1, s2, bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : null);
    }
  }

  private task<T>(kind: string, num: number, s2: string | null, bytes: Uint8Array | null, map: (b: Buffer | null, num: number) => T): Promise<T> {
    const id = this.nextTask++;
    return new Promise<T>((resolve) => {
      this.tasks.set(id, (b, n) => resolve(map(b, n)));
      this.post(kind, id, num, null, s2, bytes);
    });
  }

  /** `commands`: the firmware has a command callback (without one, apps get IV_ERR_NOT_SUPPORTED, as from a TS device without onCommand). */
  private p2pCallbacks(keepAlive: { timeInterS: number; maxAttemptNum: number }, commands: boolean): P2pInitParams {
    return {
      onSendInit: (params, peer) => {
        const id = this.nextStream++;
        this.post('send_init', id, 0, params, peer);
        return id;
      },
      onSendGet: (handle) => this.addon.take(handle as number),
      onSendStop: (handle) => {
        this.post('send_stop', handle as number);
      },
      onEvent: (event, handle) => this.post('event', typeof handle === 'number' ? handle : 0, event),
      onRecvInit: (params, peer) => {
        const id = this.nextVoice++;
        this.post('recv_init', id, 0, params, peer);
        return id;
      },
      onRecvVoice: (handle, data, len) => this.post('voice', handle as number, len, null, null, data),
      ...(commands ? { onCommand: (data: Uint8Array, _len: number, peer: string) => this.task('command', 0, peer, data, (b) => (b ? new Uint8Array(b) : null)) as unknown as Uint8Array } : {}),
      ...(keepAlive.timeInterS > 0 || keepAlive.maxAttemptNum > 0 ? { keepAlive } : {}),
    };
  }

  private cloudParams(nums: number[]): CloudInitParams | number {
    const [maxGop = 0, aType = -1, , aMode = -1, aBits = -1, aRate = 0, spf = 0, vType = -1, , , fps = 0] = nums;
    if (vType === 2 || UNSUPPORTED_AUDIO.has(aType)) {
      return IV.SYS_NOT_SUPPORT; // MJPG is not for cloud storage; G726/AMR/ADPCMA are not supported
    }
    const audioCodec = AUDIO_CODECS[aType];
    if ((vType !== 0 && vType !== 1) || !audioCodec || (aMode !== 0 && aMode !== 1) || !SAMPLE_RATES.has(aRate)) {
      return IV.CS_INIT_PRM_RANGE;
    }
    if (aBits !== 1) {
      return aBits === 0 || aBits === 2 ? IV.SYS_NOT_SUPPORT : IV.CS_INIT_PRM_RANGE; // only 16 bits
    }
    const channels = aMode === 1 ? 2 : 1;
    const avFormat: AvFormat = {
      video: { codec: vType === 0 ? 'h264' : 'h265', fps: fps === 0 ? 25 : fps },
      audio: { codec: audioCodec, sampleRate: aRate, channels, ...(audioCodec !== 'aac' ? { samplesPerFrame: spf } : {}) }, // G.711/PCM: 1024 (2048 stereo) only, 0 too is refused
    };
    return {
      maxGopSize: maxGop,
      avFormat,
      onPushStart: () => this.post('push_start', 0),
      onPushStop: () => this.post('push_stop', 0),
      onCapturePicture: (eventId) => this.task('capture', eventId, null, null, (b, picId) => {
        if (!b) {
          return null;
        }
        const pic = new Uint8Array(b);
        this.pictures.set(pic, picId);
        return pic;
      }),
      onPictureResult: (pic, code) => {
        const picId = this.pictures.get(pic);
        if (picId !== undefined) {
          this.pictures.delete(pic);
          this.post('pic_result', picId, vendorCode(code, 'cs'));
        }
      },
    };
  }

  /** One iv_* call from a firmware thread: answer it exactly once (sync or when its promise settles). */
  private dispatch(fn: string, nums: number[], bytes: Buffer | null): void {
    const [id = 0, ...a] = nums;
    this.calls.set(fn, (this.calls.get(fn) ?? 0) + 1);
    const reply = (code: number, out: number[] = []): void => this.addon.reply(id, code, out);
    const settle = (p: Promise<unknown>, ctx: 'p2p' | 'p2p-init' | 'cs' | 'cs-init', then?: () => void): void => {
      p.then(() => {
        then?.();
        reply(IV.NONE);
      }, (err: unknown) => reply(vendorCodeOf(err, ctx)));
    };
    const ctx = fn.startsWith('p2p') ? 'p2p' : 'cs';
    try {
      switch (fn) {
        case 'p2p_init': {
          const keepAlive = { timeInterS: a[0] ?? 0, maxAttemptNum: a[1] ?? 0 };
          settle(this.p2p.init(this.p2pCallbacks(keepAlive, a[2] === 1)), 'p2p-init', () => {
            this.log(`ivgw: device ${this.opts.deviceId} up; signaling ${this.p2p.brokerUrl ?? '?'}; firmware P2P (iv_avt_p2p_init)`);
          });
          return;
        }
        case 'p2p_exit':
          settle(this.p2p.exit(), 'p2p');
          return;
        case 'p2p_watermark':
          settle(this.p2p.setBufWatermark(a[0] ?? 0, a[1] ?? 0, a[2] ?? 0), 'p2p');
          return;
        case 'p2p_send_buf':
          reply(IV.NONE, [this.p2p.getSendBuf(a[0])]);
          return;
        case 'p2p_send_status': {
          const s = this.p2p.getSendStatus(a[0]);
          reply(IV.NONE, [s.instNetRate, s.aveSentRate, s.sumSentAcked]);
          return;
        }
        case 'cs_init': {
          if (!this.cloud) {
            reply(IV.CS_UPLOAD_AUTH_NOT_AVAILABLE); // --no-record: nowhere to store
            return;
          }
          const params = this.cloudParams(a);
          if (typeof params === 'number') {
            reply(params);
            return;
          }
          settle(this.cloud.init(params), 'cs-init', () => this.log(`ivgw: firmware cloud storage up (iv_cs_init); recording to ${this.opts.record?.dir ?? '?'}`));
          return;
        }
        case 'cs_exit':
          settle(this.requireCloud().exit(), 'cs');
          return;
        case 'cs_push':
          this.requireCloud().pushStream(a[0] === 1 ? 'video' : 'audio', { data: bytes ?? new Uint8Array(0), pts: a[1] ?? 0, ...(a[0] === 1 ? { keyframe: a[2] === 1 } : {}) });
          reply(IV.NONE);
          return;
        case 'cs_event': {
          const cloud = this.requireCloud();
          const [start, ext, eventId = 0, t1 = 0, t2 = 0] = a;
          const p = start === 1 ? (ext === 1 ? cloud.eventStartExt(eventId, t1, t2) : cloud.eventStart(eventId)) : (ext === 1 ? cloud.eventStopExt(eventId, t1, t2) : cloud.eventStop(eventId));
          settle(p, 'cs');
          return;
        }
        case 'cs_balance': {
          const cloud = this.requireCloud();
          cloud.getBalanceInfo(a[0] ?? 0).then((r) => {
            const s = activeServices(r.info);
            reply(r.code === 'IV_ERR_NONE' ? IV.NONE : IV.CS_QUERY_SERVICE_TIMEOUT, [s.fullTime || s.event ? 1 : 0, r.info.storageDays, s.csType, s.trialRemainingS]);
          }, (err: unknown) => reply(vendorCodeOf(err, 'cs')));
          return;
        }
        case 'cs_trans_time':
          settle(this.requireCloud().setTransTime(a[0] ?? 0, a[1] ?? 0), 'cs');
          return;
        default:
          reply(ctx === 'p2p' ? IV.AVT_FAILED : IV.SYS_COMMUNICATE_FAIL);
      }
    } catch (err) {
      reply(vendorCodeOf(err, ctx));
    }
  }

  private requireCloud(): CloudModule {
    if (!this.cloud) {
      throw new IvError('IV_ERR_NOT_INITIALIZED', 'cloud storage is off (--no-record)');
    }
    return this.cloud;
  }
}

