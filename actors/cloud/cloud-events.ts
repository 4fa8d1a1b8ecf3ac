/**
 * cloud-events — the SDK's running events (iv_cs_event_start/_stop and their _ext
 * forms) on the main thread: ids 1-16, distinct ones in parallel, the same one never
 * twice, an _ext event stopped with _ext (spec note 8); the snapshot asked from
 * `onCapturePicture` within the reply timeout and checked to be a JPEG; the pictures
 * whose upload result the owner still has to report.
 *
 * Owns: the running-event table and the pictures awaiting their result.
 * Must never: stop an event before its start settled, keep a picture for an event
 * without one (then no onPictureResult comes), or lose a picture's result: one that comes
 * before its start's reply is kept until the reply names it, and the picture of a start
 * that fails is handed back with the failure's code.
 */
import type { ActorRef } from '../../runtime/actor-ref.js';
import type { CloudMethods } from './cloud-methods.js';
import { withDeadline } from '../../runtime/deadline.js';
import { IvError, isIvError, type IvErrorCode } from '../../runtime/errors.js';
import { checkEventId, type CloudInitParams } from './cloud-params.js';
import { jpegProblem } from './jpeg.js';

/** What the running events need from their owner (the CloudModule). */
export interface RunningEventsHost {
  /** The cloud actor; throws IV_ERR_NOT_INITIALIZED without one. */
  actor(): ActorRef<CloudMethods>;
  anyService(): boolean;
  replyMs(): number;
  capturePicture(): CloudInitParams['onCapturePicture'];
  pictureResult(pic: Uint8Array, code: IvErrorCode): void;
  problem(text: string): void;
  /** An event started or stopped. */
  changed(): void;
}

export interface RunningEvent {
  ext: boolean;
  eventStartMs: number;
  streamStartMs: number;
  picture: Uint8Array | undefined;
  pictureKey: string | undefined;
  ready: Promise<void>;
}

export class RunningEvents {
  private readonly running = new Map<number, RunningEvent>();
  private readonly pictures = new Map<string, Uint8Array>();
  /** Results that came while starts were in flight, before their start's reply named the key (the actor may confirm a fast upload first). */
  private readonly early = new Map<string, IvErrorCode>();
  private startsInFlight = 0;

  constructor(private readonly host: RunningEventsHost) {}

  get size(): number {
    return this.running.size;
  }

  entries(): IterableIterator<[number, RunningEvent]> {
    return this.running.entries();
  }

  /** Every start in progress has settled. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.running.values()].map((e) => e.ready));
  }

  /** The upload result of the picture under `key`: reported now, or once the start that uploads it has its reply. */
  pictureDone(key: string, code: IvErrorCode): void {
    const pic = this.pictures.get(key);
    if (pic) {
      this.pictures.delete(key);
      this.host.pictureResult(pic, code);
    } else if (this.startsInFlight > 0) {
      this.early.set(key, code);
    }
  }

  /** Every picture still waiting for its result, forgotten. */
  takePictures(): Uint8Array[] {
    const pics = [...this.pictures.values()];
    this.pictures.clear();
    return pics;
  }

  clear(): void {
    this.running.clear();
  }

  /** Start `eventId` (with its picture, if the capture callback gives one). */
  async start(eventId: number, ext: boolean, eventStartMs: number, streamStartMs: number): Promise<void> {
    const actor = this.host.actor();
    checkEventId(eventId);
    if (this.running.has(eventId)) {
      throw new IvError('IV_ERR_CS_EVENT_RUNNING', `event ${eventId} is already running; the same event cannot run twice (spec note 8)`, { field: 'eventId' });
    }
    if (!this.host.anyService()) {
      throw new IvError('IV_ERR_CS_APPLY_NO_SERVICE', 'no event or full-time cloud plan is active');
    }
    let settle: () => void = () => undefined;
    const entry: RunningEvent = { ext, eventStartMs, streamStartMs, picture: undefined, pictureKey: undefined, ready: new Promise<void>((r) => (settle = r)) };
    this.running.set(eventId, entry);
    this.startsInFlight++;
    let pic: Uint8Array | undefined;
    try {
      pic = await this.capturePicture(eventId);
      entry.picture = pic;
      const r = (await actor.call('CLOUD_EVENT_START', { eventId, eventStartMs, streamStartMs, ...(pic ? { picture: pic } : {}) }, { timeoutMs: 60_000 }));
      if (pic && r.pictureKey) {
        entry.pictureKey = r.pictureKey;
        const done = this.early.get(r.pictureKey);
        if (done) {
          this.early.delete(r.pictureKey);
          this.host.pictureResult(pic, done);
        } else {
          this.pictures.set(r.pictureKey, pic);
        }
      }
    } catch (err) {
      this.running.delete(eventId);
      if (pic) {
        // the event did not start, so its picture is not uploaded: handed back, the firmware frees it
        this.host.pictureResult(pic, isIvError(err) ? err.code : 'IV_ERR_INTERNAL');
      }
      throw err;
    } finally {
      if (--this.startsInFlight === 0) {
        this.early.clear();
      }
      settle();
    }
    this.host.changed();
  }

  /** Stop `eventId`, once its start has settled. */
  async stop(eventId: number, ext: boolean, eventStopMs: number, streamStopMs: number): Promise<void> {
    const actor = this.host.actor();
    checkEventId(eventId);
    const entry = this.running.get(eventId);
    if (!entry) {
      throw new IvError('IV_ERR_CS_EVENT_NOT_RUNNING', `event ${eventId} is not running`, { field: 'eventId' });
    }
    if (entry.ext !== ext) {
      throw new IvError('IV_ERR_INVALID_PARAM', `event ${eventId} was started with ${entry.ext ? 'eventStartExt' : 'eventStart'}; stop it with ${entry.ext ? 'eventStopExt' : 'eventStop'}`, { field: 'eventId' });
    }
    await entry.ready;
    await actor.call('CLOUD_EVENT_STOP', { eventId, eventStopMs, streamStopMs }, { timeoutMs: 60_000 });
    this.running.delete(eventId);
    this.host.changed();
  }

  private async capturePicture(eventId: number): Promise<Uint8Array | undefined> {
    const fn = this.host.capturePicture();
    if (!fn) {
      return undefined;
    }
    let pic: Uint8Array | null | undefined;
    const answer = Promise.resolve().then(() => fn(eventId));
    try {
      pic = await withDeadline(answer, this.host.replyMs(), 'onCapturePicture');
    } catch (err) {
      this.host.problem(`onCapturePicture(${eventId}): ${(err as Error).message}`);
      // a picture that comes after the deadline is handed back all the same: a C firmware frees its buffer on that result
      answer.then((late) => {
        if (late instanceof Uint8Array) {
          this.host.pictureResult(late, 'IV_ERR_TIMEOUT');
        }
      }, () => undefined);
      return undefined;
    }
    if (pic === null || pic === undefined) {
      return undefined;
    }
    const problem = pic instanceof Uint8Array ? jpegProblem(pic) : 'not bytes';
    if (problem) {
      this.host.problem(`onCapturePicture(${eventId}): not a JPEG (${problem}); the event goes on without a picture`);
      const bad = pic;
      queueMicrotask(() => this.host.pictureResult(bad, 'IV_ERR_INVALID_PARAM'));
      return undefined;
    }
    return pic;
  }
}
