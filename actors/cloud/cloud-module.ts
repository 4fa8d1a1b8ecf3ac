/**
 * cloud-module — the SDK's cloud storage API (iv_cs.h) one-to-one in TypeScript:
 *   init({ maxGopSize, avFormat, onPushStart, onPushStop,
 *          onCapturePicture, onPictureResult })     iv_cs_init
 *   exit()                                          iv_cs_exit
 *   pushStream(type, pack)                          iv_cs_push_stream
 *   eventStart(id) / eventStop(id)                  iv_cs_event_start / _stop
 *   eventStartExt(id, eventS, streamS) / eventStopExt  iv_cs_event_start_ext / _stop_ext
 *   getBalanceInfo(timeoutS)                        iv_cs_get_balance_info
 *   setTransTime(uploadMs, replyMs)                 iv_cs_set_trans_time
 * pushStream validates each frame on the calling thread (the SDK's rules) and writes it
 * into the channel's FrameRing, sized `maxGopSize`: that ring is the pre-record buffer.
 * The cloud worker's CloudActor reads it while recording is wanted, segments, spools
 * and uploads. Callbacks run on this thread.
 *
 * Owns: the plan cache (in memory and `<spoolDir>/plan-cache.json`) and its timers, running events, the ring writer, the actor
 * system of the cloud worker. Must never: call onPushStart twice without onPushStop in
 * between, call onPictureResult for an event without picture, or accept a frame it
 * did not put into the ring.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActorSystem } from '../../runtime/actor-system.js';
import { withDeadline } from '../../runtime/deadline.js';
import type { ActorRef } from '../../runtime/actor-ref.js';
import { invalidParam, IvError, isIvErrorCode, type IvErrorCode } from '../../runtime/errors.js';
import { FrameRing } from '../../runtime/frame-ring.js';
import { Ingest } from '../capture/ingest.js';
import type { AudioCodecName, VideoCodecName } from '../media/codecs.js';
import type { CloudArgs } from './CloudActor.js';
import { CLOUD_ACTOR } from './index.js';
import { jpegProblem } from './jpeg.js';
import { checkKey } from '../../recording/keys.js';
import type { Retention } from '../../recording/recording-store.js';
import { checkStoreConfig, openStore, type StoreConfig } from './object-store.js';
import { fetchPlan, NO_PLAN, serviceActive, type BalanceInfo, type PlanSource } from './plan.js';

/** iv_cm_stream_type_e */
export const IV_CM_STREAM_TYPE = { VIDEO: 0, AUDIO: 1 } as const;

export interface AvFormat {
  video?: { codec: VideoCodecName; fps?: number };
  audio?: { codec: AudioCodecName; sampleRate: number; channels: 1 | 2; samplesPerFrame?: number };
}

export interface CloudInitParams {
  /** u32MaxGopSize: bytes, a multiple of 4 KB, at least one I-frame. */
  maxGopSize: number;
  avFormat: AvFormat;
  onPushStart?: () => void;
  onPushStop?: () => void;
  /** JPEG bytes for the event's snapshot, or null for none (then onPictureResult is never called). */
  onCapturePicture?: (eventId: number) => Uint8Array | null | undefined | Promise<Uint8Array | null | undefined>;
  /** The snapshot (the same object onCapturePicture returned) and the upload result. */
  onPictureResult?: (pic: Uint8Array, code: IvErrorCode) => void;
}

export interface StreamPack {
  data: Uint8Array;
  /** Timestamp in ms (u64PTS / u64TimeStamp). */
  pts: number;
  /** Video: true for an I-frame (eFrameType); checked against the NAL units. */
  keyframe?: boolean;
  seq?: number;
}

