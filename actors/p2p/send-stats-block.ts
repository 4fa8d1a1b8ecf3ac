/**
 * send-stats-block — per-stream send statistics a PeerActor publishes into shared
 * memory on every tick, so the main thread answers the SDK's synchronous
 * iv_avt_p2p_get_send_buf / get_send_status without a message round trip.
 *
 *   Float64Array, SLOTS × 8 words; slot s (stream number s, 1..SLOTS-1; slot 0 unused):
 *   ┌──────────┬─────────┬─────────────┬─────────────┬──────────────┬──────┬──────┬──────┐
 *   │ 0 gen    │1 backlog│2 instNetRate│3 aveSentRate│4 sumSentAcked│5 sent│6 open│7 rtt │
 *   └──────────┴─────────┴─────────────┴─────────────┴──────────────┴──────┴──────┴──────┘
 *   `gen` is incremented before and after each write (odd = write in progress); a reader
 *   retries until it sees the same even value around its read (a seqlock).
 * Owns: the layout. Must never: be written by more than one thread.
 */

export const STATS_SLOTS = 16;
export const STATS_WORDS = 8;
export const W_GEN = 0;
export const W_BACKLOG = 1;
export const W_INST_RATE = 2;
export const W_AVE_RATE = 3;
export const W_SUM_ACKED = 4;
export const W_SENT = 5;
export const W_OPEN = 6;
export const W_RTT = 7;

export interface SlotStats {
  backlog: number;
  instNetRate: number;
  aveSentRate: number;
  sumSentAcked: number;
  sent: number;
  rttMs: number;
}

export interface SlotReading extends SlotStats {
  open: boolean;
}

export function createStatsBlock(): SharedArrayBuffer {
  return new SharedArrayBuffer(STATS_SLOTS * STATS_WORDS * 8);
}

/** Writer side (the peer actor's thread). */
export function writeSlot(block: Float64Array, stream: number, s: SlotStats, open: boolean): void {
  if (stream <= 0 || stream >= STATS_SLOTS) {
    return;
  }
  const base = stream * STATS_WORDS;
  block[base + W_GEN] = (block[base + W_GEN] as number) + 1;
  block[base + W_BACKLOG] = s.backlog;
  block[base + W_INST_RATE] = s.instNetRate;
  block[base + W_AVE_RATE] = s.aveSentRate;
  block[base + W_SUM_ACKED] = s.sumSentAcked;
  block[base + W_SENT] = s.sent;
  block[base + W_OPEN] = open ? 1 : 0;
  block[base + W_RTT] = s.rttMs;
  block[base + W_GEN] = (block[base + W_GEN] as number) + 1;
}

/** Reader side (any thread): a consistent snapshot of one slot. */
export function readSlot(block: Float64Array, stream: number): SlotReading | undefined {
  if (stream <= 0 || stream >= STATS_SLOTS) {
    return undefined;
  }
  const base = stream * STATS_WORDS;
  for (let attempt = 0; attempt < 100; attempt++) {
    const g1 = block[base + W_GEN] as number;
    if (g1 % 2 === 1) {
      continue;
    }
    const s: SlotReading = {
      backlog: block[base + W_BACKLOG] as number,
      instNetRate: block[base + W_INST_RATE] as number,
      aveSentRate: block[base + W_AVE_RATE] as number,
      sumSentAcked: block[base + W_SUM_ACKED] as number,
      sent: block[base + W_SENT] as number,
      open: block[base + W_OPEN] === 1,
      rttMs: block[base + W_RTT] as number,
    };
    if ((block[base + W_GEN] as number) === g1) {
      return s;
    }
  }
  return undefined;
}
