/**
 * playback-feeder — replays recorded segments into a private FrameRing, paced in real
 * time (after a lead of `leadMs` for a fast first frame), in the ring's frame form:
 * length-prefixed video whose keyframes carry their parameter sets (as recorded),
 * AAC with its ADTS header restored, G.711 re-encoded from the stored PCM. The p2p
 * StreamSender then serves that ring (live video has its own LiveSender).
 *
 * With `follow` (a window that is still being recorded), segments recorded after the
 * stream opened are asked for as the feeder reaches them, until the window's end, or
 * until no new segment came for `idleMs` (the recording stopped).
 *
 * One segment at a time is demuxed (mediabunny), so memory stays at one segment.
 * mediabunny is imported when the first segment is loaded, not with this module: the p2p
 * worker that hosts every app's streams holds its code only once someone plays back.
 * Owns: the ring writer and the demux of the current segment. Must never: write a
 * frame ahead of its time by more than the lead, or block the thread on file reads.
 */
import { readFile } from 'node:fs/promises';
import type * as Mediabunny from 'mediabunny';
import type { FrameRing, FrameWriter } from '../runtime/frame-ring.js';
import { adtsHeaderFor } from '../media/adts.js';
import { AUDIO_CODEC_ID, STREAM, VIDEO_CODEC_ID, type AudioFormat, type VideoCodecName } from '../media/codecs.js';
import { pcmToG711 } from '../media/g711.js';
import type { RecordedSegment } from './recording-index.js';

interface QueuedFrame {
  data: Uint8Array;
  /** Seconds on the recording's timeline. */
  t: number;
  keyframe: boolean;
  video: boolean;
}

export interface PlaybackFeederOptions {
  segments: RecordedSegment[];
  ring: FrameRing;
  video?: { codec: VideoCodecName };
  audio?: AudioFormat;
  leadMs?: number;
  now?: () => number;
  /** Keep asking for segments recorded after the last one until `untilMs` (wall clock). */
  follow?: { untilMs: number; more(fromMs: number): Promise<RecordedSegment[]>; idleMs?: number; wallNow?: () => number };
}

/** mediabunny, imported once per thread at the first segment any feeder loads. */
let demuxer: Promise<typeof Mediabunny> | undefined;
const loadDemuxer = (): Promise<typeof Mediabunny> => (demuxer ??= import('mediabunny'));

/** How often a following feeder looks for new segments. */
const FOLLOW_POLL_MS = 500;

export class PlaybackFeeder {
  private readonly writer: FrameWriter;
  private queue: QueuedFrame[] = [];
  private next = 0;
  private loading: Promise<void> | undefined;
  private originT: number | undefined;
  private startedAt = 0;
  private readonly now: () => number;
  private failed: Error | undefined;
  private lastT: number | undefined;
  private lastInit: string | undefined;
  framesWritten = 0;
  private readonly segments: RecordedSegment[];
  private following: boolean;
  private polling: Promise<void> | undefined;
  private lastPoll = -Infinity;
  private lastNewAt: number;

  constructor(private readonly opts: PlaybackFeederOptions) {
    this.writer = opts.ring.writer();
    this.now = opts.now ?? (() => performance.now());
    this.segments = [...opts.segments];
    this.following = opts.follow !== undefined;
    this.lastNewAt = this.now();
  }

  /** True once every frame was written (and, following, the window's recording is over). */
  get done(): boolean {
    return this.failed !== undefined || (this.next >= this.segments.length && this.queue.length === 0 && !this.loading && !this.following);
  }

  /** A following feeder that reached the last segment known: ask for newer ones, at most every FOLLOW_POLL_MS. */
  private follow(): void {
    const f = this.opts.follow;
    const last = this.segments.at(-1);
    if (!f || !this.following || this.polling || this.next < this.segments.length || this.now() - this.lastPoll < FOLLOW_POLL_MS) {
      return;
    }
    const lastEnd = last ? last.startMs + last.durationS * 1000 : 0;
    if (lastEnd >= f.untilMs || (f.wallNow ?? Date.now)() >= f.untilMs + 5_000 || this.now() - this.lastNewAt > (f.idleMs ?? 10_000)) {
      this.following = false;
      return;
    }
    this.lastPoll = this.now();
    const known = new Set(this.segments.map((s) => s.file));
    this.polling = f.more(lastEnd - 1)
      .then((segs) => {
        const fresh = segs.filter((s) => !known.has(s.file) && s.startMs >= lastEnd - 1).sort((a, b) => a.startMs - b.startMs);
        if (fresh.length > 0) {
          this.segments.push(...fresh);
          this.lastNewAt = this.now();
        }
      })
      .catch(() => {
        this.following = false; // the recording cannot be read: end with what was sent
      })
      .finally(() => {
        this.polling = undefined;
      });
  }

