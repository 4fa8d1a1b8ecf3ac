/**
 * frame-ring-types — the types a FrameRing's producer, its readers and their users share
 * (frames, options, start positions, reader statistics, the ring as a reader sees it).
 * Must never: import the ring or the reader (both import this).
 */

export interface FrameMeta {
  seq: number;
  /** Presentation time, microseconds. */
  pts: number;
  /** Decode time, microseconds. */
  dts: number;
  keyframe: boolean;
  /** 0..255, meaning defined by the producer (see actors/capture). */
  codec: number;
  /** 0..255, e.g. 0 video, 1 audio. */
  stream: number;
}

export interface Frame extends FrameMeta {
  data: Uint8Array;
  /** True on the first frame after this reader lost frames (a lap). */
  discontinuity: boolean;
}

export interface FrameInput {
  data: Uint8Array;
  pts: number;
  dts?: number;
  keyframe: boolean;
  codec?: number;
  stream?: number;
}

export interface RingOptions {
  /** Payload bytes (the data region). */
  dataBytes: number;
  /** Frame slots (power of 2, default 1024). */
  slots?: number;
  /** Keyframe index entries (power of 2, default 64). */
  keys?: number;
}

export type StartAt = 'latest-keyframe' | 'next' | 'oldest';

export interface ReaderStats {
  frames: number;
  bytes: number;
  laps: number;
  lostFrames: number;
}

/** What a reader needs of a ring (FrameRing implements it): the published counters and the raw views. */
export interface RingView {
  readonly head: number;
  readonly oldest: number;
  readonly closed: boolean;
  /** @internal */ readonly i32: Int32Array;
  /** @internal */ readonly i64: BigInt64Array;
  /** @internal */ readonly f64: Float64Array;
  /** @internal */ readonly data: Uint8Array;
  latestKeyframe(): number;
  /** The earliest keyframe whose frame is still intact, -1 if none. */
  earliestKeyframe(): number;
  slotWord(seq: number, field: number): number;
  slotInt(seq: number, field: number): number;
}
