/**
 * CloudActor — one channel's cloud recording (on the io worker; on a cloud worker of its
 * own when the cloud module runs alone): reads the channel's
 * FrameRing on the spec's 10 ms tick while something wants recording, feeds the
 * Recorder into the channel's local recording (recording/), and runs the Uploader from
 * the recording's not-yet-uploaded part (the spool) to the object store.
 *
 * Receives CLOUD_FULL_TIME, CLOUD_EVENT_START/STOP, CLOUD_SET_TRANS_TIME, CLOUD_STATS,
 * CLOUD_CLOSE; sends CLOUD_NOTICE (snapshot upload results, sessions, upload failures,
 * ring overruns). Handlers and the tick share one lock, so frames, events and closes
 * happen in one order.
 * A session a crash cut short gets its playlist ended (ENDLIST) at the next start.
 * Must never: acknowledge a request before what it accepted is in the local recording, or read
 * the ring while nothing wants recording (the ring itself is the pre-record buffer).
 */
import { defineActor, type ActorContext } from '../../runtime/actor.js';
import { CLOUD_METHODS, type CloudMethods } from './cloud-methods.js';
import { invalidParam } from '../../runtime/errors.js';
import { FrameRing, type FrameReader } from '../../runtime/frame-ring.js';
import { STREAM, type AudioFormat, type VideoCodecName } from '../../media/codecs.js';
import { checkStoreConfig, type StoreConfig } from './object-store.js';
import { openStore } from './open-store.js';
import { Recorder } from './recorder.js';
import { closeOrphanSession, markOpenSession } from '../../recording/open-session.js';
import { RecordingStore, type Retention } from '../../recording/recording-store.js';
import { Uploader } from './uploader.js';

export interface CloudArgs {
  device: string;
  channel: number;
  ring: SharedArrayBuffer;
  video?: { codec: VideoCodecName; fps: number };
  audio?: AudioFormat;
  store: StoreConfig;
  /** The local recording's directory (recording/README.md). */
  spoolDir: string;
  retention: Retention;
  segmentS: number;
  sessionMaxS: number;
  noDataPauseMs: number;
  uploadTimeoutMs: number;
  concurrency: number;
  /**
   * Float64[0]: pts (µs) up to which frames are in accepted segments. Owned by the
   * actor's owner, so a restarted incarnation resumes from the first keyframe after it
   * (while the ring still has it) instead of losing the segment that was being muxed.
   */
  progress?: SharedArrayBuffer;
}

interface CloudState {
  args: CloudArgs;
  ring: FrameRing;
  reader: FrameReader | undefined;
  recorder: Recorder;
  recording: RecordingStore;
  uploader: Uploader;
  /** Snapshot keys whose upload result the owner still waits for. */
  pictures: Set<string>;
  /** Objects confirmed before anyone waited for them (a snapshot uploaded before eventStart returned); bounded. */
  confirmed: Set<string>;
  lock: Promise<unknown>;
  ticking: boolean;
  lapsReported: number;
  lastPrune: number;
  closed: boolean;
  progress: Float64Array | undefined;
  resumed: boolean;
}

function checkArgs(raw: unknown): CloudArgs {
  const a = raw as Partial<CloudArgs> | null;
  if (typeof a !== 'object' || a === null) {
    throw invalidParam('args', 'expected cloud actor arguments');
  }
  if (!(a.ring instanceof SharedArrayBuffer)) {
    throw invalidParam('args.ring', 'expected the channel FrameRing buffer');
  }
  if (typeof a.device !== 'string' || typeof a.spoolDir !== 'string' || !Number.isInteger(a.channel)) {
    throw invalidParam('args.device', 'expected device, channel and spoolDir');
  }
  checkStoreConfig(a.store, 'args.store');
  return a as CloudArgs;
}

/** Run `fn` after everything queued before it (handlers and ticks never interleave). */
function locked<T>(state: CloudState, fn: () => Promise<T>): Promise<T> {
  const run = state.lock.then(fn, fn);
  state.lock = run.catch(() => undefined);
  return run;
}

