/**
 * recorder — turns one channel's frames into recording sessions of GOP-aligned fMP4
 * segments with HLS playlists, and the events that point into them; every object it
 * makes goes into the local recording (durably, and queued for upload) through `accept`.
 *
 * A session records while something wants it (full-time plan or a running event).
 * It starts at the first keyframe fed (CloudActor reads from the ring's latest keyframe:
 * the pre-record, read faster than real time so it catches up with live), ends when
 * nothing wants it any more, when 120 s
 * pass without a frame (spec note 4: recording pauses; the next frame after a keyframe
 * starts a new session), or after `sessionMaxS` at a keyframe (hourly files).
 * Event playlists list the session segments overlapping the event's stream range;
 * an event that spans sessions has one playlist per session.
 *
 * Owns: sessions, event bookkeeping, playlists and records. Time comes from `now()`
 * (tests drive it). Must never: start a segment off a keyframe, list a segment in a
 * playlist before it was accepted, or finish an event before its last segment.
 */
import type { Frame } from '../../runtime/frame-ring.js';
import { IvError } from '../../runtime/errors.js';
import type { AudioFormat, VideoCodecName } from '../../media/codecs.js';
import { STREAM } from '../../media/codecs.js';
import { HlsSegmenter, hlsPlaylist } from '../../media/hls-segmenter.js';
import { paramSetsOf } from '../../media/param-sets.js';
import { eventBase, eventPlaylistFile, eventUid, segmentFile, sessionDir, sessionName } from '../../recording/keys.js';
import type { ObjectWriter } from '../../recording/recording-store.js';

export interface RecorderOptions {
  device: string;
  channel: number;
  video?: { codec: VideoCodecName; fps: number };
  audio?: AudioFormat;
  segmentS: number;
  sessionMaxS: number;
  noDataPauseMs: number;
  now: () => number;
  accept: (key: string, bytes: Uint8Array) => Promise<void>;
  /** An object written in parts (a segment, fragment by fragment); accepted at its commit. */
  create: (key: string) => Promise<ObjectWriter>;
  onSession?: (what: 'start' | 'end' | 'pause', dir: string) => void;
  /** A segment reached the store: frames before this pts (µs) are safe. */
  onSegmentAccepted?: (endPts: number) => void;
}

interface SegmentInfo {
  index: number;
  file: string;
  /** Wall clock, ms. */
  startMs: number;
  durationS: number;
}

interface Session {
  name: string;
  dir: string;
  segmenter: HlsSegmenter;
  segments: SegmentInfo[];
  /** pts (µs) of the first frame fed, and wall-clock ms it maps to. */
  originPts: number | undefined;
  originWallMs: number;
  startedAtMs: number;
  ended: boolean;
  /** The last segments are being flushed; endSession finishes stopped events after. */
  finishing: boolean;
  /** The segment being written, fragment by fragment. */
  writing: { index: number; writer: ObjectWriter } | undefined;
}

export interface EventTimes {
  eventStartMs: number;
  streamStartMs: number;
}

interface EventState {
  id: number;
  uid: string;
  base: string;
  eventStartMs: number;
  streamStartMs: number;
  eventStopMs: number | undefined;
  streamStopMs: number | undefined;
  picture: string | undefined;
  /**
   * Sessions this event has a playlist in; `all` when the session started while the
   * event ran (its first segment is the event's pre-record), else the event's stream
   * range picks the segments.
   */
  sessions: Map<string, { session: Session; all: boolean }>;
  closed: boolean;
}

export interface EventRecord {
  device: string;
  channel: number;
  eventId: number;
  uid: string;
  status: 'running' | 'closed';
  eventStart: string;
  eventStop: string | null;
  streamStart: string;
  streamStop: string | null;
  /** Where the recorded video starts (the pre-record), null before the first segment. */
  videoStart: string | null;
  picture: string | null;
  playlists: string[];
  durationS: number;
}