  get error(): Error | undefined {
    return this.failed;
  }

  /** Write the frames that are due; start loading the next segment when the queue runs low. */
  tick(): void {
    const lead = (this.opts.leadMs ?? 500) / 1000;
    if (this.originT !== undefined) {
      const due = this.originT + (this.now() - this.startedAt) / 1000 + lead;
      let n = 0;
      while (n < this.queue.length && (this.queue[n] as QueuedFrame).t <= due) {
        this.write(this.queue[n] as QueuedFrame);
        n++;
      }
      if (n > 0) {
        this.queue = this.queue.slice(n);
      }
    }
    const buffered = this.queue.length > 0 ? (this.queue.at(-1) as QueuedFrame).t - (this.queue[0] as QueuedFrame).t : 0;
    if (!this.loading && !this.failed && buffered < 1) {
      this.follow();
    }
    if (!this.loading && !this.failed && this.next < this.segments.length && buffered < 1) {
      const seg = this.segments[this.next++] as RecordedSegment;
      this.loading = this.load(seg)
        .catch((err: unknown) => {
          this.failed = err instanceof Error ? err : new Error(String(err));
        })
        .finally(() => {
          this.loading = undefined;
        });
    }
  }

  private write(f: QueuedFrame): void {
    const pts = Math.round(f.t * 1e6);
    this.writer.write({ data: f.data, pts, dts: pts, keyframe: f.video ? f.keyframe : !this.opts.video, codec: f.video ? VIDEO_CODEC_ID[this.opts.video?.codec ?? 'h264'] : AUDIO_CODEC_ID[this.opts.audio?.codec ?? 'aac'], stream: f.video ? STREAM.VIDEO : STREAM.AUDIO });
    this.framesWritten++;
  }

  private async load(seg: RecordedSegment): Promise<void> {
    const [init, media, { ALL_FORMATS, BufferSource, EncodedPacketSink, Input }] = await Promise.all([readFile(seg.init), readFile(seg.file), loadDemuxer()]);
    const bytes = new Uint8Array(init.length + media.length);
    bytes.set(init, 0);
    bytes.set(media, init.length);
    const input = new Input({ source: new BufferSource(bytes), formats: ALL_FORMATS });
    const frames: QueuedFrame[] = [];
    const vt = this.opts.video ? await input.getPrimaryVideoTrack() : null;
    if (vt) {
      for await (const p of new EncodedPacketSink(vt).packets()) {
        frames.push({ data: p.data.slice(), t: p.timestamp, keyframe: p.type === 'key', video: true });
      }
    }
    const at = this.opts.audio ? await input.getPrimaryAudioTrack() : null;
    if (at && this.opts.audio) {
      const cfg = await at.getDecoderConfig();
      const d = cfg?.description;
      const asc = d === undefined ? undefined : ArrayBuffer.isView(d) ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength) : new Uint8Array(d);
      const codec = this.opts.audio.codec;
      for await (const p of new EncodedPacketSink(at).packets()) {
        let data: Uint8Array;
        if (codec === 'aac') {
          const header = adtsHeaderFor(asc ?? new Uint8Array(2), p.data.length);
          data = new Uint8Array(header.length + p.data.length);
          data.set(header, 0);
          data.set(p.data, header.length);
        } else if (codec === 'g711a' || codec === 'g711u') {
          data = pcmToG711(p.data, codec);
        } else {
          data = p.data.slice();
        }
        frames.push({ data, t: p.timestamp, keyframe: false, video: false });
      }
    }
    input.dispose();
    frames.sort((a, b) => a.t - b.t || Number(b.video) - Number(a.video));
    // a new session starts its own timeline: continue it right after the previous one
    const first = frames[0]?.t;
    if (first !== undefined && this.lastT !== undefined && (seg.init !== this.lastInit || first < this.lastT)) {
      const shift = this.lastT + 0.04 - first;
      for (const f of frames) {
        f.t += shift;
      }
    }
    this.lastInit = seg.init;
    this.lastT = frames.at(-1)?.t ?? this.lastT;
    if (this.originT === undefined && frames.length > 0) {
      this.originT = (frames[0] as QueuedFrame).t;
      this.startedAt = this.now();
    }
    this.queue.push(...frames);
  }

  close(): void {
    this.writer.close();
  }
}
