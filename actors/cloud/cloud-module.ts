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
 * The CloudActor reads it while recording is wanted, segments it into the local
 * recording and uploads; it runs on the worker a process-wide system already offers
 * (runtime/process-host.ts: the P2P host's io worker, so a device using both modules
 * pays no isolate for cloud storage), else on a cloud worker of its own. The plan (cache, refresh, full-time switching) is
 * `PlanLifecycle`'s, the running events `RunningEvents`', the parameter checks
 * `cloud-params.ts`'s.
 * Callbacks run on this thread as listeners of the module's typed events (`pushStart`,
 * `pushStop`, `pictureResult`); one that throws is reported on `problem` (and in
 * `problems`), never into the caller.
 *
 * Owns: the ring writer, its actor (and the cloud worker's system when it has its own), whether it is pushing
 * (onPushStart/onPushStop), the problem log. Must never: call onPushStart twice without
 * onPushStop in between, call onPictureResult for an event without picture, or accept
 * a frame it did not put into the ring.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActorSystem } from '../../runtime/actor-system.js';
import type { WorkerHeap } from '../../runtime/schema.js';
import type { ActorRef } from '../../runtime/actor-ref.js';
import type { CloudMethods } from './cloud-methods.js';
import { invalidParam, IvError, isIvErrorCode, type IvErrorCode } from '../../runtime/errors.js';
import { FrameRing } from '../../runtime/frame-ring.js';
import { TypedEmitter } from '../../runtime/typed-emitter.js';
import { SERVICE_WORKER_LIMITS, sharedWorker } from '../../runtime/process-host.js';
import { checkKey } from '../../recording/keys.js';
import { Ingest } from '../capture/ingest.js';
import type { CloudArgs } from './CloudActor.js';
import { checkAudio, checkDeviceOptions, checkMaxGopSize, checkStreamPack, checkTransTimes, checkVideo, extTimes, type BalanceResult, type CloudDeviceOptions, type CloudInitParams, type StreamPack } from './cloud-params.js';
import { RunningEvents } from './cloud-events.js';
import { CLOUD_ACTOR } from './index.js';
import { checkStoreConfig } from './object-store.js';
import { openStore } from './open-store.js';
import { PlanLifecycle } from './plan-lifecycle.js';
import { cloudActorArgs } from './cloud-defaults.js';

export { extTimes, IV_CM_STREAM_TYPE } from './cloud-params.js';
export type { AvFormat, BalanceResult, CloudDeviceOptions, CloudInitParams, StreamPack } from './cloud-params.js';

/** The module's events: the SDK callbacks of `init` are listeners of the first three. */
export type CloudModuleEvents = {
  pushStart: [];
  pushStop: [];
  pictureResult: [pic: Uint8Array, code: IvErrorCode];
  /** A user callback threw, a query or an upload failed, the actor restarted: one line each. */
  problem: [text: string];
};

/** Spawned cloud actors of this process (their ids on a shared worker). */
let cloudActors = 0;

export class CloudModule extends TypedEmitter<CloudModuleEvents> {
  private system: ActorSystem | undefined;
  /** The shared worker the actor was spawned on (runtime/process-host), undefined on a cloud worker of its own. */
  private hosted: string | undefined;
  private actorId = 'cloud';
  private offSystem: (() => void) | undefined;
  private actor: ActorRef<CloudMethods> | undefined;
  private ingest: Ingest | undefined;
  private cb: CloudInitParams | undefined;
  /** Removes the init callbacks from the events. */
  private unlisten: (() => void)[] = [];
  private readonly plan: PlanLifecycle;
  private readonly running: RunningEvents;
  private pushing = false;
  private uploadMs = 30_000;
  private replyMs = 5_000;
  private unsubscribe: (() => void) | undefined;
  /** Errors thrown by user callbacks and upload problems, newest last (bounded). */
  readonly problems: string[] = [];

  private readonly spoolDir: string;

