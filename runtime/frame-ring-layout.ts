/**
 * frame-ring-layout — where every field of a FrameRing lives in its SharedArrayBuffer.
 *
 * Owns: the byte offsets and word indexes below; nothing else reads raw offsets.
 * Must never: change without bumping LAYOUT_VERSION (test/runtime/frame-ring-layout
 * pins every constant).
 *
 *  byte 0   ┌──────────── control words (Int32Array index) ─────────────────────────┐
 *           │ I_MAGIC 0  'IVFR'   I_VERSION 1   I_DATA_BYTES 2   I_SLOTS 3            │
 *           │ I_KEYS 4   I_NOTIFY 5 (futex word, +1 per publish)                     │
 *           │ I_WAITERS 6 (readers inside Atomics.wait)   I_PRODUCER 7 (0 free, 1 held)│
 *           │ I_CLOSED 8 (producer finished)   I_LAPS 9 (laps counted by all readers)  │
 *           │ I_RING_ID 10..11 (random id set at create: one ring, however attached)  │
 *           │ 12..15 reserved                                                        │
 *  byte 64  ├──────────── counters (BigInt64Array index) ─────────────────────────────┤
 *           │ B_HEAD 8      last published seq, -1 before the first frame            │
 *           │ B_OLDEST 9    oldest seq whose slot and bytes are intact               │
 *           │ B_KEY_HEAD 10 keyframes published so far                                │
 *           │ B_WRITE_POS 11 absolute byte position after the last frame              │
 *           │ B_BYTES 12    payload bytes published (stats)                           │
 *           │ B_TOUCHED 13  data bytes ever written to, from 0: the memory the ring    │
 *           │               holds resident (laps wrap early: see frame-ring.ts) 14..15 │
 *  byte 128 ├──────────── slot table: slots × SLOT_BYTES (48) ───────────────────────┤
 *           │ +0  seq    BigInt64  written LAST with Atomics.store (publication)     │
 *           │ +8  pts    Float64   +16 dts Float64  (microseconds)                   │
 *           │ +24 offset Int32 (into data)  +28 length Int32                        │
 *           │ +32 flags  Int32 (bit 0 keyframe)  +36 codec<<8 | stream  Int32       │
 *           │ +40 absStart Float64 (absolute byte position, lets a new producer      │
 *           │     resume where a crashed one stopped)                                │
 *           ├──────────── key index: keys × BigInt64 (seq of recent keyframes) ──────┤
 *           ├──────────── data: dataBytes, a byte ring of frame payloads ────────────┤
 *           └────────────────────────────────────────────────────────────────────────┘
 * slot of seq s = s mod slots; key entry k = k mod keys. slots and keys are powers of 2.
 */

export const MAGIC = 0x49564652; // 'IVFR'
export const LAYOUT_VERSION = 4;

// Int32 word indexes (control block, bytes 0..63)
export const I_MAGIC = 0;
export const I_VERSION = 1;
export const I_DATA_BYTES = 2;
export const I_SLOTS = 3;
export const I_KEYS = 4;
export const I_NOTIFY = 5;
export const I_WAITERS = 6;
export const I_PRODUCER = 7;
export const I_CLOSED = 8;
export const I_LAPS = 9;
/** Two Uint32 words (low, high 21 bits): the ring's identity, the same in every thread that attaches it. */
export const I_RING_ID = 10;

// BigInt64 word indexes (counters, bytes 64..127)
export const B_HEAD = 8;
export const B_OLDEST = 9;
export const B_KEY_HEAD = 10;
export const B_WRITE_POS = 11;
export const B_BYTES = 12;
export const B_TOUCHED = 13;

export const HEADER_BYTES = 128;
export const SLOT_BYTES = 48;

// byte offsets inside a slot
export const S_SEQ = 0;
export const S_PTS = 8;
export const S_DTS = 16;
export const S_OFFSET = 24;
export const S_LENGTH = 28;
export const S_FLAGS = 32;
export const S_CODEC_STREAM = 36;
export const S_ABS_START = 40;

export const FLAG_KEYFRAME = 1;

export interface RingGeometry {
  dataBytes: number;
  slots: number;
  keys: number;
}

export interface RingOffsets {
  slotTable: number;
  keyIndex: number;
  data: number;
  total: number;
}

/** Byte offsets of each region for a geometry (data starts 64-byte aligned). */
export function offsetsOf(g: RingGeometry): RingOffsets {
  const slotTable = HEADER_BYTES;
  const keyIndex = slotTable + g.slots * SLOT_BYTES;
  const data = align(keyIndex + g.keys * 8, 64);
  return { slotTable, keyIndex, data, total: data + g.dataBytes };
}

function align(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}
