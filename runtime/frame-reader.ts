/**
 * frame-reader — one consumer's cursor on a FrameRing (protocol: frame-ring.ts), on any
 * thread: reads frames in order, zero-copy (`peek`/`release`) or copied (fresh, or into
 * one buffer it reuses), detects being lapped and resyncs at a keyframe, waits on the
 * ring's futex or polls.
 * Owns: its position and statistics. Must never: affect the producer or other readers,
 * deliver a torn or out-of-order frame, or continue mid-GOP after a lap.
 */
import * as L from './frame-ring-layout.js';
import type { Frame, ReaderStats, RingView, StartAt } from './frame-ring-types.js';

/** readReused() grows its buffer in steps of this. */
const REUSED_STEP = 16 * 1024;

/** One consumer's cursor. Readers never affect the producer or each other. */
export class FrameReader {
  private next: number;
  private awaitingKey: boolean;
  private pendingDiscontinuity = false;
  private peeked: Frame | undefined;
  /** readReused()'s buffer. */
  private reused = new Uint8Array(0);
  readonly stats: ReaderStats = { frames: 0, bytes: 0, laps: 0, lostFrames: 0 };

  constructor(private readonly ring: RingView, start: StartAt) {
    const head = ring.head;
    this.next = head + 1;
    this.awaitingKey = true;
    if (start === 'latest-keyframe') {
      const key = ring.latestKeyframe();
      if (key >= 0) {
        this.next = key;
        this.awaitingKey = false;
      }
    } else if (start === 'oldest') {
      this.next = Math.max(0, ring.oldest);
      this.awaitingKey = false;
    }
  }

  /** The seq this reader will look at next. */
  get position(): number {
    return this.next;
  }

  /** Frames published and not yet read by this reader (0 when caught up). */
  get backlog(): number {
    return Math.max(0, this.ring.head + 1 - this.next);
  }

  /** @internal position the cursor at `seq` (used by lastGop). */
  seek(seq: number): void {
    this.next = seq;
    this.awaitingKey = false;
    this.peeked = undefined;
  }

  /** Next frame as a private copy, or null when caught up. */
  read(): Frame | null {
    const f = this.peek();
    if (f === null) {
      return null;
    }
    const copy = f.data.slice();
    if (!this.release()) {
      return this.read();
    }
    f.data = copy;
    return f;
  }

  /**
   * Next frame copied into a buffer this reader keeps (valid until the next call), or null
   * when caught up: read() without an allocation per frame, for a consumer that copies or
   * writes the bytes before it reads on. The buffer grows to the largest frame read.
   */
  readReused(): Frame | null {
    const f = this.peek();
    if (f === null) {
      return null;
    }
    const n = f.data.byteLength;
    if (this.reused.byteLength < n) {
      this.reused = new Uint8Array(Math.ceil(n / REUSED_STEP) * REUSED_STEP);
    }
    this.reused.set(f.data);
    if (!this.release()) {
      return this.readReused();
    }
    f.data = this.reused.subarray(0, n);
    return f;
  }

  /**
   * Next frame with `data` viewing the shared buffer (no copy), or null when caught up.
   * Use the bytes, then call `release()`: false means the frame was overwritten while
   * you used it (a lap) — discard what you did with it.
   */
  peek(): Frame | null {
    if (this.peeked) {
      return this.peeked;
    }
    const ring = this.ring;
    for (;;) {
      const head = ring.head;
      if (this.next > head) {
        return null;
      }
      if (this.next < ring.oldest) {
        this.lapped();
        continue;
      }
      const seq = this.next;
      const w = ring.slotWord(seq, 0);
      if (Number(Atomics.load(ring.i64, w + L.S_SEQ / 8)) !== seq) {
        this.lapped();
        continue;
      }
      const iw = ring.slotInt(seq, 0);
      const offset = ring.i32[iw + L.S_OFFSET / 4] as number;
      const length = ring.i32[iw + L.S_LENGTH / 4] as number;
      const flags = ring.i32[iw + L.S_FLAGS / 4] as number;
      const codecStream = ring.i32[iw + L.S_CODEC_STREAM / 4] as number;
      const frame: Frame = {
        seq,
        pts: ring.f64[w + L.S_PTS / 8] as number,
        dts: ring.f64[w + L.S_DTS / 8] as number,
        keyframe: (flags & L.FLAG_KEYFRAME) !== 0,
        codec: (codecStream >>> 8) & 0xff,
        stream: codecStream & 0xff,
        data: ring.data.subarray(offset, offset + length),
        discontinuity: false,
      };
      if (Number(Atomics.load(ring.i64, L.B_OLDEST)) > seq) {
        this.lapped();
        continue;
      }
      if (this.awaitingKey && !frame.keyframe) {
        this.next = seq + 1;
        if (this.pendingDiscontinuity) {
          this.stats.lostFrames++; // skipped while resyncing after a lap
        }
        continue;
      }
      this.awaitingKey = false;
      frame.discontinuity = this.pendingDiscontinuity;
      this.peeked = frame;
      return frame;
    }
  }

  /** Finish with the peeked frame and advance; false when it was overwritten meanwhile. */
  release(): boolean {
    const f = this.peeked;
    if (f === undefined) {
      return false;
    }
    this.peeked = undefined;
    if (Number(Atomics.load(this.ring.i64, L.B_OLDEST)) > f.seq) {
      this.lapped();
      return false;
    }
    this.next = f.seq + 1;
    this.pendingDiscontinuity = false;
    this.stats.frames++;
    this.stats.bytes += f.data.byteLength;
    return true;
  }

  /** Wait (without blocking the thread) until a frame is available, the ring closes, or timeout. */
  async wait(timeoutMs: number): Promise<boolean> {
    const seen = this.futexValue();
    if (seen !== undefined) {
      const i32 = this.ring.i32;
      Atomics.add(i32, L.I_WAITERS, 1);
      try {
        const res = Atomics.waitAsync(i32, L.I_NOTIFY, seen, timeoutMs);
        if (res.async) {
          await res.value;
        }
      } finally {
        Atomics.sub(i32, L.I_WAITERS, 1);
      }
    }
    return this.next <= this.ring.head;
  }

  /** Blocking wait for worker threads that do nothing else (benchmarks, capture loops). */
  waitSync(timeoutMs: number): boolean {
    const seen = this.futexValue();
    if (seen !== undefined) {
      const i32 = this.ring.i32;
      Atomics.add(i32, L.I_WAITERS, 1);
      try {
        Atomics.wait(i32, L.I_NOTIFY, seen, timeoutMs);
      } finally {
        Atomics.sub(i32, L.I_WAITERS, 1);
      }
    }
    return this.next <= this.ring.head;
  }

  /** The NOTIFY value to wait on, or undefined when a frame is already there or the ring is closed. */
  private futexValue(): number | undefined {
    const seen = Atomics.load(this.ring.i32, L.I_NOTIFY);
    return this.next <= this.ring.head || this.ring.closed ? undefined : seen;
  }

  private lapped(): void {
    const ring = this.ring;
    this.peeked = undefined;
    this.stats.laps++;
    Atomics.add(ring.i32, L.I_LAPS, 1);
    this.pendingDiscontinuity = true;
    const from = this.next;
    const key = ring.earliestKeyframe();
    if (key > from) {
      this.next = key;
      this.awaitingKey = false;
    } else {
      this.next = Math.max(from, ring.oldest, ring.head + 1);
      this.awaitingKey = true;
    }
    this.stats.lostFrames += Math.max(0, this.next - from);
  }
}