export interface CloudDeviceOptions {
  deviceId: string;
  channel?: number;
  store: StoreConfig;
  /** The local recording and spool directory. */
  spoolDir?: string;
  /** A control endpoint answering the plan JSON; default: `<device>/plan.json` in the store. */
  planUrl?: string;
  /** How often the plan is fetched again, s (1..3600, default 3600: the spec's hourly cache). */
  planRefreshS?: number;
  retention?: Retention;
  segmentS?: number;
  uploadConcurrency?: number;
}

export interface BalanceResult {
  code: 'IV_ERR_NONE' | 'IV_ERR_CS_QUERY_SERVICE_TIMEOUT';
  info: BalanceInfo;
}

interface RunningEvent {
  ext: boolean;
  eventStartMs: number;
  streamStartMs: number;
  picture: Uint8Array | undefined;
  pictureKey: string | undefined;
  ready: Promise<void>;
}

const NO_DATA_PAUSE_MS = 120_000;
const SESSION_MAX_S = 3_600;

export class CloudModule {
  private system: ActorSystem | undefined;
  private actor: ActorRef | undefined;
  private ingest: Ingest | undefined;
  private cb: CloudInitParams | undefined;
  private plan: BalanceInfo = NO_PLAN;
  private planTimer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private readonly planSource: PlanSource;
  private readonly events = new Map<number, RunningEvent>();
  private fullTimeOn = false;
  private pushing = false;
  private uploadMs = 30_000;
  private replyMs = 5_000;
  private readonly pictures = new Map<string, Uint8Array>();
  private unsubscribe: (() => void) | undefined;
  /** Errors thrown by user callbacks and upload problems, newest last (bounded). */
  readonly problems: string[] = [];

  private readonly spoolDir: string;

  constructor(private readonly device: CloudDeviceOptions) {
    checkKey(device.deviceId, 'deviceId');
    checkStoreConfig(device.store);
    if (device.channel !== undefined && (!Number.isInteger(device.channel) || device.channel < 0 || device.channel > 255)) {
      throw invalidParam('channel', `expected 0..255, got ${device.channel}`);
    }
    const refresh = device.planRefreshS ?? 3_600;
    if (!Number.isInteger(refresh) || refresh < 1 || refresh > 3_600) {
      throw invalidParam('planRefreshS', `expected 1..3600 s (the cache is refreshed at least hourly), got ${refresh}`);
    }
    this.spoolDir = device.spoolDir ?? join(tmpdir(), `ivgw-spool-${device.deviceId}-${device.channel ?? 0}`);
    this.plan = loadPlanCache(this.planCachePath) ?? NO_PLAN;
    this.planSource = device.planUrl ? { kind: 'url', url: device.planUrl } : { kind: 'store', store: openStore(device.store), device: device.deviceId };
  }

  get initialized(): boolean {
    return this.system !== undefined;
  }

