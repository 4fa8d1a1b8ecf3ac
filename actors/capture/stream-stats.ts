/**
 * stream-stats — per-stream measurements over a sliding window: fps, bitrates, GOP
 * length (frames and bytes) and keyframe interval. Owns a bounded window of recent frames.
 */

interface Sample {
  at: number;
  bytes: number;
  video: boolean;
}

export interface StreamStatsSnapshot {
  fps: number;
  videoKbps: number;
  audioKbps: number;
  /** Frames from one keyframe to the next (the last complete GOP). */
  gopFrames: number;
  /** Video bytes of that GOP, and the most any GOP took so far. */
  gopBytes: number;
  maxGopBytes: number;
  keyframeIntervalMs: number;
  videoFrames: number;
  audioFrames: number;
}

export class StreamStats {
  private window: Sample[] = [];
  private videoFrames = 0;
  private audioFrames = 0;
  private sinceKey = -1;
  private lastGop = 0;
  private bytesSinceKey = 0;
  private lastGopBytes = 0;
  private maxGopBytes = 0;
  private lastKeyAt = -1;
  private keyInterval = 0;

  constructor(private readonly windowMs = 2_000, private readonly now: () => number = () => performance.now()) {}

  video(bytes: number, keyframe: boolean): void {
    const at = this.now();
    this.videoFrames++;
    if (keyframe) {
      if (this.sinceKey > 0) {
        this.lastGop = this.sinceKey;
        this.lastGopBytes = this.bytesSinceKey;
        this.maxGopBytes = Math.max(this.maxGopBytes, this.bytesSinceKey);
      }
      this.bytesSinceKey = 0;
      if (this.lastKeyAt >= 0) {
        this.keyInterval = at - this.lastKeyAt;
      }
      this.lastKeyAt = at;
      this.sinceKey = 0;
    }
    if (this.sinceKey >= 0) {
      this.sinceKey++;
      this.bytesSinceKey += bytes;
    }
    this.add({ at, bytes, video: true });
  }

  audio(bytes: number): void {
    this.audioFrames++;
    this.add({ at: this.now(), bytes, video: false });
  }

  private add(s: Sample): void {
    this.window.push(s);
    const cutoff = s.at - this.windowMs;
    let drop = 0;
    while (drop < this.window.length && (this.window[drop] as Sample).at < cutoff) {
      drop++;
    }
    if (drop > 0) {
      this.window.splice(0, drop);
    }
  }

  /** The last complete GOP: its frames and video bytes. */
  get lastGopSize(): { frames: number; bytes: number } {
    return { frames: this.lastGop, bytes: this.lastGopBytes };
  }

  snapshot(): StreamStatsSnapshot {
    const now = this.now();
    const recent = this.window.filter((s) => s.at >= now - this.windowMs);
    const seconds = this.windowMs / 1000;
    let vBytes = 0;
    let aBytes = 0;
    let vCount = 0;
    for (const s of recent) {
      if (s.video) {
        vBytes += s.bytes;
        vCount++;
      } else {
        aBytes += s.bytes;
      }
    }
    return {
      fps: Math.round((vCount / seconds) * 10) / 10,
      videoKbps: Math.round((vBytes * 8) / seconds / 1000),
      audioKbps: Math.round((aBytes * 8) / seconds / 1000),
      gopFrames: this.lastGop,
      gopBytes: this.lastGopBytes,
      maxGopBytes: this.maxGopBytes,
      keyframeIntervalMs: Math.round(this.keyInterval),
      videoFrames: this.videoFrames,
      audioFrames: this.audioFrames,
    };
  }
}