async function drain(state: CloudState, ctx: ActorContext<CloudMethods>): Promise<void> {
  const r = state.recorder;
  if (!r.wanted) {
    state.reader = undefined; // the ring keeps the pre-record; nothing to read now
    return;
  }
  state.reader ??= firstReader(state, ctx);
  let fed = false;
  // one reused buffer, not a copy per frame: the recorder is done with a frame's bytes (the segmenter copied them) when feed resolves
  for (let f = state.reader.readReused(); f !== null; f = state.reader.readReused()) {
    await r.feed(f);
    fed = true;
  }
  if (fed) {
    r.anchor(Date.now());
  }
  if (state.reader.stats.laps > state.lapsReported) {
    state.lapsReported = state.reader.stats.laps;
    ctx.emit('CLOUD_NOTICE', { type: 'overrun', message: `recording fell a whole ring behind (${state.reader.stats.lostFrames} frames lost); resumed at a keyframe` });
  }
}

/** Normally the latest keyframe (the pre-record); after a restart, the first keyframe not yet in an accepted segment. */
function firstReader(state: CloudState, ctx: ActorContext<CloudMethods>): FrameReader {
  const safeUpTo = state.progress ? (state.progress[0] as number) : 0;
  if (ctx.generation === 0 || state.resumed) {
    return state.ring.reader('latest-keyframe');
  }
  state.resumed = true;
  const reader = state.ring.reader('oldest');
  for (let f = reader.peek(); f !== null; f = reader.peek()) {
    if (f.stream === STREAM.VIDEO && f.keyframe && f.pts >= safeUpTo - 1) {
      return reader; // positioned at this keyframe
    }
    reader.release();
  }
  return state.ring.reader('latest-keyframe');
}

async function tick(state: CloudState, ctx: ActorContext<CloudMethods>): Promise<void> {
  if (state.ticking || state.closed) {
    return;
  }
  state.ticking = true;
  try {
    await locked(state, async () => {
      await drain(state, ctx);
      await state.recorder.tick();
      if (!state.recorder.wanted && !state.recorder.recording) {
        state.reader = undefined;
      }
    });
    state.uploader.kick();
    const now = Date.now();
    if (now - state.lastPrune > 60_000) {
      state.lastPrune = now;
      await state.recording.prune(now);
    }
  } finally {
    state.ticking = false;
  }
}