  /** iv_cs_init */
  async init(params: CloudInitParams): Promise<void> {
    if (this.system) {
      throw new IvError('IV_ERR_ALREADY_INITIALIZED', 'cloud storage is already initialised; call exit() first');
    }
    const { maxGopSize, avFormat } = params;
    if (!Number.isInteger(maxGopSize) || maxGopSize < 4096 || maxGopSize % 4096 !== 0 || maxGopSize > 64 * 1024 * 1024) {
      throw invalidParam('maxGopSize', `expected a multiple of 4096 bytes (4 KB .. 64 MB), got ${maxGopSize}`);
    }
    const video = checkVideo(avFormat?.video);
    const audio = checkAudio(avFormat?.audio);
    if (!video && !audio) {
      throw invalidParam('avFormat', 'expected video, audio or both');
    }
    const ring = FrameRing.create({ dataBytes: maxGopSize, slots: 1024, keys: 64 });
    const args: CloudArgs = {
      device: this.device.deviceId,
      channel: this.device.channel ?? 0,
      ring: ring.buffer,
      ...(video ? { video } : {}),
      ...(audio ? { audio } : {}),
      store: this.device.store,
      spoolDir: this.spoolDir,
      retention: this.device.retention ?? { maxAgeS: 7 * 86_400, maxBytes: 0 },
      segmentS: this.device.segmentS ?? 2,
      sessionMaxS: SESSION_MAX_S,
      noDataPauseMs: NO_DATA_PAUSE_MS,
      uploadTimeoutMs: this.uploadMs,
      concurrency: this.device.uploadConcurrency ?? 2,
      progress: new SharedArrayBuffer(8),
    };
    const system = new ActorSystem({ workers: [{ name: 'cloud', resourceLimits: { maxYoungGenerationSizeMb: 4 }, actors: [{ id: 'cloud', module: CLOUD_ACTOR, args, handlerTimeoutMs: 3_600_000 }] }] });
    await system.start(); // nothing is kept when this fails: the module stays uninitialised
    this.ingest = new Ingest(ring, { ...(video ? { video: { codec: video.codec, maxFrameBytes: maxGopSize } } : {}), ...(audio ? { audio } : {}) });
    this.cb = params;
    this.system = system;
    this.actor = system.ref('cloud');
    this.unsubscribe = this.actor.onNotification('CLOUD_NOTICE', (b) => this.onNotice(b as Notice));
    system.on('event', (e) => {
      if (e.type === 'start' && e.child === 'cloud' && this.actor && this.actor.generation > 0) {
        void this.restoreActor();
      }
    });
    await this.actor.call('CLOUD_SET_TRANS_TIME', { uploadMs: this.uploadMs, replyMs: this.replyMs }, { timeoutMs: 60_000 });
    await this.getBalanceInfo(Math.max(1, Math.ceil(this.replyMs / 1000)));
    this.evaluatePlan(); // also when the query failed: the cached plan decides
    this.schedulePlanRefresh();
  }

  /** iv_cs_exit: ends recording (segments into the spool), waits for uploads up to the reply timeout. */
  async exit(): Promise<void> {
    const system = this.system;
    if (!system || !this.actor) {
      throw new IvError('IV_ERR_NOT_INITIALIZED', 'cloud storage is not initialised');
    }
    clearTimeout(this.planTimer);
    clearTimeout(this.expiryTimer);
    await Promise.allSettled([...this.events.values()].map((e) => e.ready));
    try {
      await this.actor.call('CLOUD_CLOSE', { drainMs: this.replyMs }, { timeoutMs: this.replyMs + 60_000 });
    } finally {
      this.unsubscribe?.();
      this.ingest?.close();
      await system.stop();
      for (const pic of this.pictures.values()) {
        this.safe('onPictureResult', () => this.cb?.onPictureResult?.(pic, 'IV_ERR_CLOSED'));
      }
      this.pictures.clear();
      if (this.pushing) {
        this.pushing = false;
        this.safe('onPushStop', () => this.cb?.onPushStop?.());
      }
      this.events.clear();
      this.fullTimeOn = false;
      this.system = undefined;
      this.actor = undefined;
      this.ingest = undefined;
      this.cb = undefined;
    }
  }

  /** iv_cs_push_stream: one video access unit (Annex-B) or one audio frame. Throws on refusal. */
  pushStream(type: 'video' | 'audio' | number, pack: StreamPack): void {
    const ingest = this.ingest;
    if (!ingest) {
      throw new IvError('IV_ERR_NOT_INITIALIZED', 'cloud storage is not initialised');
    }
    const kind = type === 'video' || type === IV_CM_STREAM_TYPE.VIDEO ? 'video' : type === 'audio' || type === IV_CM_STREAM_TYPE.AUDIO ? 'audio' : undefined;
    if (!kind) {
      throw invalidParam('type', `expected video/audio (0/1), got ${JSON.stringify(type)}`);
    }
    if (typeof pack !== 'object' || pack === null || !(pack.data instanceof Uint8Array)) {
      throw invalidParam('pack.data', 'expected the frame bytes');
    }
    if (typeof pack.pts !== 'number' || !Number.isFinite(pack.pts) || pack.pts < 0) {
      throw invalidParam('pack.pts', `expected a timestamp in ms, got ${String(pack.pts)}`);
    }
    if (!this.anyService()) {
      throw new IvError('IV_ERR_CS_APPLY_NO_SERVICE', 'no full-time or event cloud plan is active');
    }
    const r = kind === 'video' ? ingest.pushVideo(pack.data, pack.pts * 1000, pack.keyframe) : ingest.pushAudio(pack.data, pack.pts * 1000);
    if (!r.ok) {
      throw r.error;
    }
  }

