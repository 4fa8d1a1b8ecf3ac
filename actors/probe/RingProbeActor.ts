/**
 * RingProbeActor — drives a FrameRing from a worker: produce pattern frames, or
 * consume and check them (order, integrity, metadata, keyframe resync after laps).
 *
 * Owns: nothing between requests; each request attaches to the ring it is given.
 * Must never: hold the thread for more than ~20 ms at a time (heartbeats must flow),
 * or report a frame as good without checking it when `verify` is set.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { defineActor } from '../../runtime/actor.js';
import { RING_PROBE_METHODS, type ConsumeResult } from './probe-methods.js';
import { FrameRing, type Frame, type StartAt } from '../../runtime/frame-ring.js';
import { matchesPattern, patternFor, ptsFor } from './pattern.js';

interface ProduceBody {
  ring: SharedArrayBuffer;
  frames: { size: number; key: boolean; stream: number }[];
  repeat: number;
  fill: 'pattern' | 'none';
  nativeCopy?: boolean;
  intervalMs: number;
  durationMs?: number;
  stopFlag?: SharedArrayBuffer;
}

interface ConsumeBody {
  ring: SharedArrayBuffer;
  start: StartAt;
  mode: 'copy' | 'view';
  verify: boolean;
  untilSeq: number;
  timeoutMs: number;
  recordSeqs: boolean;
  stopFlag?: SharedArrayBuffer;
  pollMs?: number;
}


const SLICE_MS = 20;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function produce(body: ProduceBody): Promise<{ frames: number; bytes: number; ms: number }> {
  const ring = FrameRing.attach(body.ring);
  const writer = ring.writer({ takeover: true, nativeCopy: body.nativeCopy !== false });
  const zero = new Uint8Array(Math.max(1, ...body.frames.map((f) => f.size)));
  const t0 = performance.now();
  let frames = 0;
  let bytes = 0;
  let sliceStart = t0;
  const deadline = body.durationMs === undefined ? Infinity : t0 + body.durationMs;
  const stop = body.stopFlag ? new Int32Array(body.stopFlag) : undefined;
  try {
    outer: for (let r = 0; body.durationMs !== undefined || r < body.repeat; r++) {
      for (const spec of body.frames) {
        const seq = writer.nextSeq;
        const data = body.fill === 'pattern' ? patternFor(seq, spec.size) : zero.subarray(0, spec.size);
        writer.write({ data, pts: ptsFor(seq), keyframe: spec.key, codec: 7, stream: spec.stream });
        frames++;
        bytes += spec.size;
        if (body.intervalMs > 0) {
          await sleep(body.intervalMs);
        }
        const now = performance.now();
        if (now >= deadline || (stop !== undefined && Atomics.load(stop, 0) !== 0)) {
          break outer;
        }
        if (now - sliceStart > SLICE_MS) {
          await yieldToLoop();
          sliceStart = performance.now();
        }
      }
    }
  } finally {
    writer.close();
  }
  return { frames, bytes, ms: performance.now() - t0 };
}

function check(frame: Frame, prevSeq: number, verify: boolean, errors: string[]): void {
  if (frame.seq <= prevSeq) {
    errors.push(`seq ${frame.seq} after ${prevSeq}: out of order`);
  }
  if (!frame.discontinuity && prevSeq >= 0 && frame.seq !== prevSeq + 1) {
    errors.push(`seq ${frame.seq} after ${prevSeq} without a discontinuity`);
  }
  if (frame.discontinuity && !frame.keyframe) {
    errors.push(`frame ${frame.seq} after a lap is not a keyframe`);
  }
  if (verify) {
    if (frame.pts !== ptsFor(frame.seq) || frame.dts !== frame.pts || frame.codec !== 7) {
      errors.push(`frame ${frame.seq}: metadata pts=${frame.pts} dts=${frame.dts} codec=${frame.codec} is not the producer's`);
    } else if (!matchesPattern(frame.seq, frame.data)) {
      errors.push(`frame ${frame.seq}: payload of ${frame.data.byteLength} bytes is torn`);
    }
  }
}

async function consume(body: ConsumeBody): Promise<ConsumeResult> {
  const ring = FrameRing.attach(body.ring);
  const reader = ring.reader(body.start);
  const stop = body.stopFlag ? new Int32Array(body.stopFlag) : undefined;
  const t0 = performance.now();
  const deadline = body.timeoutMs > 0 ? t0 + body.timeoutMs : Infinity;
  const out: ConsumeResult = { frames: 0, bytes: 0, laps: 0, lostFrames: 0, errors: [], seqs: [], resyncs: [], firstSeq: -1, lastSeq: -1, ms: 0, activeMs: 0, timedOut: false };
  let firstAt = 0;
  let lastAt = 0;
  let prev = -1;
  let sliceStart = t0;
  for (;;) {
    const frame = body.mode === 'copy' ? reader.read() : reader.peek();
    if (frame === null) {
      const now = performance.now();
      if ((body.untilSeq >= 0 && prev >= body.untilSeq) || (ring.closed && reader.backlog === 0) || (stop && Atomics.load(stop, 0) !== 0)) {
        break;
      }
      if (now >= deadline) {
        out.timedOut = true;
        break;
      }
      if (body.pollMs !== undefined) {
        await sleep(body.pollMs);
      } else {
        await reader.wait(Math.min(50, deadline - now));
      }
      sliceStart = performance.now();
      continue;
    }
    const errors: string[] = [];
    check(frame, prev, body.verify, errors);
    if (body.mode === 'view' && !reader.release()) {
      continue; // overwritten while we looked at it: the reader counted the lap
    }
    out.errors.push(...errors.slice(0, 10 - out.errors.length));
    if (frame.discontinuity) {
      out.resyncs.push({ seq: frame.seq, keyframe: frame.keyframe });
    }
    if (out.firstSeq < 0) {
      out.firstSeq = frame.seq;
      firstAt = performance.now();
    }
    lastAt = performance.now();
    prev = frame.seq;
    if (body.recordSeqs) {
      out.seqs.push(frame.seq);
    }
    if (body.untilSeq >= 0 && frame.seq >= body.untilSeq) {
      break;
    }
    if (performance.now() - sliceStart > SLICE_MS) {
      await yieldToLoop();
      sliceStart = performance.now();
    }
  }
  out.frames = reader.stats.frames;
  out.bytes = reader.stats.bytes;
  out.laps = reader.stats.laps;
  out.lostFrames = reader.stats.lostFrames;
  out.lastSeq = prev;
  out.ms = performance.now() - t0;
  out.activeMs = lastAt - firstAt;
  return out;
}

export default defineActor({
  name: 'ring-probe',
  methods: RING_PROBE_METHODS,
  init: () => ({}),
  handlers: {
    RINGPROBE_PRODUCE: (_s, body) => produce(body),
    RINGPROBE_CONSUME: (_s, body) => consume(body),
  },
});
