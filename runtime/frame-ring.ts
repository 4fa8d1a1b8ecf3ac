/**
 * frame-ring — frames shared between threads without copying them through messages.
 *
 * One producer writes variable-size frames with metadata (seq, pts, dts, keyframe,
 * codec, stream) into a SharedArrayBuffer; any number of readers, on any thread, read
 * them. Layout and diagram: frame-ring-layout.ts.
 *
 * Protocol (all counters are seq-cst Atomics; payload and metadata are plain writes):
 *  producer, frame s of L bytes at absolute byte position [p, p+L):
 *    1. OLDEST := max(OLDEST, s - slots + 1, first seq whose bytes start at >= p+L-dataBytes)
 *       — published BEFORE anything is overwritten;
 *    2. copy payload, write slot fields, then slot.seq := s (publication);
 *    3. keyframe → key index; HEAD := s; NOTIFY += 1; wake waiters if any.
 *  a frame that does not fit the data's tail starts the next lap (the tail is skipped);
 *  so does one written while the frames the slots hold span under half of the lap so far
 *  (FrameWriter.wrapsEarly): a low bitrate keeps only what it uses resident.
 *  reader of seq n: n <= HEAD; slot.seq == n; read fields and payload; then
 *    OLDEST <= n proves nothing it read was overwritten. Otherwise it was lapped:
 *    it counts the lap and resyncs at the earliest keyframe still intact (or waits
 *    for the next keyframe), never delivering a torn or out-of-order frame.
 *
 * Owns: the ring's state machine and its producer (FrameWriter); the reader cursor is
 * frame-reader.ts, the shared types frame-ring-types.ts.
 * Must never: block the producer, deliver a frame that failed validation, or let a
 * reader continue mid-GOP after a lap.
 */
import { loadMemAddon } from './allocator.js';
import { IvError, invalidParam } from './errors.js';
import { FrameReader } from './frame-reader.js';
import * as L from './frame-ring-layout.js';
import type { Frame, FrameInput, RingOptions, RingView, StartAt } from './frame-ring-types.js';

export type { Frame, FrameInput, FrameMeta, ReaderStats, RingOptions, RingView, StartAt } from './frame-ring-types.js';
export { FrameReader } from './frame-reader.js';

/**
 * Frames from this size up are copied in with libc memcpy (iv_mem's copyInto) where the
 * addon is built: V8 copies into shared memory with relaxed atomic word stores (bench
 * ring). Below it the call costs about what it saves. The addon loads at the first such
 * frame, never at import.
 */
const NATIVE_COPY_MIN = 16 * 1024;
let nativeCopy: ((dst: Uint8Array, offset: number, src: Uint8Array) => void) | null | undefined;

/** No early lap below this position: tiny laps would only add tail skips. */
const EARLY_WRAP_MIN = 64 * 1024;

const isPow2 = (n: number): boolean => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;

export class FrameRing implements RingView {
  readonly buffer: SharedArrayBuffer;
  readonly dataBytes: number;
  readonly slots: number;
  readonly keys: number;
  /** @internal */ readonly i32: Int32Array;
  /** @internal */ readonly i64: BigInt64Array;
  /** @internal */ readonly f64: Float64Array;
  /** @internal */ readonly data: Uint8Array;
  /** @internal */ readonly slotBase: number;
  /** @internal */ readonly keyBase: number;