  constructor(private readonly device: CloudDeviceOptions) {
    super();
    checkKey(device.deviceId, 'deviceId');
    checkStoreConfig(device.store);
    checkDeviceOptions(device);
    this.spoolDir = device.spoolDir ?? join(tmpdir(), `ivgw-spool-${device.deviceId}-${device.channel ?? 0}`);
    this.on('listenererror', (event, err) => this.listenerError(event, err));
    this.plan = new PlanLifecycle({
      source: device.planUrl ? { kind: 'url', url: device.planUrl } : { kind: 'store', store: openStore(device.store), device: device.deviceId },
      // the last plan fetched survives a restart: a device booting during a cloud outage records by it
      cachePath: join(this.spoolDir, 'plan-cache.json'),
      refreshS: device.planRefreshS ?? 3_600,
      refreshTimeoutS: () => this.replyS,
      onFullTime: (on) => this.onFullTime(on),
      onEvaluated: () => this.updatePushing(),
      problem: (text) => this.problem(text),
    });
    this.running = new RunningEvents({
      actor: () => this.requireActor(),
      anyService: () => this.plan.anyService(),
      replyMs: () => this.replyMs,
      capturePicture: () => this.cb?.onCapturePicture,
      pictureResult: (pic, code) => this.emit('pictureResult', pic, code),
      problem: (text) => this.problem(text),
      changed: () => this.updatePushing(),
    });
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
    checkMaxGopSize(maxGopSize);
    const video = checkVideo(avFormat?.video);
    const audio = checkAudio(avFormat?.audio);
    if (!video && !audio) {
      throw invalidParam('avFormat', 'expected video, audio or both');
    }
    const ring = FrameRing.create({ dataBytes: maxGopSize, slots: 1024, keys: 64 });
    const args: CloudArgs = cloudActorArgs({
      device: this.device.deviceId,
      channel: this.device.channel ?? 0,
      ring: ring.buffer,
      ...(video ? { video } : {}),
      ...(audio ? { audio } : {}),
      store: this.device.store,
      spoolDir: this.spoolDir,
      retention: this.device.retention ?? { maxAgeS: 7 * 86_400, maxBytes: 0 },
      ...(this.device.segmentS !== undefined ? { segmentS: this.device.segmentS } : {}),
      uploadTimeoutMs: this.uploadMs,
      ...(this.device.uploadConcurrency !== undefined ? { concurrency: this.device.uploadConcurrency } : {}),
    });
    const { system, actorId, actor } = await this.startActor(args); // nothing is kept when this fails: the module stays uninitialised
    this.ingest = new Ingest(ring, { ...(video ? { video: { codec: video.codec, maxFrameBytes: maxGopSize } } : {}), ...(audio ? { audio } : {}) });
    this.cb = params;
    this.listen(params);
    this.system = system;
    this.actorId = actorId;
    this.actor = actor;
    this.plan.attach();
    this.unsubscribe = this.actor.onNotification('CLOUD_NOTICE', (b) => this.onNotice(b as Notice));
    this.offSystem = system.on('event', (e) => {
      if (e.type !== 'start' || !this.actor) {
        return;
      }
      if (e.child === this.actorId && this.actor.generation > 0) {
        void this.restoreActor();
      } else if (this.hosted !== undefined && e.child === `actors:${this.hosted}`) {
        void this.respawnActor(args); // the shared worker restarted (its actors' supervisor started again): its spawned actors are gone
      }
    });
    await this.actor.call('CLOUD_SET_TRANS_TIME', { uploadMs: this.uploadMs, replyMs: this.replyMs }, { timeoutMs: 60_000 });
    await this.plan.query(this.replyS);
    this.plan.start(); // also when the query failed: the cached plan decides
  }

  /** iv_cs_exit: ends recording (segments into the local recording), waits for uploads up to the reply timeout. */
  async exit(): Promise<void> {
    const system = this.system;
    if (!system || !this.actor) {
      throw new IvError('IV_ERR_NOT_INITIALIZED', 'cloud storage is not initialised');
    }
    this.plan.stop();
    await this.running.settled();
    try {
      await this.actor.call('CLOUD_CLOSE', { drainMs: this.replyMs }, { timeoutMs: this.replyMs + 60_000 });
    } finally {
      this.unsubscribe?.();
      this.offSystem?.();
      this.ingest?.close();
      if (this.hosted) {
        await system.despawn(this.actorId).catch(() => undefined); // gone already when its worker restarted
      } else {
        await system.stop();
      }
      this.hosted = undefined;
      for (const pic of this.running.takePictures()) {
        this.emit('pictureResult', pic, 'IV_ERR_CLOSED');
      }
      if (this.pushing) {
        this.pushing = false;
        this.emit('pushStop');
      }
      this.running.clear();
      this.plan.detach();
      this.system = undefined;
      this.actor = undefined;
      this.ingest = undefined;
      this.cb = undefined;
      this.unlisten.forEach((off) => off());
      this.unlisten = [];
    }
  }