  /** iv_cs_event_start */
  eventStart(eventId: number): Promise<void> {
    const now = Date.now();
    return this.startEvent(eventId, false, now, now);
  }

  /** iv_cs_event_start_ext: times < 300 are seconds before now, otherwise Unix seconds; both the same kind. */
  eventStartExt(eventId: number, eventStartS: number, streamStartS: number): Promise<void> {
    const [eventMs, streamMs] = extTimes(eventStartS, streamStartS, 'eventStartS', 'streamStartS');
    return this.startEvent(eventId, true, eventMs, streamMs);
  }

  /** iv_cs_event_stop */
  eventStop(eventId: number): Promise<void> {
    const now = Date.now();
    return this.stopEvent(eventId, false, now, now);
  }

  /** iv_cs_event_stop_ext */
  eventStopExt(eventId: number, eventStopS: number, streamStopS: number): Promise<void> {
    const [eventMs, streamMs] = extTimes(eventStopS, streamStopS, 'eventStopS', 'streamStopS');
    return this.stopEvent(eventId, true, eventMs, streamMs);
  }

  private async startEvent(eventId: number, ext: boolean, eventStartMs: number, streamStartMs: number): Promise<void> {
    const actor = this.requireActor();
    checkEventId(eventId);
    if (this.events.has(eventId)) {
      throw new IvError('IV_ERR_CS_EVENT_RUNNING', `event ${eventId} is already running; the same event cannot run twice (spec note 8)`, { field: 'eventId' });
    }
    if (!this.anyService()) {
      throw new IvError('IV_ERR_CS_APPLY_NO_SERVICE', 'no event or full-time cloud plan is active');
    }
    let settle: () => void = () => undefined;
    const entry: RunningEvent = { ext, eventStartMs, streamStartMs, picture: undefined, pictureKey: undefined, ready: new Promise<void>((r) => (settle = r)) };
    this.events.set(eventId, entry);
    try {
      const pic = await this.capturePicture(eventId);
      entry.picture = pic;
      const r = (await actor.call('CLOUD_EVENT_START', { eventId, eventStartMs, streamStartMs, ...(pic ? { picture: pic } : {}) }, { timeoutMs: 60_000 })) as { uid: string; pictureKey?: string };
      if (pic && r.pictureKey) {
        entry.pictureKey = r.pictureKey;
        this.pictures.set(r.pictureKey, pic);
      }
    } catch (err) {
      this.events.delete(eventId);
      throw err;
    } finally {
      settle();
    }
    this.updatePushing();
  }

  private async stopEvent(eventId: number, ext: boolean, eventStopMs: number, streamStopMs: number): Promise<void> {
    const actor = this.requireActor();
    checkEventId(eventId);
    const entry = this.events.get(eventId);
    if (!entry) {
      throw new IvError('IV_ERR_CS_EVENT_NOT_RUNNING', `event ${eventId} is not running`, { field: 'eventId' });
    }
    if (entry.ext !== ext) {
      throw new IvError('IV_ERR_INVALID_PARAM', `event ${eventId} was started with ${entry.ext ? 'eventStartExt' : 'eventStart'}; stop it with ${entry.ext ? 'eventStopExt' : 'eventStop'}`, { field: 'eventId' });
    }
    await entry.ready;
    await actor.call('CLOUD_EVENT_STOP', { eventId, eventStopMs, streamStopMs }, { timeoutMs: 60_000 });
    this.events.delete(eventId);
    this.updatePushing();
  }