  private constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    const header = new Int32Array(buffer, 0, L.HEADER_BYTES / 4);
    this.dataBytes = header[L.I_DATA_BYTES] as number;
    this.slots = header[L.I_SLOTS] as number;
    this.keys = header[L.I_KEYS] as number;
    const off = L.offsetsOf(this);
    this.i32 = new Int32Array(buffer, 0, off.data / 4);
    this.i64 = new BigInt64Array(buffer, 0, off.data / 8);
    this.f64 = new Float64Array(buffer, 0, off.data / 8);
    this.data = new Uint8Array(buffer, off.data, this.dataBytes);
    this.slotBase = off.slotTable;
    this.keyBase = off.keyIndex;
  }

  /** Create a ring in a new SharedArrayBuffer. */
  static create(opts: RingOptions): FrameRing {
    const slots = opts.slots ?? 1024;
    const keys = opts.keys ?? 64;
    if (!Number.isInteger(opts.dataBytes) || opts.dataBytes < 1024 || opts.dataBytes > 0x7fff0000) {
      throw invalidParam('dataBytes', `expected an integer 1024..${0x7fff0000}, got ${opts.dataBytes}`);
    }
    if (!isPow2(slots) || slots < 4 || slots > 1 << 20) {
      throw invalidParam('slots', `expected a power of 2 in 4..${1 << 20}, got ${slots}`);
    }
    if (!isPow2(keys) || keys > 1 << 16) {
      throw invalidParam('keys', `expected a power of 2 in 1..${1 << 16}, got ${keys}`);
    }
    const geometry = { dataBytes: opts.dataBytes, slots, keys };
    const buffer = new SharedArrayBuffer(L.offsetsOf(geometry).total);
    const i32 = new Int32Array(buffer, 0, L.HEADER_BYTES / 4);
    i32[L.I_MAGIC] = L.MAGIC;
    i32[L.I_VERSION] = L.LAYOUT_VERSION;
    i32[L.I_DATA_BYTES] = opts.dataBytes;
    i32[L.I_SLOTS] = slots;
    i32[L.I_KEYS] = keys;
    const id = crypto.getRandomValues(new Uint32Array(2));
    i32[L.I_RING_ID] = id[0] as number;
    i32[L.I_RING_ID + 1] = ((id[1] as number) & 0x1fffff) | 1; // never 0: 0 is "no id"
    const ring = new FrameRing(buffer);
    Atomics.store(ring.i64, L.B_HEAD, -1n);
    Atomics.store(ring.i64, L.B_OLDEST, 0n);
    for (let s = 0; s < slots; s++) {
      Atomics.store(ring.i64, ring.slotWord(s, L.S_SEQ), -1n);
    }
    return ring;
  }

  /** Attach to a ring another thread created; checks magic, version and geometry. */
  static attach(buffer: SharedArrayBuffer): FrameRing {
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength < L.HEADER_BYTES) {
      throw new IvError('IV_ERR_RING_LAYOUT', 'not a SharedArrayBuffer large enough for a frame ring header', { field: 'ring' });
    }
    const i32 = new Int32Array(buffer, 0, L.HEADER_BYTES / 4);
    if (i32[L.I_MAGIC] !== L.MAGIC || i32[L.I_VERSION] !== L.LAYOUT_VERSION) {
      throw new IvError('IV_ERR_RING_LAYOUT', `frame ring magic/version ${i32[L.I_MAGIC]}/${i32[L.I_VERSION]}, expected ${L.MAGIC}/${L.LAYOUT_VERSION}`, { field: 'ring' });
    }
    const geometry = { dataBytes: i32[L.I_DATA_BYTES] as number, slots: i32[L.I_SLOTS] as number, keys: i32[L.I_KEYS] as number };
    if (!isPow2(geometry.slots) || !isPow2(geometry.keys) || L.offsetsOf(geometry).total !== buffer.byteLength) {
      throw new IvError('IV_ERR_RING_LAYOUT', 'frame ring geometry does not match its buffer size', { field: 'ring' });
    }
    return new FrameRing(buffer);
  }

  /** @internal word index (in 8-byte units) of a field of the slot holding `seq`. */
  slotWord(seq: number, field: number): number {
    return (this.slotBase + (seq & (this.slots - 1)) * L.SLOT_BYTES + field) / 8;
  }

  /** @internal Int32 index of a field of the slot holding `seq`. */
  slotInt(seq: number, field: number): number {
    return (this.slotBase + (seq & (this.slots - 1)) * L.SLOT_BYTES + field) / 4;
  }

  /** This ring's identity: the same number in every thread that attached it, unique in the process. */
  get id(): number {
    return (this.i32[L.I_RING_ID + 1] as number) * 2 ** 32 + ((this.i32[L.I_RING_ID] as number) >>> 0);
  }

  /** Last published seq, -1 before the first frame. */
  get head(): number {
    return Number(Atomics.load(this.i64, L.B_HEAD));
  }

  /** Oldest seq that can still be read intact. */
  get oldest(): number {
    return Number(Atomics.load(this.i64, L.B_OLDEST));
  }

  get closed(): boolean {
    return Atomics.load(this.i32, L.I_CLOSED) === 1;
  }

  get bytesWritten(): number {
    return Number(Atomics.load(this.i64, L.B_BYTES));
  }

  /** Data bytes ever written to, counted from the start of the data region: what the ring holds in RSS (laps start early for low bitrates). */
  get touchedBytes(): number {
    return Number(Atomics.load(this.i64, L.B_TOUCHED));
  }

  /** Laps suffered by all readers of this ring so far (a producer-side health figure). */
  get laps(): number {
    return Atomics.load(this.i32, L.I_LAPS);
  }

  /** Seq of the latest keyframe still intact, or -1. */
  latestKeyframe(): number {
    const keyHead = Number(Atomics.load(this.i64, L.B_KEY_HEAD));
    if (keyHead === 0) {
      return -1;
    }
    const seq = Number(Atomics.load(this.i64, this.keyBase / 8 + ((keyHead - 1) & (this.keys - 1))));
    return seq >= this.oldest ? seq : -1;
  }

  /** Seq of the earliest keyframe still intact (and still in the key index), or -1. */
  earliestKeyframe(): number {
    const keyHead = Number(Atomics.load(this.i64, L.B_KEY_HEAD));
    const oldest = this.oldest;
    let found = -1;
    for (let k = keyHead - 1; k >= 0 && k >= keyHead - this.keys; k--) {
      const seq = Number(Atomics.load(this.i64, this.keyBase / 8 + (k & (this.keys - 1))));
      if (seq < oldest) {
        break;
      }
      found = seq;
    }
    return found;
  }

  /**
   * Become the ring's single producer. `takeover` reclaims a ring whose producer died;
   * `nativeCopy: false` copies every frame with V8 (benchmarks compare the two).
   */
  writer(opts: { takeover?: boolean; nativeCopy?: boolean } = {}): FrameWriter {
    const prev = Atomics.compareExchange(this.i32, L.I_PRODUCER, 0, 1);
    if (prev !== 0 && !opts.takeover) {
      throw new IvError('IV_ERR_BUSY', 'this frame ring already has a producer', { field: 'ring' });
    }
    Atomics.store(this.i32, L.I_PRODUCER, 1);
    Atomics.store(this.i32, L.I_CLOSED, 0);
    return new FrameWriter(this, opts.nativeCopy !== false);
  }

  reader(start: StartAt = 'latest-keyframe'): FrameReader {
    return new FrameReader(this, start);
  }

  /** Copies of the frames from the latest keyframe to the head (cloud pre-record). */
  lastGop(): Frame[] {
    for (let attempt = 0; attempt < 8; attempt++) {
      const key = this.latestKeyframe();
      if (key < 0) {
        return [];
      }
      const reader = new FrameReader(this, 'oldest');
      reader.seek(key);
      const head = this.head;
      const out: Frame[] = [];
      let ok = true;
      while (reader.position <= head) {
        const f = reader.read();
        if (f === null) {
          break;
        }
        if (f.discontinuity || f.seq !== key + out.length) {
          ok = false;
          break;
        }
        out.push(f);
      }
      if (ok) {
        return out;
      }
    }
    return [];
  }
}

