/**
 * live-sender — one app's live stream of a camera with video, served from the camera's
 * shared LiveFeed (live-feed.ts: muxed once per worker): the viewer's own FLV header and
 * onMetaData, sequence headers before its first keyframe (and when the parameter sets
 * change), every tag's timestamp written for this viewer (0 at its first frame, or the
 * origin it continues), the watermarks on its own backlog, and the SDK's send statistics
 * from its app's acks (send-accounting.ts) — exactly what a StreamSender of its own would
 * send, without muxing per viewer. Starts at the feed's latest keyframe; after a HIGH
 * pause or an ICE restart goes on at the latest keyframe (or the next one when it is
 * already past it). The rest of a GOP it starts in (the frames since that keyframe) goes
 * out at most catchUpBytesPerTick (32 KiB) a tick after the keyframe itself, so that one
 * newcomer's GOP (up to ~500 KB at 2 Mbit/s) does not sit in the tick every other viewer
 * of the worker waits for (memory per viewer measured the same with and without it).
 *
 * Owns: its place in the feed (GOP and tag), its timestamp origin, its counters.
 * Must never: write into the feed's tags (they are every viewer's), resume mid-GOP, split
 * a tag across ticks, or hold more than one tick's bytes.
 */
import type { FrameRing } from '../../runtime/frame-ring.js';
import type { AudioFormat, VideoCodecName } from '../../media/codecs.js';
import { LiveFeed, type Gop } from './live-feed.js';
import { SendAccounting, type ByteChannel, type SendStats } from './send-accounting.js';
import type { WatermarkEvent, WatermarkState } from './watermark.js';

/**
 * What one tick may queue once it holds a tag (3.2 MB/s at the 10 ms tick: a 2 s GOP of a
 * 2 Mbit/s camera catches up in ~160 ms). A live stream's tick carries a frame or two, far
 * below it; a keyframe bigger than it still goes whole, in its own tick.
 */
export const CATCH_UP_BYTES_PER_TICK = 32 * 1024;

export interface LiveSenderOptions {
  stream: number;
  channel: ByteChannel;
  ring: FrameRing;
  video: { codec: VideoCodecName; fps?: number };
  audio?: AudioFormat;
  watermarks: WatermarkState;
  onWatermark(level: WatermarkEvent): void;
  /** Take over a stream another sender began (a restarted peer actor): no FLV header, the same timestamp origin (ms), first data at the latest keyframe. */
  continueFrom?: { originMs: number };
  /** Called once with the frames' clock (ms) at FLV timestamp 0. */
  onOrigin?: (originMs: number) => void;
  /** Bytes a tick may queue once it holds a tag (default CATCH_UP_BYTES_PER_TICK). */
  catchUpBytesPerTick?: number;
  now?: () => number;
}

export class LiveSender {
  readonly stream: number;
  private readonly feed: LiveFeed;
  private readonly account: SendAccounting;
  private gop: Gop | undefined;
  private index = 0;
  private originUs: number | undefined;
  private headerSent = false;
  private originReported = false;
  private lastConfig: Uint8Array | undefined;
  private audioConfigSent = false;
  private waitKeyframe = false;
  private rebound = false;
  private frames = 0;
  private laps = 0;
  private closed = false;
  private readonly catchUpBytes: number;

  constructor(private readonly opts: LiveSenderOptions) {
    this.stream = opts.stream;
    this.catchUpBytes = opts.catchUpBytesPerTick ?? CATCH_UP_BYTES_PER_TICK;
    const now = opts.now ?? (() => performance.now());
    this.account = new SendAccounting(opts.channel, now);
    this.feed = LiveFeed.acquire(opts.ring, opts.audio ? { video: opts.video, audio: opts.audio } : { video: opts.video }, now);
    if (opts.continueFrom) {
      this.originUs = opts.continueFrom.originMs * 1000;
      this.headerSent = true;
      this.originReported = true;
      this.waitKeyframe = true;
    }
  }