export class Recorder {
  private session: Session | undefined;
  private sessionCounter = 0;
  private lastSessionMs = 0;
  private fullTime = false;
  private readonly events = new Map<number, EventState>();
  /** Closed events waiting for segments up to their stream stop. */
  private readonly closing = new Set<EventState>();
  private readonly lastUidMs = new Map<number, number>();
  private lastFrameAt = 0;
  private lastPts = 0;
  private paused = false;
  readonly stats = { sessions: 0, segments: 0, segmentBytes: 0, frames: 0, pauses: 0, eventsClosed: 0 };

  constructor(private readonly opts: RecorderOptions) {}

  /** True while the frames should be read and recorded. */
  get wanted(): boolean {
    return this.fullTime || this.events.size > 0;
  }

  get recording(): boolean {
    return this.session !== undefined;
  }

  get runningEvents(): number[] {
    return [...this.events.keys()];
  }

  setFullTime(on: boolean): void {
    this.fullTime = on;
  }

  /** Start an event: its record goes out at once (the trigger message), the picture too. */
  async eventStart(id: number, times: EventTimes, picture: Uint8Array | undefined): Promise<{ uid: string; pictureKey: string | undefined }> {
    if (this.events.has(id)) {
      throw new IvError('IV_ERR_CS_EVENT_RUNNING', `event ${id} is already running`, { field: 'eventId' });
    }
    const uid = this.uniqueUid(times.eventStartMs, id);
    const base = eventBase(this.opts.device, this.opts.channel, times.eventStartMs, uid);
    const ev: EventState = { id, uid, base, eventStartMs: times.eventStartMs, streamStartMs: times.streamStartMs, eventStopMs: undefined, streamStopMs: undefined, picture: undefined, sessions: new Map(), closed: false };
    if (picture) {
      ev.picture = `${base}.jpg`;
      await this.opts.accept(ev.picture, picture);
    }
    this.events.set(id, ev);
    if (this.session) {
      ev.sessions.set(this.session.dir, { session: this.session, all: false });
    }
    await this.writeRecord(ev);
    return { uid, pictureKey: ev.picture };
  }

  /** `<start ms>-e<id>`; the same id started again within one millisecond moves on a millisecond. */
  private uniqueUid(startMs: number, id: number): string {
    const ms = Math.max(Math.round(startMs), (this.lastUidMs.get(id) ?? -1) + 1);
    this.lastUidMs.set(id, ms);
    return eventUid(ms, id);
  }

  /** Stop an event; it is finished once segments cover its stream stop (or the session ends). */
  async eventStop(id: number, eventStopMs: number, streamStopMs: number): Promise<string> {
    const ev = this.events.get(id);
    if (!ev) {
      throw new IvError('IV_ERR_CS_EVENT_NOT_RUNNING', `event ${id} is not running`, { field: 'eventId' });
    }
    this.events.delete(id);
    ev.eventStopMs = eventStopMs;
    ev.streamStopMs = Math.max(streamStopMs, ev.streamStartMs);
    this.closing.add(ev);
    if (!this.wanted) {
      await this.endSession('end');
    } else {
      await this.closeCoveredEvents(this.session);
    }
    return ev.uid;
  }

  /** One frame from the ring; its data need only stay as it is until this resolves (the segmenter copies what it keeps). */
  async feed(f: Frame): Promise<void> {
    const now = this.opts.now();
    this.lastFrameAt = now;
    this.lastPts = f.pts;
    if (!this.wanted) {
      return;
    }
    if (this.paused) {
      this.paused = false;
    }
    const isVideo = f.stream === STREAM.VIDEO;
    if (this.session && isVideo && f.keyframe && (now - this.session.startedAtMs) / 1000 >= this.opts.sessionMaxS) {
      await this.endSession('end');
    }
    if (!this.session) {
      if (this.opts.video && !(isVideo && f.keyframe)) {
        return; // a session starts on a keyframe
      }
      this.startSession(now, f.pts);
    }
    const s = this.session as Session;
    this.stats.frames++;
    if (isVideo && this.opts.video) {
      await s.segmenter.video({ data: f.data, pts: f.pts, keyframe: f.keyframe, paramSets: f.keyframe ? paramSetsOf(f.data, this.opts.video.codec) : undefined });
    } else if (!isVideo && this.opts.audio) {
      await s.segmenter.audio({ data: f.data, pts: f.pts });
    }
  }

