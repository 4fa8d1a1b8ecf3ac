/**
 * histogram — a mergeable latency histogram for the load tester: 1 ms buckets below
 * 100 ms, 10 ms below 1 s, 100 ms below 10 s, one bucket above. Workers send sparse
 * [bucket, count] pairs; the coordinator merges them and reads percentiles.
 * Owns: bucket arithmetic. Must never: keep individual samples.
 */
import type { HistogramPairs } from './load-types.js';

const LAST = 280;

export function bucketOf(ms: number): number {
  const v = Math.max(0, ms);
  if (v < 100) {
    return Math.floor(v);
  }
  if (v < 1_000) {
    return 100 + Math.floor((v - 100) / 10);
  }
  if (v < 10_000) {
    return 190 + Math.floor((v - 1_000) / 100);
  }
  return LAST;
}

/** The upper edge of a bucket, ms (Infinity for the last). */
export function bucketUpperMs(b: number): number {
  if (b < 100) {
    return b + 1;
  }
  if (b < 190) {
    return 100 + (b - 100 + 1) * 10;
  }
  if (b < LAST) {
    return 1_000 + (b - 190 + 1) * 100;
  }
  return Infinity;
}

/** The lower edge of a bucket, ms. */
export function bucketLowerMs(b: number): number {
  return b === 0 ? 0 : bucketUpperMs(b - 1);
}

export class Histogram {
  private readonly counts = new Map<number, number>();
  total = 0;
  max = 0;

  add(ms: number): void {
    const b = bucketOf(ms);
    this.counts.set(b, (this.counts.get(b) ?? 0) + 1);
    this.total++;
    this.max = Math.max(this.max, ms);
  }

  merge(pairs: HistogramPairs): void {
    for (const [b, n] of pairs) {
      this.counts.set(b, (this.counts.get(b) ?? 0) + n);
      this.total += n;
      this.max = Math.max(this.max, Math.min(bucketUpperMs(b), 10_000));
    }
  }

  /** The upper edge of the bucket holding the p-th percentile (0..100); 0 when empty. */
  percentile(p: number): number {
    if (this.total === 0) {
      return 0;
    }
    const rank = Math.max(1, Math.ceil((p / 100) * this.total));
    let seen = 0;
    for (const b of [...this.counts.keys()].sort((x, y) => x - y)) {
      seen += this.counts.get(b) ?? 0;
      if (seen >= rank) {
        return Math.min(bucketUpperMs(b), this.max);
      }
    }
    return this.max;
  }

  pairs(): HistogramPairs {
    return [...this.counts.entries()].sort((a, b) => a[0] - b[0]);
  }

  clear(): void {
    this.counts.clear();
    this.total = 0;
    this.max = 0;
  }
}
