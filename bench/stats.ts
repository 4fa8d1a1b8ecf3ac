/** stats — small numeric helpers shared by benchmarks. */

export { percentile } from '../shared/percentile.js';

export function round(n: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

/**
 * memcpy bandwidth (bytes/s) of `chunk`-byte copies cycling through a `span`-byte buffer,
 * plain or shared (V8 copies into SharedArrayBuffers with relaxed atomics, slower).
 */
export function memcpyBandwidth(chunk: number, span: number, ms: number, shared = false): number {
  const src = new Uint8Array(chunk).fill(7);
  const dst = new Uint8Array(shared ? new SharedArrayBuffer(span) : new ArrayBuffer(span));
  const slots = Math.floor(span / chunk);
  let bytes = 0;
  let i = 0;
  const t0 = performance.now();
  let now = t0;
  while (now - t0 < ms) {
    for (let k = 0; k < 64; k++) {
      dst.set(src, (i++ % slots) * chunk);
    }
    bytes += 64 * chunk;
    now = performance.now();
  }
  return bytes / ((now - t0) / 1000);
}