  private async capturePicture(eventId: number): Promise<Uint8Array | undefined> {
    const fn = this.cb?.onCapturePicture;
    if (!fn) {
      return undefined;
    }
    let pic: Uint8Array | null | undefined;
    try {
      pic = await withDeadline(Promise.resolve(fn(eventId)), this.replyMs, 'onCapturePicture');
    } catch (err) {
      this.problem(`onCapturePicture(${eventId}): ${(err as Error).message}`);
      return undefined;
    }
    if (pic === null || pic === undefined) {
      return undefined;
    }
    const problem = pic instanceof Uint8Array ? jpegProblem(pic) : 'not bytes';
    if (problem) {
      this.problem(`onCapturePicture(${eventId}): not a JPEG (${problem}); the event goes on without a picture`);
      const bad = pic;
      queueMicrotask(() => this.safe('onPictureResult', () => this.cb?.onPictureResult?.(bad, 'IV_ERR_INVALID_PARAM')));
      return undefined;
    }
    return pic;
  }

  /** iv_cs_get_balance_info: timeoutS > 0 asks the plan source (cached plan + timeout code on failure); 0 returns the cache. */
  async getBalanceInfo(timeoutS: number): Promise<BalanceResult> {
    if (!Number.isInteger(timeoutS) || timeoutS < 0 || timeoutS > 3_600) {
      throw invalidParam('timeoutS', `expected 0..3600 seconds, got ${timeoutS}`);
    }
    if (timeoutS === 0) {
      return { code: 'IV_ERR_NONE', info: this.plan };
    }
    try {
      const info = await fetchPlan(this.planSource, timeoutS * 1000);
      this.applyPlan(info);
      return { code: 'IV_ERR_NONE', info };
    } catch (err) {
      this.problem(`plan query failed: ${(err as Error).message}`);
      return { code: 'IV_ERR_CS_QUERY_SERVICE_TIMEOUT', info: this.plan };
    }
  }

  /** iv_cs_set_trans_time */
  async setTransTime(uploadTimeoutMs: number, replyTimeoutMs: number): Promise<void> {
    for (const [field, v] of [['uploadTimeoutMs', uploadTimeoutMs], ['replyTimeoutMs', replyTimeoutMs]] as const) {
      if (!Number.isInteger(v) || v <= 0 || v > 3_600_000) {
        throw invalidParam(field, `expected 1..3600000 ms (0 is not allowed), got ${v}`);
      }
    }
    this.uploadMs = uploadTimeoutMs;
    this.replyMs = replyTimeoutMs;
    await this.actor?.call('CLOUD_SET_TRANS_TIME', { uploadMs: uploadTimeoutMs, replyMs: replyTimeoutMs }, { timeoutMs: 60_000 });
  }

  /** Recording, ingest and upload statistics. */
  async stats(): Promise<Record<string, unknown>> {
    const actor = this.requireActor();
    return { ingest: this.ingest?.snapshot(), ...((await actor.call('CLOUD_STATS', {}, { timeoutMs: 60_000 })) as Record<string, unknown>), pushing: this.pushing, fullTime: this.fullTimeOn };
  }

  /**
   * A restarted cloud actor starts empty: give it the trans times, the full-time state and
   * the running events again (each continues in a new record; what was accepted before
   * the crash is in the spool and gets uploaded).
   */
  private async restoreActor(): Promise<void> {
    const actor = this.actor;
    if (!actor) {
      return;
    }
    this.problem(`the cloud actor restarted (generation ${actor.generation}); restoring its state`);
    try {
      await actor.call('CLOUD_SET_TRANS_TIME', { uploadMs: this.uploadMs, replyMs: this.replyMs }, { timeoutMs: 60_000 });
      await actor.call('CLOUD_FULL_TIME', { on: this.fullTimeOn }, { timeoutMs: 60_000 });
      for (const [eventId, e] of this.events) {
        await actor.call('CLOUD_EVENT_START', { eventId, eventStartMs: e.eventStartMs, streamStartMs: e.streamStartMs }, { timeoutMs: 60_000 });
      }
    } catch (err) {
      this.problem(`restoring the cloud actor: ${(err as Error).message}`);
    }
  }

