/**
 * live-feed — one camera's live FLV, muxed ONCE per p2p worker and shared by every live
 * viewer of that camera (live-sender.ts): one cursor on the camera's FrameRing, each
 * frame muxed into one FLV tag, and the tags of the current and the previous GOP kept so
 * that a newcomer starts at the latest keyframe. Tags keep their media time (µs): every
 * viewer writes its own timestamps (0 at its own first frame), and gets its own FLV
 * header, onMetaData and sequence headers (the feed keeps them ready per GOP).
 * Feeds live in a registry per worker, one per ring and stream format, while a viewer
 * holds one (`LiveFeed.acquire` / `release`).
 *
 * Owns: the feed's ring cursor, its muxer, its GOP window. Must never: wait for a viewer
 * (a slow or paused viewer only loses its place), keep more than two GOPs reachable from
 * the registry, or give out a tag before its GOP's keyframe.
 */
import type { FrameReader, FrameRing } from '../../runtime/frame-ring.js';
import { STREAM, type AudioFormat, type VideoCodecName } from '../../media/codecs.js';
import { FlvMuxer } from '../../media/flv-muxer.js';
import { paramSetsOf, pictureOf } from '../../media/param-sets.js';

/** One muxed frame in a GOP's buffer: an FLV tag whose timestamp each viewer writes. */
export interface FeedTag {
  offset: number;
  length: number;
  /** Media time (µs): dts for video, pts for audio. */
  timeUs: number;
  video: boolean;
  key: boolean;
}

export interface LiveFormat {
  video: { codec: VideoCodecName; fps?: number };
  audio?: AudioFormat;
}

/** A feed that was not pumped for this long starts again at the ring's latest keyframe. */
const IDLE_RESET_MS = 1_000;
const MIN_GOP_BYTES = 64 * 1024;

/** One GOP: its keyframe's tag first, then every later frame until the next keyframe. */
export class Gop {
  readonly tags: FeedTag[] = [];
  buf: Buffer;
  used = 0;
  /** The next GOP, once the feed started it. */
  next: Gop | undefined;
  private headerBytes: Uint8Array | undefined;

  constructor(
    capacity: number,
    private readonly feed: LiveFeed,
    /** The video sequence-header tag in effect from this keyframe on (timestamp 0); undefined without parameter sets. */
    readonly config: Uint8Array | undefined,
    private readonly picture: { width?: number; height?: number; fps?: number } | undefined,
    /** The feed lost frames (its cursor was lapped) just before this GOP. */
    readonly afterLap: boolean,
  ) {
    this.buf = Buffer.allocUnsafeSlow(capacity);
  }

  /** FLV header + onMetaData for a viewer starting at this GOP (built once per GOP). */
  get header(): Uint8Array {
    this.headerBytes ??= this.feed.headerFor(this.picture);
    return this.headerBytes;
  }

  append(tag: Uint8Array, timeUs: number, video: boolean, key: boolean): void {
    const need = this.used + tag.length;
    if (need > this.buf.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(need, this.buf.length * 2));
      grown.set(this.buf.subarray(0, this.used));
      this.buf = grown;
    }
    this.buf.set(tag, this.used);
    this.tags.push({ offset: this.used, length: tag.length, timeUs, video, key });
    this.used = need;
  }
}

const feeds = new Map<string, LiveFeed>();

export class LiveFeed {
  private reader: FrameReader;
  private mux: FlvMuxer;
  private current: Gop | undefined;
  private previous: Gop | undefined;
  /** The latest video sequence-header tag (a copy): the same object while the parameter sets stay the same. */
  private config: Uint8Array | undefined;
  private audioConfigTag: Uint8Array | undefined;
  private waitKey = false;
  private lapped = false;
  private lastPumpAt: number;
  private users = 0;
  /** Frames muxed (once, for every viewer). */
  muxed = 0;

  /** The feed of this ring and format on this worker (created on first use); `release` it when done. */
  static acquire(ring: FrameRing, format: LiveFormat, now: () => number = () => performance.now()): LiveFeed {
    const key = `${ring.id}|${JSON.stringify(format)}`;
    let feed = feeds.get(key);
    if (!feed) {
      feed = new LiveFeed(key, ring, format, now);
      feeds.set(key, feed);
    }
    feed.users++;
    return feed;
  }