  tick(): void {
    if (this.closed || !this.account.open) {
      return;
    }
    this.feed.pump();
    if (this.rebound) {
      this.rebound = false;
      this.resumeAtKeyframe();
    }
    for (const level of this.opts.watermarks.update(this.backlog())) {
      if (level === 'low') {
        this.resumeAtKeyframe(); // at the camera's latest keyframe: what came during the pause is skipped (announced)
      }
      this.opts.onWatermark(level);
    }
    if (!this.headerSent) {
      const g = this.feed.latest;
      if (!g) {
        this.account.flush();
        return; // nothing to send yet: the header goes with the first frame
      }
      this.account.queue(g.header);
      this.headerSent = true;
      this.gop = g;
      this.index = 0;
    }
    if (!this.opts.watermarks.isPaused) {
      this.drain();
    }
    if (!this.originReported && this.originUs !== undefined) {
      this.originReported = true;
      this.opts.onOrigin?.(this.originUs / 1000);
    }
    this.account.flush();
  }

  /** Everything the feed has beyond this viewer's place, with this viewer's timestamps. */
  private drain(): void {
    const feed = this.feed;
    const aac = this.opts.audio?.codec === 'aac';
    for (;;) {
      let g = this.gop;
      if (!g || !feed.holds(g)) {
        const latest = feed.latest;
        if (!latest) {
          return;
        }
        if (g) {
          this.laps++; // fell out of the feed's window (like a lapped ring reader): on at the latest keyframe
          this.waitKeyframe = true;
        }
        g = this.gop = latest;
        this.index = 0;
      }
      if (this.account.pending >= this.catchUpBytes) {
        return; // catching up: the rest goes on the next ticks
      }
      if (this.index >= g.tags.length) {
        if (!g.next) {
          return;
        }
        if (g.next.afterLap) {
          this.laps++;
        }
        this.gop = g.next;
        this.index = 0;
        continue;
      }
      const t = g.tags[this.index++] as (typeof g.tags)[number];
      if (this.waitKeyframe && !t.key) {
        continue;
      }
      this.waitKeyframe = false;
      this.frames++;
      if (t.video) {
        if (t.key && g.config !== undefined && g.config !== this.lastConfig) {
          this.account.queue(g.config); // timestamp 0, as the muxer writes sequence headers
          this.lastConfig = g.config;
        }
        if (this.lastConfig === undefined) {
          continue; // no sequence header yet: no coded frame before it
        }
      } else {
        if (this.lastConfig === undefined) {
          continue; // audio starts with the first keyframe
        }
        const asc = feed.audioConfig;
        if (aac && !this.audioConfigSent && asc !== undefined) {
          this.queueAt(asc, t.timeUs);
          this.audioConfigSent = true;
        }
      }
      this.queueAt(g.buf.subarray(t.offset, t.offset + t.length), t.timeUs);
    }
  }

  /** Go on from a keyframe: the feed's latest one when this viewer is before it, the next one otherwise. */
  private resumeAtKeyframe(): void {
    const latest = this.feed.latest;
    if (latest && this.gop !== latest) {
      this.gop = latest;
      this.index = 0;
    }
    this.waitKeyframe = true;
  }

  /** Queue a feed tag with this viewer's timestamp (ms since its origin). */
  private queueAt(tag: Uint8Array, timeUs: number): void {
    const at = this.account.queue(tag);
    this.originUs ??= timeUs;
    this.account.stamp(at, Math.max(0, Math.round((timeUs - this.originUs) / 1000)) >>> 0);
  }

  /** Continue on a new data channel (ICE restart): no new header, the same origin, from a keyframe. */
  rebind(channel: ByteChannel): void {
    this.account.rebind(channel);
    this.rebound = true;
  }

  ack(bytes: number, echo: number): void {
    this.account.ack(bytes, echo);
  }

  get caughtUp(): boolean {
    const g = this.gop;
    return g !== undefined && this.index >= g.tags.length && g.next === undefined && this.account.pending === 0;
  }

  backlog(): number {
    return this.account.backlog();
  }

  stats(): SendStats {
    return this.account.stats({ frames: this.frames, laps: this.laps, paused: this.opts.watermarks.isPaused });
  }

  /** The stream ended: this viewer no longer holds the feed. Idempotent. */
  close(): void {
    if (!this.closed) {
      this.closed = true;
      this.feed.release();
    }
  }
}