/** The single producer of a ring. Never blocks: old frames are overwritten. */
export class FrameWriter {
  private seq: number;
  private pos: number;
  private oldest: number;
  private touched: number;
  private released = false;

  constructor(private readonly ring: FrameRing, private readonly nativeCopyAllowed = true) {
    this.seq = ring.head + 1;
    this.pos = Number(Atomics.load(ring.i64, L.B_WRITE_POS));
    this.oldest = ring.oldest;
    this.touched = ring.touchedBytes;
  }

  get nextSeq(): number {
    return this.seq;
  }

  /**
   * Start the next lap now, before the end of the data region, when the frames the slot
   * table still holds (from seq s - slots + 1) span less than half of this lap: what the
   * jump overwrites is older than that, so readers keep exactly the frames they had.
   * A stream whose slot window is smaller than the data region (a low bitrate) then
   * cycles through about twice that window, and the pages beyond are never touched:
   * the 8 MiB rings of the demo cameras (~200 kbit/s, 2048 slots) held 2.6 and 3.6 MB.
   */
  private wrapsEarly(s: number, start: number, phys: number, len: number): boolean {
    const ring = this.ring;
    const first = s - ring.slots + 1;
    if (first < this.oldest || first < 0 || phys < EARLY_WRAP_MIN) {
      return false; // the slot window is not full, or bytes already retire frames
    }
    const firstStart = ring.f64[ring.slotWord(first, L.S_ABS_START)] as number;
    const span = start - firstStart;
    return firstStart - (start - phys) >= len && phys >= 2 * span + len;
  }