  /** Feeds alive on this worker (tests, metrics). */
  static get count(): number {
    return feeds.size;
  }

  private constructor(private readonly key: string, private readonly ring: FrameRing, private readonly format: LiveFormat, private readonly now: () => number) {
    this.reader = ring.reader('latest-keyframe');
    this.mux = this.newMuxer();
    this.lastPumpAt = now();
  }

  private newMuxer(): FlvMuxer {
    const o: ConstructorParameters<typeof FlvMuxer>[0] = { transientOutput: true, video: { codec: this.format.video.codec } };
    if (this.format.audio && this.format.audio.codec !== 'pcm') {
      o.audio = this.format.audio;
    }
    return new FlvMuxer(o);
  }

  /** One viewer less; the last one ends the feed. */
  release(): void {
    if (this.users > 0 && --this.users === 0) {
      feeds.delete(this.key);
      this.current = undefined;
      this.previous = undefined;
    }
  }

  /** The GOP that starts at the latest keyframe the feed has read, if any. */
  get latest(): Gop | undefined {
    return this.current;
  }

  /** Whether a viewer at `gop` can go on from there (the feed still keeps it). */
  holds(gop: Gop): boolean {
    return gop === this.current || gop === this.previous;
  }

  /** The AAC sequence-header tag (AudioSpecificConfig) once the first AAC frame was muxed; its timestamp is the viewer's to write. */
  get audioConfig(): Uint8Array | undefined {
    return this.audioConfigTag;
  }

  /** FLV header and onMetaData for a GOP's picture. */
  headerFor(picture: { width?: number; height?: number; fps?: number } | undefined): Uint8Array {
    return this.mux.header(picture);
  }

  /** Mux what the ring has beyond the feed's cursor (every viewer's tick calls this; the first one in a tick does the work). */
  pump(): void {
    const now = this.now();
    if (now - this.lastPumpAt > IDLE_RESET_MS) {
      // nobody pumped for a while: what the cursor would read now is stale, start at the live edge
      this.reader = this.ring.reader('latest-keyframe');
      this.mux = this.newMuxer();
      this.config = undefined;
      this.audioConfigTag = undefined;
      this.current = undefined;
      this.previous = undefined;
      this.waitKey = false;
    }
    this.lastPumpAt = now;
    const { codec } = this.format.video;
    const aacOrG711 = this.format.audio !== undefined && this.format.audio.codec !== 'pcm';
    for (let f = this.reader.peek(); f !== null; f = this.reader.peek()) {
      if (f.discontinuity) {
        this.lapped = true;
        this.waitKey = true;
      }
      const video = f.stream === STREAM.VIDEO;
      const key = video && f.keyframe;
      if (!key && (this.waitKey || !this.current)) {
        this.reader.release();
        continue;
      }
      const paramSets = key ? paramSetsOf(f.data, codec) : undefined;
      const tags = video
        ? this.mux.video({ data: f.data, pts: f.pts, dts: f.dts, keyframe: f.keyframe, paramSets })
        : aacOrG711 ? this.mux.audio({ data: f.data, pts: f.pts }) : [];
      const picture = key ? pictureOf(f.data, this.format.video) : undefined;
      if (!this.reader.release()) {
        this.waitKey = true; // overwritten while muxed: drop it, go on at the next keyframe
        this.lapped = true;
        continue;
      }
      // a frame's own tag is the last one; a sequence header comes before it when the muxer emits one
      if (tags.length > 1) {
        const first = tags[0] as Uint8Array;
        if (video) {
          this.config = new Uint8Array(first); // a copy: the tag views the recycled slab (Buffer#slice would be a view)
        } else {
          this.audioConfigTag = new Uint8Array(first);
        }
      }
      if (key) {
        const gop = new Gop(Math.max(MIN_GOP_BYTES, Math.ceil((this.current?.used ?? 0) * 1.25)), this, this.config, picture, this.lapped);
        if (this.current) {
          this.current.next = gop;
        }
        this.previous = this.current;
        this.current = gop;
        this.waitKey = false;
        this.lapped = false;
      }
      const own = tags.at(-1);
      if (own !== undefined && this.current) {
        this.current.append(own, video ? f.dts : f.pts, video, key);
        this.muxed++;
      }
    }
  }
}