  /**
   * Map the session's timeline to the wall clock: call after draining the ring, with
   * the wall time at which the newest frame fed arrived (≈ now).
   */
  anchor(newestArrivalMs: number): void {
    const s = this.session;
    if (s && s.originPts !== undefined && s.segments.length === 0 && !s.ended) {
      s.originWallMs = newestArrivalMs - (this.lastPts - s.originPts) / 1000;
    }
  }

  /** Periodic work: the 120 s no-data pause, ending the session when nothing wants it. */
  async tick(): Promise<void> {
    const now = this.opts.now();
    if (this.session && !this.wanted) {
      await this.endSession('end');
    } else if (this.session && now - this.lastFrameAt >= this.opts.noDataPauseMs) {
      this.paused = true;
      this.stats.pauses++;
      await this.endSession('pause');
    }
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Finish everything (exit): the running session ends, running events stay running in their records. */
  async close(): Promise<void> {
    await this.endSession('end');
  }

  private startSession(now: number, pts: number): void {
    let counter = 0;
    if (Math.round(now) === this.lastSessionMs) {
      counter = ++this.sessionCounter;
    } else {
      this.sessionCounter = 0;
    }
    this.lastSessionMs = Math.round(now);
    const name = sessionName(now, counter);
    const dir = sessionDir(this.opts.device, this.opts.channel, now, name);
    const session: Session = {
      name,
      dir,
      segments: [],
      originPts: pts,
      originWallMs: now,
      startedAtMs: now,
      ended: false,
      finishing: false,
      writing: undefined,
      segmenter: new HlsSegmenter({
        ...(this.opts.video ? { video: this.opts.video } : {}),
        ...(this.opts.audio ? { audio: this.opts.audio } : {}),
        targetDurationS: this.opts.segmentS,
        onInit: (bytes) => this.opts.accept(`${dir}/init.mp4`, bytes),
        onFragment: async (index, bytes) => {
          if (session.writing?.index !== index) {
            session.writing = { index, writer: await this.opts.create(`${dir}/${segmentFile(index)}`) };
          }
          const { writer } = session.writing;
          try {
            await writer.write(bytes);
          } catch (err) {
            session.writing = undefined;
            await writer.abort();
            throw err;
          }
        },
        onSegment: async (seg) => {
          const file = segmentFile(seg.index);
          const w = session.writing;
          session.writing = undefined;
          if (w?.index !== seg.index) {
            throw new Error(`recorder: segment ${seg.index} ended without its fragments`);
          }
          await w.writer.commit();
          this.stats.segments++;
          this.stats.segmentBytes += seg.byteLength;
          this.opts.onSegmentAccepted?.((session.originPts ?? 0) + (seg.start + seg.duration) * 1e6);
          session.segments.push({ index: seg.index, file, startMs: session.originWallMs + seg.start * 1000, durationS: seg.duration });
          await this.writeSessionPlaylist(session);
          await this.touchEvents(session);
        },
      }),
    };
    this.session = session;
    this.stats.sessions++;
    for (const ev of this.events.values()) {
      ev.sessions.set(dir, { session, all: true });
    }
    this.opts.onSession?.('start', dir);
  }

  private async endSession(why: 'end' | 'pause'): Promise<void> {
    const s = this.session;
    if (!s) {
      return;
    }
    this.session = undefined;
    s.finishing = true;
    await s.segmenter.finish();
    s.ended = true;
    await this.writeSessionPlaylist(s);
    for (const ev of this.events.values()) {
      if (ev.sessions.has(s.dir)) {
        await this.writeEventPlaylist(ev, s);
      }
    }
    for (const ev of [...this.closing]) {
      await this.finishEvent(ev);
    }
    this.opts.onSession?.(why, s.dir);
  }

  private async writeSessionPlaylist(s: Session): Promise<void> {
    if (s.segments.length === 0) {
      return;
    }
    const text = hlsPlaylist({ init: 'init.mp4', segments: s.segments.map((g) => ({ uri: g.file, duration: g.durationS })), ended: s.ended });
    await this.opts.accept(`${s.dir}/index.m3u8`, new TextEncoder().encode(text));
  }

  /** A segment completed: refresh running events' playlists, finish closing ones it covers. */
  private async touchEvents(s: Session): Promise<void> {
    for (const ev of this.events.values()) {
      if (ev.sessions.has(s.dir)) {
        await this.writeEventPlaylist(ev, s);
      }
    }
    await this.closeCoveredEvents(s);
  }

  /** Finish stopped events whose stream stop the session's segments now cover (all of them without a session). */
  private async closeCoveredEvents(s: Session | undefined): Promise<void> {
    if (s?.finishing) {
      return; // endSession finishes them once the last segment is out
    }
    const last = s?.segments.at(-1);
    const coveredUntil = last ? last.startMs + last.durationS * 1000 : -Infinity;
    for (const ev of [...this.closing]) {
      if (!s || !ev.sessions.has(s.dir) || coveredUntil >= (ev.streamStopMs ?? Infinity)) {
        await this.finishEvent(ev);
      }
    }
  }

  private segmentsOf(ev: EventState, s: Session): SegmentInfo[] {
    const all = ev.sessions.get(s.dir)?.all ?? false;
    const from = all ? -Infinity : ev.streamStartMs;
    const to = ev.streamStopMs ?? Infinity;
    const inRange = s.segments.filter((g) => g.startMs + g.durationS * 1000 > from && g.startMs < to);
    // a stream stop before the first segment ends still gets that segment (never an empty event)
    return inRange.length > 0 || !all ? inRange : s.segments.slice(0, 1);
  }

  private async writeEventPlaylist(ev: EventState, s: Session): Promise<void> {
    const segs = this.segmentsOf(ev, s);
    if (segs.length === 0) {
      return;
    }
    const done = ev.closed || s.ended;
    const text = hlsPlaylist({ init: 'init.mp4', segments: segs.map((g) => ({ uri: g.file, duration: g.durationS })), ended: done, mediaSequence: segs[0]?.index ?? 0 });
    await this.opts.accept(`${s.dir}/${eventPlaylistFile(ev.uid)}`, new TextEncoder().encode(text));
  }

  private async finishEvent(ev: EventState): Promise<void> {
    this.closing.delete(ev);
    ev.closed = true;
    for (const { session } of ev.sessions.values()) {
      await this.writeEventPlaylist(ev, session);
    }
    this.stats.eventsClosed++;
    await this.writeRecord(ev);
  }

  private async writeRecord(ev: EventState): Promise<void> {
    const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());
    const playlists: string[] = [];
    let durationS = 0;
    let videoStartMs: number | undefined;
    for (const { session: s } of ev.sessions.values()) {
      const segs = this.segmentsOf(ev, s);
      videoStartMs ??= segs[0]?.startMs;
      if (segs.length > 0) {
        playlists.push(`${s.dir}/${eventPlaylistFile(ev.uid)}`);
        durationS += segs.reduce((n, g) => n + g.durationS, 0);
      }
    }
    const record: EventRecord = {
      device: this.opts.device,
      channel: this.opts.channel,
      eventId: ev.id,
      uid: ev.uid,
      status: ev.closed ? 'closed' : 'running',
      eventStart: iso(ev.eventStartMs) as string,
      eventStop: iso(ev.eventStopMs),
      streamStart: iso(ev.streamStartMs) as string,
      streamStop: iso(ev.streamStopMs),
      videoStart: iso(videoStartMs),
      picture: ev.picture ?? null,
      playlists,
      durationS: Math.round(durationS * 1000) / 1000,
    };
    await this.opts.accept(`${ev.base}.json`, new TextEncoder().encode(`${JSON.stringify(record, null, 1)}\n`));
  }
}