  private requireActor(): ActorRef {
    if (!this.actor) {
      throw new IvError('IV_ERR_NOT_INITIALIZED', 'cloud storage is not initialised');
    }
    return this.actor;
  }

  private anyService(now = Date.now()): boolean {
    return serviceActive(this.plan.fullTime, now) || serviceActive(this.plan.event, now);
  }

  /** The last plan fetched survives a restart: a device booting during a cloud outage records by it. */
  private get planCachePath(): string {
    return join(this.spoolDir, 'plan-cache.json');
  }

  private applyPlan(info: BalanceInfo): void {
    this.plan = info;
    try {
      mkdirSync(this.spoolDir, { recursive: true });
      writeFileSync(this.planCachePath, JSON.stringify(info));
    } catch (err) {
      this.problem(`plan cache not written: ${(err as Error).message}`);
    }
    this.evaluatePlan();
  }

  /** Full-time recording follows the plan: onPushStart when it becomes valid, onPushStop when it lapses. */
  private evaluatePlan(): void {
    clearTimeout(this.expiryTimer);
    const now = Date.now();
    const on = serviceActive(this.plan.fullTime, now);
    const expiries = [this.plan.fullTime.expiresAt, this.plan.event.expiresAt].filter((e): e is number => e !== null && e > now);
    if (expiries.length > 0) {
      this.expiryTimer = setTimeout(() => this.evaluatePlan(), Math.min(...expiries) - now + 5);
      this.expiryTimer.unref();
    }
    if (!this.actor || on === this.fullTimeOn) {
      return;
    }
    this.fullTimeOn = on;
    this.actor.call('CLOUD_FULL_TIME', { on }, { timeoutMs: 60_000 }).catch((err: unknown) => this.problem(`full-time ${on ? 'start' : 'stop'}: ${(err as Error).message}`));
    this.updatePushing();
  }

  private schedulePlanRefresh(): void {
    clearTimeout(this.planTimer);
    const everyMs = (this.device.planRefreshS ?? 3_600) * 1000;
    // until a plan was ever fetched, retry sooner
    const ms = this.plan.fetchedAt === 0 ? Math.min(everyMs, 30_000) : everyMs;
    this.planTimer = setTimeout(() => {
      void this.getBalanceInfo(Math.max(1, Math.ceil(this.replyMs / 1000))).finally(() => {
        if (this.system) {
          this.schedulePlanRefresh();
        }
      });
    }, ms);
    this.planTimer.unref();
  }

  private updatePushing(): void {
    const want = this.fullTimeOn || this.events.size > 0;
    if (want === this.pushing) {
      return;
    }
    this.pushing = want;
    if (want) {
      this.safe('onPushStart', () => this.cb?.onPushStart?.());
    } else {
      this.safe('onPushStop', () => this.cb?.onPushStop?.());
    }
  }

  private onNotice(n: Notice): void {
    if (n.type === 'picture' && n.key) {
      const pic = this.pictures.get(n.key);
      this.pictures.delete(n.key);
      if (pic) {
        const code = isIvErrorCode(n.code) ? n.code : 'IV_ERR_INTERNAL';
        this.safe('onPictureResult', () => this.cb?.onPictureResult?.(pic, code));
      }
    } else if (n.type === 'upload-failed' || n.type === 'overrun') {
      this.problem(`${n.type}: ${n.key ?? ''} ${n.message ?? ''}`.trim());
    }
  }