  /** Publish one frame; returns its seq. */
  write(frame: FrameInput): number {
    const ring = this.ring;
    const len = frame.data.byteLength;
    if (this.released) {
      throw new IvError('IV_ERR_CLOSED', 'this frame writer was released');
    }
    if (len > ring.dataBytes) {
      throw new IvError('IV_ERR_RING_FRAME_TOO_LARGE', `frame of ${len} bytes does not fit a ring of ${ring.dataBytes} data bytes`, { field: 'data' });
    }
    const codec = frame.codec ?? 0;
    const stream = frame.stream ?? 0;
    if (!Number.isInteger(codec) || codec < 0 || codec > 255) {
      throw invalidParam('codec', `expected 0..255, got ${codec}`);
    }
    if (!Number.isInteger(stream) || stream < 0 || stream > 255) {
      throw invalidParam('stream', `expected 0..255, got ${stream}`);
    }
    const s = this.seq;
    let start = this.pos;
    const phys = start % ring.dataBytes;
    if (phys + len > ring.dataBytes || this.wrapsEarly(s, start, phys, len)) {
      start += ring.dataBytes - phys; // skip the tail; frames never wrap
    }
    const end = start + len;
    // 1. retire what this write overwrites, before touching it
    let oldest = Math.max(this.oldest, s - ring.slots + 1);
    const limit = end - ring.dataBytes;
    while (oldest < s && ring.f64[ring.slotWord(oldest, L.S_ABS_START)] as number < limit) {
      oldest++;
    }
    if (oldest !== this.oldest) {
      this.oldest = oldest;
      Atomics.store(ring.i64, L.B_OLDEST, BigInt(oldest));
    }
    // 2. payload and metadata, then publish the slot
    const offset = start % ring.dataBytes;
    if (len >= NATIVE_COPY_MIN && this.nativeCopyAllowed && (nativeCopy ??= loadMemAddon()?.copyInto ?? null)) {
      nativeCopy(ring.data, offset, frame.data);
    } else {
      ring.data.set(frame.data, offset);
    }
    const w = ring.slotWord(s, 0);
    const iw = ring.slotInt(s, 0);
    ring.f64[w + L.S_PTS / 8] = frame.pts;
    ring.f64[w + L.S_DTS / 8] = frame.dts ?? frame.pts;
    ring.f64[w + L.S_ABS_START / 8] = start;
    ring.i32[iw + L.S_OFFSET / 4] = offset;
    ring.i32[iw + L.S_LENGTH / 4] = len;
    ring.i32[iw + L.S_FLAGS / 4] = frame.keyframe ? L.FLAG_KEYFRAME : 0;
    ring.i32[iw + L.S_CODEC_STREAM / 4] = (codec << 8) | stream;
    Atomics.store(ring.i64, w + L.S_SEQ / 8, BigInt(s));
    // 3. key index, head, wake-up
    if (frame.keyframe) {
      const keyHead = Number(Atomics.load(ring.i64, L.B_KEY_HEAD));
      Atomics.store(ring.i64, ring.keyBase / 8 + (keyHead & (ring.keys - 1)), BigInt(s));
      Atomics.store(ring.i64, L.B_KEY_HEAD, BigInt(keyHead + 1));
    }
    this.pos = end;
    this.seq = s + 1;
    if (offset + len > this.touched) {
      this.touched = offset + len;
      Atomics.store(ring.i64, L.B_TOUCHED, BigInt(this.touched));
    }
    Atomics.store(ring.i64, L.B_WRITE_POS, BigInt(end));
    Atomics.add(ring.i64, L.B_BYTES, BigInt(len));
    Atomics.store(ring.i64, L.B_HEAD, BigInt(s));
    Atomics.add(ring.i32, L.I_NOTIFY, 1);
    if (Atomics.load(ring.i32, L.I_WAITERS) > 0) {
      Atomics.notify(ring.i32, L.I_NOTIFY);
    }
    return s;
  }

  /** Mark the stream finished (readers see `closed`) and give up the producer role. */
  close(): void {
    if (this.released) {
      return;
    }
    this.released = true;
    Atomics.store(this.ring.i32, L.I_CLOSED, 1);
    Atomics.store(this.ring.i32, L.I_PRODUCER, 0);
    Atomics.add(this.ring.i32, L.I_NOTIFY, 1);
    Atomics.notify(this.ring.i32, L.I_NOTIFY);
  }
}
