/**
 * pattern — deterministic frame payloads whose bytes prove which frame they belong to.
 *
 * Owns: a fixed pseudo-random table; frame `seq` of `size` bytes is the table slice
 * starting at (seq × 7919) mod 65521, so a frame torn by a later write (another
 * frame's slice at another offset) fails `matchesPattern` except by negligible chance.
 * Must never: allocate per frame (payloads are views into the table).
 */
const PERIOD = 65_521; // prime
const MAX_FRAME = 4 * 1024 * 1024;
let table: Uint8Array | undefined;

function getTable(): Uint8Array {
  if (table === undefined) {
    table = new Uint8Array(PERIOD + MAX_FRAME);
    let x = 0x9e3779b9 >>> 0;
    for (let i = 0; i < table.length; i++) {
      // xorshift32
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      table[i] = x & 0xff;
    }
  }
  return table;
}

/** The payload of frame `seq` with `size` bytes (a view; do not modify). */
export function patternFor(seq: number, size: number): Uint8Array {
  if (size > MAX_FRAME) {
    throw new RangeError(`pattern frames are at most ${MAX_FRAME} bytes`);
  }
  const start = (seq * 7919) % PERIOD;
  return getTable().subarray(start, start + size);
}

export function matchesPattern(seq: number, data: Uint8Array): boolean {
  return Buffer.compare(patternFor(seq, data.byteLength), data) === 0;
}

/** Presentation time the ring probe gives frame `seq` (25 fps, microseconds). */
export function ptsFor(seq: number): number {
  return seq * 40_000;
}