  private problem(text: string): void {
    this.problems.push(text);
    if (this.problems.length > 100) {
      this.problems.shift();
    }
  }

  private safe(name: string, fn: () => unknown): void {
    try {
      fn();
    } catch (err) {
      this.problem(`${name} threw: ${(err as Error)?.message ?? String(err)}`);
    }
  }
}

interface Notice {
  type: 'picture' | 'session' | 'upload-failed' | 'overrun';
  key?: string;
  code?: string;
  message?: string;
}

function loadPlanCache(path: string): BalanceInfo | undefined {
  try {
    const raw = JSON.parse(readFileSync(path, 'utf8')) as BalanceInfo;
    return typeof raw.fetchedAt === 'number' && raw.fullTime && raw.event ? raw : undefined;
  } catch {
    return undefined;
  }
}

function checkEventId(id: number): void {
  if (!Number.isInteger(id) || id < 1 || id > 16) {
    throw invalidParam('eventId', `expected an event id 1..16, got ${String(id)}`);
  }
}

/** The _ext times: both < 300 (seconds before now) or both >= 300 (Unix seconds); mixing is refused. */
export function extTimes(a: number, b: number, fieldA: string, fieldB: string, nowMs = Date.now()): [number, number] {
  for (const [f, v] of [[fieldA, a], [fieldB, b]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
      throw invalidParam(f, `expected a uint32 number of seconds, got ${String(v)}`);
    }
  }
  if (a < 300 !== b < 300) {
    throw invalidParam(fieldB, `${fieldA}=${a} and ${fieldB}=${b} mix relative (< 300) and absolute (>= 300) times`);
  }
  const ms = (v: number): number => (v < 300 ? nowMs - v * 1000 : v * 1000);
  for (const [f, v] of [[fieldA, a], [fieldB, b]] as const) {
    if (ms(v) > nowMs + 60_000) {
      throw invalidParam(f, `${v} is more than a minute in the future`);
    }
  }
  return [ms(a), ms(b)];
}

function checkVideo(v: AvFormat['video']): CloudArgs['video'] {
  if (v === undefined) {
    return undefined;
  }
  if (v.codec !== 'h264' && v.codec !== 'h265') {
    throw invalidParam('avFormat.video.codec', `expected h264 or h265, got ${JSON.stringify(v.codec)}`);
  }
  const fps = v.fps ?? 25;
  if (typeof fps !== 'number' || !(fps > 0 && fps <= 120)) {
    throw invalidParam('avFormat.video.fps', `expected 0 < fps <= 120, got ${String(fps)}`);
  }
  return { codec: v.codec, fps };
}

function checkAudio(a: AvFormat['audio']): CloudArgs['audio'] {
  if (a === undefined) {
    return undefined;
  }
  if (!['aac', 'g711a', 'g711u', 'pcm'].includes(a.codec)) {
    throw invalidParam('avFormat.audio.codec', `expected aac, g711a, g711u or pcm, got ${JSON.stringify(a.codec)}`);
  }
  if (!Number.isInteger(a.sampleRate) || a.sampleRate < 8000 || a.sampleRate > 96000) {
    throw invalidParam('avFormat.audio.sampleRate', `expected 8000..96000, got ${String(a.sampleRate)}`);
  }
  if (a.channels !== 1 && a.channels !== 2) {
    throw invalidParam('avFormat.audio.channels', `expected 1 or 2, got ${String(a.channels)}`);
  }
  if (a.samplesPerFrame !== undefined && a.samplesPerFrame !== 1024 && a.samplesPerFrame !== 1024 * a.channels) {
    throw invalidParam('avFormat.audio.samplesPerFrame', `only 1024 samples per frame (2048 for stereo) are supported, got ${a.samplesPerFrame}`);
  }
  return { codec: a.codec, sampleRate: a.sampleRate, channels: a.channels };
}
