/**
 * live-player — a stream's FLV bytes played in a <video> with mpegts.js (FLV over Media
 * Source Extensions: H.264 video, AAC audio). mpegts.js fetches nothing: its loader is a
 * custom one (`customLoader`) fed with the bytes BrowserClient.open hands over; bytes that
 * arrive before mpegts.js opens its loader are queued, bytes after it aborted it dropped.
 * A live stream stays at the live edge: more than 0.5 s behind the buffered end it plays
 * at 1.1× until 0.25 s behind (mpegts.js `liveSync`); more than 1 s behind, mpegts.js's
 * latency chasing (`liveBufferLatencyChasing`) jumps to 0.3 s before the end, and if it
 * still is, a seek does (`seeks` counts those). A playback stream (`chase` false) is
 * played as it comes, never skipped.
 * Reports the newest picture presented (requestVideoFrameCallback: its media time, which is
 * the FLV timestamp, and when it was due on screen), for capture-to-screen latency.
 * Owns: the mpegts.js player and the <video>'s source. Must never: keep the player or its
 * timer after destroy().
 */
import mpegtsModule from 'mpegts.js';

// mpegts.js is a UMD bundle whose typings say `export default`: TypeScript (NodeNext) sees
// the CommonJS module object, esbuild hands over module.exports; both are covered
type Mpegts = typeof mpegtsModule.default;
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- the typings promise `.default`; the bundle may not have it
const mpegts: Mpegts = (mpegtsModule.default as Mpegts | undefined) ?? (mpegtsModule as unknown as Mpegts);
type Player = ReturnType<Mpegts['createPlayer']>;
type CustomLoader = NonNullable<NonNullable<Parameters<Mpegts['createPlayer']>[1]>['customLoader']>;

/** What the page shows about a stream's codecs: can this browser decode them? */
export function videoSupport(codec: 'h264' | 'h265'): { ok: boolean; reason: string } {
  const type = codec === 'h264' ? 'video/mp4; codecs="avc1.42E01E"' : 'video/mp4; codecs="hvc1.1.6.L93.B0"';
  const ms = (globalThis as { MediaSource?: { isTypeSupported(t: string): boolean } }).MediaSource;
  if (!ms) {
    return { ok: false, reason: 'this browser has no Media Source Extensions: it cannot play live video' };
  }
  if (!ms.isTypeSupported(type)) {
    return { ok: false, reason: `this browser cannot decode ${codec === 'h265' ? 'H.265 (HEVC)' : 'H.264'} video (MediaSource.isTypeSupported('${type}') is false)` };
  }
  return { ok: true, reason: '' };
}

const MAX_BEHIND_S = 1;
const KEEP_BEHIND_S = 0.3;
const SYNC_ABOVE_S = 0.5;
const SYNC_TARGET_S = 0.25;

export class LivePlayer {
  /** Seeks to the live edge made by this player (not mpegts.js's own chasing). */
  seeks = 0;
  /** The last mpegts.js error, in words ('' when none). */
  error = '';
  /** The newest picture presented: its media time (s) and when it was due on screen (performance.now() clock, ms); -1 before. */
  presentedMediaS = -1;
  presentedAtMs = -1;
  /** Pictures presented (requestVideoFrameCallback), from the first. */
  presented = 0;
  private readonly queue: ArrayBuffer[] = [];
  private deliver: ((chunk: ArrayBuffer) => void) | undefined;
  private received = 0;
  private readonly player: Player;
  private readonly timer: ReturnType<typeof setInterval>;
  private destroyed = false;
  private stopped = false;

  constructor(readonly video: HTMLVideoElement, hasAudio: boolean, private readonly chaseEdge = true) {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the loader class mpegts.js instantiates reaches its player through this
    const self = this;
    const Base = mpegts.BaseLoader;
    class FeedLoader extends Base {
      constructor() {
        super('ivgw-feed-loader');
        this._needStash = false;
      }
      override open(): void {
        this._status = mpegts.LoaderStatus.kBuffering;
        self.deliver = (chunk) => {
          const start = self.received;
          self.received += chunk.byteLength;
          this.onDataArrival(chunk, start, self.received);
        };
        for (const c of self.queue.splice(0)) {
          self.deliver(c);
        }
      }
      override abort(): void {
        // mpegts.js only aborts a live source it is done with: later bytes are dropped, not queued
        self.deliver = undefined;
        self.stopped = true;
        this._status = mpegts.LoaderStatus.kComplete;
      }
    }
    this.player = mpegts.createPlayer({ type: 'flv', isLive: true, hasVideo: true, hasAudio }, {
      isLive: true,
      enableWorker: false,
      enableStashBuffer: false,
      liveBufferLatencyChasing: chaseEdge,
      liveBufferLatencyMaxLatency: MAX_BEHIND_S,
      liveBufferLatencyMinRemain: KEEP_BEHIND_S,
      // closer than that by playing a little faster (no jump)
      liveSync: chaseEdge,
      liveSyncMaxLatency: SYNC_ABOVE_S,
      liveSyncTargetLatency: SYNC_TARGET_S,
      liveSyncPlaybackRate: 1.1,
      customLoader: FeedLoader as unknown as CustomLoader,
    });
    this.player.on(mpegts.Events.ERROR, (type: string, detail: string, info: { msg?: string } | undefined) => {
      this.error = `${type}: ${detail}${info?.msg ? ` (${info.msg})` : ''}`;
    });
    this.player.attachMediaElement(video);
    this.player.load();
    void Promise.resolve(this.player.play()).catch(() => undefined);
    this.timer = setInterval(() => this.chase(), 250);
    const onFrame = (_now: number, meta: VideoFrameCallbackMetadata): void => {
      if (this.destroyed) {
        return;
      }
      this.presentedMediaS = meta.mediaTime;
      this.presentedAtMs = meta.expectedDisplayTime;
      this.presented++;
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  }

  /** A stream message's bytes (copied: the caller's buffer stays its own). */
  push(bytes: Uint8Array): void {
    if (this.stopped || this.destroyed) {
      return;
    }
    const chunk = bytes.slice().buffer;
    if (this.deliver) {
      this.deliver(chunk);
    } else {
      this.queue.push(chunk);
    }
  }

  /** Seconds between what is shown and the newest buffered picture. */
  behindS(): number {
    const b = this.video.buffered;
    return b.length > 0 ? Math.max(0, b.end(b.length - 1) - this.video.currentTime) : 0;
  }

  private chase(): void {
    const b = this.video.buffered;
    if (b.length === 0) {
      return;
    }
    const end = b.end(b.length - 1);
    if (this.chaseEdge && end - this.video.currentTime > MAX_BEHIND_S) {
      this.video.currentTime = Math.max(b.start(b.length - 1), end - KEEP_BEHIND_S);
      this.seeks++;
    }
    if (this.video.paused) {
      void this.video.play().catch(() => undefined);
    }
  }

  destroy(): void {
    if (this.destroyed) {
      return;
    }
    this.destroyed = true;
    clearInterval(this.timer);
    this.deliver = undefined;
    this.player.pause();
    this.player.unload();
    this.player.detachMediaElement();
    this.player.destroy();
  }
}
