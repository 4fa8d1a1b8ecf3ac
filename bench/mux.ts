/**
 * mux — FLV and HLS-segment muxing throughput from ring-format frames (length-prefixed
 * access units from the sample media, with their audio), as a ratio to memcpy of the
 * same frames into a preallocated buffer, measured in the same run. The headline
 * numbers use a 2 Mbit/s stream (the sample's frames scaled up: the gateway's design
 * point); `sampleStream` repeats them for the 180 kbit/s sample itself, whose ~900-byte
 * frames make per-tag costs dominate.
 * `flvRatioToMemcpy` target >= 0.5; `segmentRatioToMemcpy` is reported.
 */
import { readFileSync } from 'node:fs';
import { SAMPLE } from '../actors/capture/index.js';
import { AccessUnitSplitter, AdtsSplitter } from '../media/es-splitter.js';
import { FlvMuxer } from '../media/flv-muxer.js';
import { HlsSegmenter } from '../media/hls-segmenter.js';
import { VideoValidator, type AcceptedVideoFrame } from '../media/video-validator.js';
import type { BenchOptions } from './run.js';
import { round } from './stats.js';

interface Input {
  video: AcceptedVideoFrame[];
  audio: Uint8Array[];
  bytes: number;
}

/** The same frames with each video frame's payload scaled so the stream runs at ~2 Mbit/s. */
function scaled(input: Input, kbps: number): Input {
  const current = (input.video.reduce((n, f) => n + f.data.length, 0) * 8) / (input.video.length / 25) / 1000;
  const factor = Math.max(1, kbps / current);
  const video = input.video.map((f) => {
    const size = Math.round(f.data.length * factor);
    const data = new Uint8Array(size);
    new DataView(data.buffer).setUint32(0, size - 4); // one NAL unit filling the frame
    data.set(f.data.subarray(4, Math.min(f.data.length, size)), 4);
    return { ...f, data };
  });
  return { video, audio: input.audio, bytes: video.reduce((n, f) => n + f.data.length, 0) + input.audio.reduce((n, f) => n + f.length, 0) };
}

function load(): Input {
  const s = new AccessUnitSplitter('h264');
  const v = new VideoValidator({ codec: 'h264' });
  const video: AcceptedVideoFrame[] = [];
  for (const au of [...s.push(readFileSync(SAMPLE.h264)).frames, ...s.end().frames]) {
    const r = v.check(au);
    if (r.ok) {
      video.push(r.frame);
    }
  }
  const a = new AdtsSplitter();
  const audio = [...a.push(readFileSync(SAMPLE.aac)).frames, ...a.end().frames];
  const bytes = video.reduce((n, f) => n + f.data.length, 0) + audio.reduce((n, f) => n + f.length, 0);
  return { video, audio, bytes };
}

function timeLoop(ms: number, once: (round: number) => void): number {
  let rounds = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    once(rounds++);
  }
  return rounds / ((performance.now() - t0) / 1000);
}

async function measure(input: Input, ms: number, segRounds: number, transientOutput: boolean): Promise<Record<string, number>> {
  const sink = new Uint8Array(input.bytes + 1024);
  const memcpyRoundsPerSec = timeLoop(ms, () => {
    let pos = 0;
    for (const f of input.video) {
      sink.set(f.data, pos);
      pos += f.data.length;
    }
    for (const f of input.audio) {
      sink.set(f, pos);
      pos += f.length;
    }
  });
  const loopUs = input.video.length * 40_000;
  const flvRoundsPerSec = timeLoop(ms, (round) => {
    const mux = new FlvMuxer({ video: { codec: 'h264', width: 640, height: 360, fps: 25 }, audio: { codec: 'aac', sampleRate: 16000, channels: 1 }, transientOutput });
    mux.header();
    let ai = 0;
    for (const [i, f] of input.video.entries()) {
      const pts = round * loopUs + i * 40_000;
      while (ai < input.audio.length && ai * 64_000 <= i * 40_000) {
        mux.audio({ data: input.audio[ai] as Uint8Array, pts: round * loopUs + ai * 64_000 });
        ai++;
      }
      mux.video({ data: f.data, pts, dts: pts, keyframe: f.keyframe, paramSets: f.paramSets });
    }
  });
  const segStart = performance.now();
  const seg = new HlsSegmenter({ video: { codec: 'h264', fps: 25 }, audio: { codec: 'aac', sampleRate: 16000, channels: 1 }, targetDurationS: 2, onInit: () => undefined, onSegment: () => undefined });
  for (let round = 0; round < segRounds; round++) {
    let ai = 0;
    for (const [i, f] of input.video.entries()) {
      const pts = round * loopUs + i * 40_000;
      while (ai < input.audio.length && ai * 64_000 <= i * 40_000) {
        await seg.audio({ data: input.audio[ai] as Uint8Array, pts: round * loopUs + ai * 64_000 });
        ai++;
      }
      await seg.video({ data: f.data, pts, keyframe: f.keyframe, paramSets: f.paramSets });
    }
  }
  await seg.finish();
  const segRoundsPerSec = segRounds / ((performance.now() - segStart) / 1000);
  const memcpyBps = memcpyRoundsPerSec * input.bytes;
  const frames = input.video.length + input.audio.length;
  return {
    kbps: Math.round((input.bytes * 8) / (input.video.length / 25) / 1000),
    avgVideoFrameBytes: Math.round(input.video.reduce((n, f) => n + f.data.length, 0) / input.video.length),
    memcpyMBps: round(memcpyBps / 1e6, 1),
    flvMBps: round((flvRoundsPerSec * input.bytes) / 1e6, 1),
    flvRatioToMemcpy: round((flvRoundsPerSec * input.bytes) / memcpyBps),
    flvFramesPerSec: Math.round(flvRoundsPerSec * frames),
    segmentMBps: round((segRoundsPerSec * input.bytes) / 1e6, 1),
    segmentRatioToMemcpy: round((segRoundsPerSec * input.bytes) / memcpyBps),
    segmentFramesPerSec: Math.round(segRoundsPerSec * frames),
  };
}

export async function run(opts: BenchOptions): Promise<Record<string, unknown>> {
  const sample = load();
  const ms = opts.quick ? 1_000 : 4_000;
  const big = scaled(sample, 2_000);
  const at2M = await measure(big, ms, opts.quick ? 4 : 12, true);
  const retained = await measure(big, ms, 1, false);
  const atSample = await measure(sample, ms, opts.quick ? 4 : 12, true);
  return {
    profile: '2 Mbit/s H.264 + AAC (sample frames scaled), 25 fps; FLV output consumed at once (transientOutput, the live send path)',
    ...at2M,
    flvRetainedOutputRatioToMemcpy: retained.flvRatioToMemcpy,
    sampleStream: atSample,
    target: { flvRatioToMemcpy: 0.5 },
  };
}
