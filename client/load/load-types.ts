/**
 * load-types — the shapes `ivgw load` passes between its coordinator and its load
 * workers (their checks live in load-ipc.ts, LOAD_METHODS), and the result types.
 * Must never: hold behaviour (types only).
 */
import type { LOAD_SCENARIOS } from './load-ipc.js';

export type Scenario = (typeof LOAD_SCENARIOS)[number];

export interface LoadAppSpec {
  index: number;
  peer: string;
  scenario: Scenario;
  channel: number;
  /** When this app starts, ms after `t0`. */
  startAtMs: number;
}

export interface LoadStart {
  broker: string;
  device: string;
  /** The device secret: workers mint each app's token (rights: all, for the run's length). */
  secret: string;
  /** ICE bind address of the simulated apps. */
  bind: string;
  /** How long each app runs after its start. */
  seconds: number;
  /** Stall scenario: seconds without acks per cycle (after 5 s of acking). */
  stallSeconds: number;
  /** Unix ms all workers count from. */
  t0: number;
  apps: LoadAppSpec[];
}

/** Latency histogram as sparse [bucket, count] pairs (client/load/histogram.ts). */
export type HistogramPairs = [number, number][];

export interface LoadSample {
  /** Whole seconds since t0. */
  t: number;
  bytes: number;
  videoFrames: number;
  connected: number;
  errors: number;
  latency: HistogramPairs;
}

export interface LoadAppEvent {
  index: number;
  type: 'connected' | 'first-frame' | 'error' | 'done';
  ms?: number;
  code?: string;
  message?: string;
}

export interface LoadAppResult {
  index: number;
  peer: string;
  scenario: Scenario;
  channel: number;
  /** Sessions started (churn apps have several). */
  sessions: number;
  /** Successful connects. */
  connects: number;
  /** Connects that needed another attempt (the peer connection failed before it was up). */
  connectRetries: number;
  connectMs: number[];
  /** ms from the first open to the first video frame, -1 when none arrived. */
  firstFrameMs: number;
  /** Seconds the app was receiving (from its first byte to its end). */
  seconds: number;
  bytes: number;
  videoFrames: number;
  audioFrames: number;
  /** Missing frames: timestamp jumps nobody announced. */
  gaps: number;
  /** Gaps after an announced watermark pause (expected for stalled apps). */
  pauseGaps: number;
  /** Announced pauses video came back from, on a keyframe, with a gap (pauseGaps) or without one. */
  resumes: number;
  /** Integrity violations (FLV parse, timestamps back, GOP without keyframe). */
  violations: number;
  violationSamples: string[];
  errors: number;
  errorSamples: { code: string; message: string }[];
  latency: HistogramPairs;
  commandRttMs: number[];
  voiceFrames: number;
  watermarkEvents: number;
  playbackRounds: number;
}
