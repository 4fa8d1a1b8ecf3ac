/**
 * admission — the device-wide limits that refuse new viewers with a clear reason
 * before the gateway saturates: at most `maxApps` connected apps (checked at signaling,
 * before any peer actor exists) and at most `maxStreams` open streams over all apps
 * (checked when an app opens one). The stream count lives in a shared Int32 so every
 * PeerActor of the device, on the p2p worker, takes from one budget.
 *
 * Owns: the budget's SharedArrayBuffer layout ([0] = streams open). Must never: let the
 * count go negative or above the limit (compare-and-swap, never read-then-write).
 */
export interface AdmissionLimits {
  maxApps: number;
  maxStreams: number;
}

/** The DESIGN's viewer target on the 2-core reference box; raise it on bigger machines. */
export const DEFAULT_ADMISSION: AdmissionLimits = { maxApps: 256, maxStreams: 512 };

export function admissionProblem(l: AdmissionLimits): { field: string; message: string } | undefined {
  for (const k of ['maxApps', 'maxStreams'] as const) {
    if (!Number.isInteger(l[k]) || l[k] < 1 || l[k] > 100_000) {
      return { field: `admission.${k}`, message: `expected 1..100000, got ${String(l[k])}` };
    }
  }
  return undefined;
}

export class StreamBudget {
  private readonly count: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer, readonly limit: number) {
    this.count = new Int32Array(buffer, 0, 1);
  }

  static create(limit: number): StreamBudget {
    return new StreamBudget(new SharedArrayBuffer(4), limit);
  }

  get used(): number {
    return Atomics.load(this.count, 0);
  }

  /** Take one stream from the budget; false when it is spent. */
  tryTake(): boolean {
    for (;;) {
      const n = Atomics.load(this.count, 0);
      if (n >= this.limit) {
        return false;
      }
      if (Atomics.compareExchange(this.count, 0, n, n + 1) === n) {
        return true;
      }
    }
  }

  give(): void {
    for (;;) {
      const n = Atomics.load(this.count, 0);
      if (n <= 0 || Atomics.compareExchange(this.count, 0, n, n - 1) === n) {
        return;
      }
    }
  }
}