  /** iv_cs_push_stream: one video access unit (Annex-B) or one audio frame. Throws on refusal. */
  pushStream(type: 'video' | 'audio' | number, pack: StreamPack): void {
    const ingest = this.ingest;
    if (!ingest) {
      throw new IvError('IV_ERR_NOT_INITIALIZED', 'cloud storage is not initialised');
    }
    const kind = checkStreamPack(type, pack);
    if (!this.plan.anyService()) {
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
    return this.running.start(eventId, false, now, now);
  }

  /** iv_cs_event_start_ext: times < 300 are seconds before now, otherwise Unix seconds; both the same kind. */
  eventStartExt(eventId: number, eventStartS: number, streamStartS: number): Promise<void> {
    const [eventMs, streamMs] = extTimes(eventStartS, streamStartS, 'eventStartS', 'streamStartS');
    return this.running.start(eventId, true, eventMs, streamMs);
  }

  /** iv_cs_event_stop */
  eventStop(eventId: number): Promise<void> {
    const now = Date.now();
    return this.running.stop(eventId, false, now, now);
  }

  /** iv_cs_event_stop_ext */
  eventStopExt(eventId: number, eventStopS: number, streamStopS: number): Promise<void> {
    const [eventMs, streamMs] = extTimes(eventStopS, streamStopS, 'eventStopS', 'streamStopS');
    return this.running.stop(eventId, true, eventMs, streamMs);
  }

  /** iv_cs_get_balance_info: timeoutS > 0 asks the plan source (cached plan + timeout code on failure); 0 returns the cache. */
  async getBalanceInfo(timeoutS: number): Promise<BalanceResult> {
    if (!Number.isInteger(timeoutS) || timeoutS < 0 || timeoutS > 3_600) {
      throw invalidParam('timeoutS', `expected 0..3600 seconds, got ${timeoutS}`);
    }
    return timeoutS === 0 ? { code: 'IV_ERR_NONE', info: this.plan.info } : this.plan.query(timeoutS);
  }

  /** iv_cs_set_trans_time */
  async setTransTime(uploadTimeoutMs: number, replyTimeoutMs: number): Promise<void> {
    checkTransTimes(uploadTimeoutMs, replyTimeoutMs);
    this.uploadMs = uploadTimeoutMs;
    this.replyMs = replyTimeoutMs;
    await this.actor?.call('CLOUD_SET_TRANS_TIME', { uploadMs: uploadTimeoutMs, replyMs: replyTimeoutMs }, { timeoutMs: 60_000 });
  }

  /** Recording, ingest and upload statistics. */
  async stats(): Promise<Record<string, unknown>> {
    const actor = this.requireActor();
    return { ingest: this.ingest?.snapshot(), ...((await actor.call('CLOUD_STATS', {}, { timeoutMs: 60_000 })) as Record<string, unknown>), pushing: this.pushing, fullTime: this.plan.fullTime };
  }

  /**
   * The V8 heap of the worker the cloud actor runs on, after a full GC there when node runs
   * with `--expose-gc` (benchmarks: what the module holds, not garbage awaiting a collection).
   */
  async settleMemory(): Promise<WorkerHeap> {
    this.requireActor();
    const worker = this.system?.worker(this.hosted ?? 'cloud');
    if (!worker) {
      throw new IvError('IV_ERR_NOT_INITIALIZED', 'the cloud worker is not running');
    }
    return (await worker.request('sys', 'SYS_GC', {}, 10_000)) as WorkerHeap;
  }

  /**
   * A restarted cloud actor starts empty: give it the trans times, the full-time state and
   * the running events again (each continues in a new record; what was accepted before
   * the crash is in the local recording and gets uploaded).
   */
  /**
   * The cloud actor on the worker a process-wide system already runs (runtime/process-host:
   * the P2P host's io worker) when there is one; otherwise on a cloud worker of its own.
   */
  private async startActor(args: CloudArgs): Promise<{ system: ActorSystem; actorId: string; actor: ActorRef<CloudMethods> }> {
    const shared = sharedWorker();
    if (shared) {
      const system = await shared.system;
      const actorId = `cloud:${process.pid}:${++cloudActors}`;
      const actor = await system.spawn(shared.worker, { id: actorId, module: CLOUD_ACTOR, args, handlerTimeoutMs: 3_600_000 });
      this.hosted = shared.worker;
      return { system, actorId, actor };
    }
    const system = new ActorSystem({ workers: [{ name: 'cloud', resourceLimits: SERVICE_WORKER_LIMITS, actors: [{ id: 'cloud', module: CLOUD_ACTOR, args, handlerTimeoutMs: 3_600_000 }] }] });
    await system.start();
    this.hosted = undefined;
    return { system, actorId: 'cloud', actor: system.ref('cloud', CLOUD_ACTOR) };
  }

  /** The shared worker came back after a restart: spawn the actor again (same ring, same spool) and restore its state. */
  private async respawnActor(args: CloudArgs): Promise<void> {
    const system = this.system;
    const worker = this.hosted;
    if (!system || !worker) {
      return;
    }
    this.unsubscribe?.();
    const actorId = `cloud:${process.pid}:${++cloudActors}`;
    try {
      const actor = await system.spawn(worker, { id: actorId, module: CLOUD_ACTOR, args, handlerTimeoutMs: 3_600_000 });
      if (this.system !== system) {
        await system.despawn(actorId).catch(() => undefined); // exit() ran meanwhile
        return;
      }
      this.actorId = actorId;
      this.actor = actor;
      this.unsubscribe = actor.onNotification('CLOUD_NOTICE', (b) => this.onNotice(b as Notice));
      this.problem(`the ${worker} worker restarted; the cloud actor was started again`);
      await this.restoreState(actor);
    } catch (err) {
      this.problem(`starting the cloud actor again failed: ${(err as Error).message}`);
    }
  }

  private async restoreActor(): Promise<void> {
    const actor = this.actor;
    if (!actor) {
      return;
    }
    this.problem(`the cloud actor restarted (generation ${actor.generation}); restoring its state`);
    await this.restoreState(actor);
  }

  /** What the module knows and a fresh actor does not: transfer times, full time, running events. */
  private async restoreState(actor: ActorRef<CloudMethods>): Promise<void> {
    try {
      await actor.call('CLOUD_SET_TRANS_TIME', { uploadMs: this.uploadMs, replyMs: this.replyMs }, { timeoutMs: 60_000 });
      await actor.call('CLOUD_FULL_TIME', { on: this.plan.fullTime }, { timeoutMs: 60_000 });
      for (const [eventId, e] of this.running.entries()) {
        await actor.call('CLOUD_EVENT_START', { eventId, eventStartMs: e.eventStartMs, streamStartMs: e.streamStartMs }, { timeoutMs: 60_000 });
      }
    } catch (err) {
      this.problem(`restoring the cloud actor: ${(err as Error).message}`);
    }
  }

  private requireActor(): ActorRef<CloudMethods> {
    if (!this.actor) {
      throw new IvError('IV_ERR_NOT_INITIALIZED', 'cloud storage is not initialised');
    }
    return this.actor;
  }

  /** The reply timeout in whole seconds, for plan queries. */
  private get replyS(): number {
    return Math.max(1, Math.ceil(this.replyMs / 1000));
  }

  /** The plan switched full-time recording on or off. */
  private onFullTime(on: boolean): void {
    const actor = this.actor;
    if (actor) {
      actor.call('CLOUD_FULL_TIME', { on }, { timeoutMs: 60_000 }).catch((err: unknown) => this.problem(`full-time ${on ? 'start' : 'stop'}: ${(err as Error).message}`));
    }
    this.updatePushing();
  }

  /** Push while something records and a service is active: a plan that lapses mid-event stops the push (spec: 云存服务到期). */
  private updatePushing(): void {
    const want = this.plan.anyService() && (this.plan.fullTime || this.running.size > 0);
    if (want === this.pushing) {
      return;
    }
    this.pushing = want;
    this.emit(want ? 'pushStart' : 'pushStop');
  }

  private onNotice(n: Notice): void {
    if (n.type === 'picture' && n.key) {
      this.running.pictureDone(n.key, isIvErrorCode(n.code) ? n.code : 'IV_ERR_INTERNAL');
    } else if (n.type === 'upload-failed' || n.type === 'overrun') {
      this.problem(`${n.type}: ${n.key ?? ''} ${n.message ?? ''}`.trim());
    }
  }

  /** The init callbacks become listeners, so a throwing one is reported like any listener. */
  private listen(cb: CloudInitParams): void {
    const { onPushStart, onPushStop, onPictureResult } = cb;
    this.unlisten = [
      ...(onPushStart ? [this.on('pushStart', () => onPushStart())] : []),
      ...(onPushStop ? [this.on('pushStop', () => onPushStop())] : []),
      ...(onPictureResult ? [this.on('pictureResult', (pic, code) => onPictureResult(pic, code))] : []),
    ];
  }

  /** A listener threw: one line, named after the SDK callback (`onPushStart threw: ...`). */
  private listenerError(event: string, err: unknown): void {
    const text = `on${event.charAt(0).toUpperCase()}${event.slice(1)} threw: ${(err as Error)?.message ?? String(err)}`;
    if (event === 'problem') {
      this.log(text); // a throwing problem listener must not be told about itself again
    } else {
      this.problem(text);
    }
  }

  private problem(text: string): void {
    this.log(text);
    this.emit('problem', text);
  }

  private log(text: string): void {
    this.problems.push(text);
    if (this.problems.length > 100) {
      this.problems.shift();
    }
  }
}

interface Notice {
  type: 'picture' | 'session' | 'upload-failed' | 'overrun';
  key?: string;
  code?: string;
  message?: string;
}

