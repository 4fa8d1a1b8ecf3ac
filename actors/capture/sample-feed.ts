/**
 * sample-feed — plays elementary-stream frames (e.g. the sample media) into a push
 * API in real time: video at `fps`, audio at 1024 samples per frame, looped, with
 * continuous timestamps (ms) from 0. Used by examples, tests and benchmarks of the
 * SDK push APIs (cloud.pushStream).
 * Owns: one 10 ms timer. Must never: push a frame before its time, or stop on a
 * refused frame (refusals are counted and handed to onError).
 */
import { SAMPLES_PER_FRAME } from '../../media/codecs.js';

export interface SampleFeedOptions {
  video?: { frames: Uint8Array[]; fps: number };
  audio?: { frames: Uint8Array[]; sampleRate: number };
  push: (type: 'video' | 'audio', pack: { data: Uint8Array; pts: number; keyframe?: boolean }) => void;
  onError?: (err: unknown) => void;
}

export class SampleFeed {
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private v = 0;
  private a = 0;
  pushed = { video: 0, audio: 0, refused: 0 };

  constructor(private readonly opts: SampleFeedOptions) {}

  start(): this {
    this.startedAt = performance.now() - this.elapsedAtStop;
    this.timer = setInterval(() => this.pump(), 10);
    this.pump();
    return this;
  }

  private elapsedAtStop = 0;

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.elapsedAtStop = performance.now() - this.startedAt;
  }

  /** Media time pushed so far, ms. */
  get positionMs(): number {
    const v = this.opts.video;
    return v ? (this.v * 1000) / v.fps : 0;
  }

  private pump(): void {
    const now = performance.now() - this.startedAt;
    const { video, audio, push } = this.opts;
    const vPts = (i: number): number => (video ? (i * 1000) / video.fps : Infinity);
    const aPts = (i: number): number => (audio ? (i * SAMPLES_PER_FRAME * 1000) / audio.sampleRate : Infinity);
    for (;;) {
      const nextV = vPts(this.v);
      const nextA = aPts(this.a);
      const pts = Math.min(nextV, nextA);
      if (pts > now || pts === Infinity) {
        return;
      }
      try {
        if (nextV <= nextA && video) {
          const data = video.frames[this.v % video.frames.length] as Uint8Array;
          this.v++;
          push('video', { data, pts: Math.round(nextV) });
          this.pushed.video++;
        } else if (audio) {
          const data = audio.frames[this.a % audio.frames.length] as Uint8Array;
          this.a++;
          push('audio', { data, pts: Math.round(nextA) });
          this.pushed.audio++;
        }
      } catch (err) {
        this.pushed.refused++;
        this.opts.onError?.(err);
      }
    }
  }
}
