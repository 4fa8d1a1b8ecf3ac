/**
 * watermark — the SDK's congestion rule for one stream (iv_avt_p2p_set_buf_watermark):
 * WARN once per upward crossing of `warn`; above `high` the stream stops pulling
 * data (HIGH, once); below `low` (or empty, for a `low` of 0) it resumes (LOW, once) — on a keyframe, which the
 * senders enforce (live: the camera's latest; playback: the next one). All three 0
 * disables it.
 * Owns: one stream's level. Must never: emit the same event twice in a row.
 */

export interface Watermarks {
  low: number;
  warn: number;
  high: number;
}

export type WatermarkEvent = 'low' | 'warn' | 'high';

/** Check the SDK's constraint low <= warn <= high (all zero disables). */
export function checkWatermarks(w: Watermarks): { field: string; message: string } | undefined {
  for (const key of ['low', 'warn', 'high'] as const) {
    if (!Number.isInteger(w[key]) || w[key] < 0) {
      return { field: key === 'low' ? 'low_mark' : key === 'warn' ? 'warn_mark' : 'high_mark', message: 'expected a non-negative integer of bytes' };
    }
  }
  if (w.low === 0 && w.warn === 0 && w.high === 0) {
    return undefined;
  }
  if (!(w.low <= w.warn && w.warn <= w.high) || w.high === 0) {
    return { field: 'warn_mark', message: `expected low <= warn <= high with high > 0, got ${w.low}/${w.warn}/${w.high}` };
  }
  return undefined;
}

/**
 * Paused above HIGH, data is pulled again once the backlog is below LOW (the SDK's rule),
 * or empty: with LOW 0 nothing is below it, and a paused stream would never resume.
 */
export function belowLow(backlog: number, marks: Watermarks): boolean {
  return backlog < marks.low || backlog === 0;
}

export class WatermarkState {
  private warned = false;
  private paused = false;

  constructor(private marks: Watermarks) {}

  get disabled(): boolean {
    return this.marks.high === 0;
  }

  /** True while above high (no new data is pulled). */
  get isPaused(): boolean {
    return this.paused;
  }

  set(marks: Watermarks): void {
    this.marks = marks;
  }

  /** Feed the current backlog (bytes); returns the events this crossing produced. */
  update(backlog: number): WatermarkEvent[] {
    if (this.disabled) {
      this.paused = false;
      return [];
    }
    const out: WatermarkEvent[] = [];
    if (backlog > this.marks.warn && !this.warned) {
      this.warned = true;
      out.push('warn');
    } else if (backlog <= this.marks.warn) {
      this.warned = false;
    }
    if (backlog > this.marks.high && !this.paused) {
      this.paused = true;
      out.push('high');
    } else if (this.paused && belowLow(backlog, this.marks)) {
      this.paused = false;
      out.push('low');
    }
    return out;
  }
}