export default defineActor({
  name: 'cloud',
  methods: CLOUD_METHODS,
  async init(ctx, raw) {
    const args = checkArgs(raw);
    const ring = FrameRing.attach(args.ring);
    const recording = await RecordingStore.open(args.spoolDir, args.retention);
    const store = openStore(args.store);
    const pictures = new Set<string>();
    const confirmed = new Set<string>();
    /** When each object of this run was accepted (for the upload latency); bounded: older entries go first. */
    const acceptedAt = new Map<string, number>();
    let marks: Promise<void> = Promise.resolve();
    const progress = args.progress instanceof SharedArrayBuffer ? new Float64Array(args.progress) : undefined;
    const uploader = new Uploader(recording, store, {
      concurrency: args.concurrency,
      uploadTimeoutMs: args.uploadTimeoutMs,
      onConfirmed: (key) => {
        const at = acceptedAt.get(key);
        if (at !== undefined) {
          acceptedAt.delete(key);
          ctx.emit('CLOUD_NOTICE', { type: 'uploaded', key, ms: Date.now() - at });
        }
        if (pictures.delete(key)) {
          ctx.emit('CLOUD_NOTICE', { type: 'picture', key, code: 'IV_ERR_NONE' });
        } else {
          // a local store can confirm a snapshot before eventStart has registered it as awaited
          confirmed.add(key);
          if (confirmed.size > 256) {
            confirmed.delete(confirmed.values().next().value as string);
          }
        }
      },
      onFailed: (key, err, attempt) => {
        if (pictures.delete(key)) {
          ctx.emit('CLOUD_NOTICE', { type: 'picture', key, code: 'IV_ERR_CS_UPLOAD_FAILED', message: err.message });
        }
        if (attempt === 1 || attempt % 10 === 0) {
          ctx.emit('CLOUD_NOTICE', { type: 'upload-failed', key, message: `attempt ${attempt}: ${err.message}` });
        }
      },
    });
    /** An object reached the local recording: remember when (the picture notices), start its upload. */
    const accepted = (key: string): void => {
      acceptedAt.set(key, Date.now());
      if (acceptedAt.size > 4_096) {
        acceptedAt.delete(acceptedAt.keys().next().value as string);
      }
      uploader.kick();
    };
    const recorder = new Recorder({
      device: args.device,
      channel: args.channel,
      ...(args.video ? { video: args.video } : {}),
      ...(args.audio ? { audio: args.audio } : {}),
      segmentS: args.segmentS,
      sessionMaxS: args.sessionMaxS,
      noDataPauseMs: args.noDataPauseMs,
      now: Date.now,
      accept: async (key, bytes) => {
        await recording.accept(key, bytes);
        accepted(key);
      },
      create: async (key) => {
        const w = await recording.create(key);
        return {
          write: (data) => w.write(data),
          abort: () => w.abort(),
          commit: async () => {
            await w.commit();
            accepted(key);
          },
        };
      },
      onSession: (what, dir) => {
        // in order: an end's removal must not land after the next start's write
        marks = marks.then(() => markOpenSession(args.spoolDir, what === 'start' ? dir : undefined));
        ctx.emit('CLOUD_NOTICE', { type: 'session', what, key: dir });
      },
      onSegmentAccepted: (endPts) => {
        if (progress) {
          progress[0] = endPts;
        }
      },
    });
    await closeOrphanSession(recording);
    const state: CloudState = { args, ring, reader: undefined, recorder, recording, uploader, pictures, confirmed, lock: Promise.resolve(), ticking: false, lapsReported: 0, lastPrune: 0, closed: false, progress, resumed: false };
    uploader.start(); // pending objects of an earlier run go first
    ctx.setInterval(() => tick(state, ctx), 10);
    return state;
  },
  handlers: {
    CLOUD_FULL_TIME: (state, body, ctx) =>
      locked(state, async () => {
        await drain(state, ctx);
        state.recorder.setFullTime(body.on);
        await state.recorder.tick();
        return { recording: state.recorder.recording };
      }),
    CLOUD_EVENT_START: (state, body, ctx) =>
      locked(state, async () => {
        await drain(state, ctx);
        const r = await state.recorder.eventStart(body.eventId, { eventStartMs: body.eventStartMs, streamStartMs: body.streamStartMs }, body.picture);
        if (r.pictureKey && state.confirmed.delete(r.pictureKey)) {
          ctx.emit('CLOUD_NOTICE', { type: 'picture', key: r.pictureKey, code: 'IV_ERR_NONE' }); // already in the store
        } else if (r.pictureKey) {
          state.pictures.add(r.pictureKey);
        }
        await drain(state, ctx); // the pre-record starts now
        return r;
      }),
    CLOUD_EVENT_STOP: (state, body, ctx) =>
      locked(state, async () => {
        await drain(state, ctx);
        const uid = await state.recorder.eventStop(body.eventId, body.eventStopMs, body.streamStopMs);
        return { uid };
      }),
    CLOUD_SET_TRANS_TIME: (state, body) => {
      state.uploader.setUploadTimeout(body.uploadMs);
      return {};
    },
    CLOUD_STATS: (state) => ({
      ...state.recorder.stats,
      wanted: state.recorder.wanted,
      recording: state.recorder.recording,
      paused: state.recorder.isPaused,
      runningEvents: state.recorder.runningEvents,
      readerLaps: state.reader?.stats.laps ?? state.lapsReported,
      upload: state.uploader.snapshot(),
    }),
    CLOUD_CLOSE: (state, body, ctx) =>
      locked(state, async () => {
        await drain(state, ctx);
        await state.recorder.close();
        state.closed = true;
        state.uploader.kick();
        const drained = await state.uploader.drain(body.drainMs);
        return { drained, pending: state.recording.pendingCount };
      }),
  },
  async terminate(state) {
    state.closed = true;
    await state.uploader.stop();
  },
});
