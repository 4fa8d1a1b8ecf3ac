/**
 * offer-limiter — how fast offers may come: per peer id and device-wide token buckets, so
 * a flood of offers (each would build a peer connection) is refused at signaling with
 * `IV_ERR_BUSY` and a reason, before any peer actor exists. Honest apps send one offer per
 * connection (plus at most 3 quick retries), well inside the per-peer burst.
 * Owns: the buckets (bounded: the least recently seen peers are forgotten first).
 * Must never: let one peer's flood use up another peer's allowance beyond the device-wide bucket.
 */

export interface OfferLimits {
  /** Offers a peer may send at once, and per second after that. */
  peerBurst: number;
  peerPerS: number;
  /** The same for the whole device. */
  deviceBurst: number;
  devicePerS: number;
}

export const DEFAULT_OFFER_LIMITS: OfferLimits = { peerBurst: 6, peerPerS: 0.5, deviceBurst: 100, devicePerS: 50 };

const MAX_PEERS = 10_000;

class Bucket {
  private tokens: number;
  private at: number;
  constructor(private readonly burst: number, private readonly perS: number, now: number) {
    this.tokens = burst;
    this.at = now;
  }
  take(now: number): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 1000) * this.perS);
    this.at = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }
}

export class OfferLimiter {
  private readonly peers = new Map<string, Bucket>();
  private readonly device: Bucket;
  refused = 0;

  constructor(private readonly limits: OfferLimits = DEFAULT_OFFER_LIMITS, private readonly now: () => number = Date.now) {
    this.device = new Bucket(limits.deviceBurst, limits.devicePerS, now());
  }

  /** undefined when the offer may go on, else the reason it is refused. */
  check(peer: string): string | undefined {
    const now = this.now();
    let b = this.peers.get(peer);
    if (b) {
      this.peers.delete(peer); // re-insert: most recently seen last
    } else {
      b = new Bucket(this.limits.peerBurst, this.limits.peerPerS, now);
      if (this.peers.size >= MAX_PEERS) {
        this.peers.delete(this.peers.keys().next().value as string);
      }
    }
    this.peers.set(peer, b);
    if (!b.take(now)) {
      this.refused++;
      return `rate limit: peer ${peer} sends offers faster than ${this.limits.peerBurst} at once and ${this.limits.peerPerS} per second; try again later`;
    }
    if (!this.device.take(now)) {
      this.refused++;
      return `rate limit: the device takes at most ${this.limits.devicePerS} offers per second; try again later`;
    }
    return undefined;
  }
}
