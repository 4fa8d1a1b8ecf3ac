/**
 * hls-segmenter — GOP-aligned fragmented-MP4 HLS segments for recording and
 * playback, written by our own box writer (fmp4-writer.ts).
 *
 * Video: H.264 (avc1) / H.265 (hvc1) from length-prefixed access units, 90 kHz.
 * Audio: AAC (ADTS headers stripped); G.711 A/µ-law decoded losslessly to 16-bit PCM
 * and PCM kept as is (ipcm, little endian), because MP4 and HLS cannot carry G.711;
 * timescale = sample rate.
 * Output: one init segment (ftyp+moov, emitted just before the first media segment
 * completes) and media segments, each starting at a video keyframe (audio-only: at an
 * audio frame) and at least `targetDurationS` long; a segment is complete as soon as
 * the frame that starts the next one arrives (or at `finish()`). A segment is one or
 * more movie fragments (moof+mdat): once `fragmentBytes` of samples are held, the next
 * frame sends them out as a fragment (`onFragment`), so what is held is a fragment, not
 * a GOP (a fragment never splits a frame; one larger frame makes one fragment). Without
 * `onFragment` the fragments are gathered and `onSegment` gets the segment's bytes.
 * Audio goes into the fragment (and the segment) its timestamp falls in. `hlsPlaylist()`
 * renders the HLS media playlist (version 7, EXT-X-MAP).
 *
 * Timestamps are the camera's own (µs from the recording's first frame, rounded to
 * the track's timescale), only nudged up a tick where rounding or a camera would make
 * two of one track's samples equal or go back; they are never snapped to a frame-rate
 * grid (two frames arriving in one burst would share a timestamp: a recording that
 * does not decode). Each sample lasts until the next one; the last of the recording
 * (or the last audio frame of a segment, when no later one is held) lasts its nominal
 * time (1/fps, 1024 samples, a PCM frame's own sample count).
 *
 * Owns: the samples of the fragment being built, copied once out of the caller's
 * frames (ring frames are overwritten later), plus the audio frames read ahead of the
 * cut. Must never: start a segment anywhere but on a keyframe, complete a segment
 * before the init segment went out, hold more than one fragment (and the frame that
 * ends it), or load mediabunny (its code alone costs the worker that records, io, ~13 MB).
 */
import { IvError } from '../runtime/errors.js';
import { ADTS_SAMPLE_RATES, audioSpecificConfig, isAdtsProblem, parseAdts } from './adts.js';
import { SAMPLES_PER_FRAME, type AudioFormat, type VideoCodecName } from './codecs.js';
import { buildAvcC, buildHvcC } from './decoder-config.js';
import { VIDEO_TIMESCALE, fmp4Init, fmp4Segment, type Fmp4Run, type Fmp4Track } from './fmp4-writer.js';
import { g711ToPcm } from './g711.js';
import { parseH264Sps } from './h264.js';
import { parseH265Sps } from './h265.js';
import { splitLengthPrefixed } from './nal.js';

export interface HlsSegment {
  index: number;
  /** Its bytes (moof + mdat, one pair per fragment): only without `onFragment`. */
  bytes?: Uint8Array;
  byteLength: number;
  fragments: number;
  /** Start, seconds from the recording's first frame. */
  start: number;
  /** Known once the next segment starts (or at finish). */
  duration: number;
}

/** Samples held before they go out as a fragment, by default. */
export const DEFAULT_FRAGMENT_BYTES = 64 * 1024;

export interface HlsSegmenterOptions {
  video?: { codec: VideoCodecName; fps: number };
  audio?: AudioFormat;
  targetDurationS: number;
  /** Samples held before the next frame sends them out as a fragment; default 64 KiB, Infinity: one fragment per segment. */
  fragmentBytes?: number;
  onInit(bytes: Uint8Array): void | Promise<void>;
  /** A fragment of segment `index`, in order; the segment is complete at its `onSegment`. */
  onFragment?(index: number, bytes: Uint8Array): void | Promise<void>;
  /** Called when a segment is complete (its duration known). */
  onSegment(segment: HlsSegment): void | Promise<void>;
}

export interface HlsVideoInput {
  data: Uint8Array;
  pts: number;
  keyframe: boolean;
  paramSets?: { vps?: Uint8Array; sps: Uint8Array; pps: Uint8Array } | undefined;
}

/** One track's samples of the segment being built, their bytes back to back in one buffer (kept for the next segment). */
class TrackSamples {
  bytes = new Uint8Array(0);
  length = 0;
  readonly ticks: number[] = [];
  readonly sizes: number[] = [];
  readonly sync: boolean[] = [];
  /** µs from the recording's origin (where audio falls against a video cut). */
  readonly us: number[] = [];
  /** Tick of the last sample ever added (survives segments), -1 before the first. */
  lastTick = -1;

  get count(): number {
    return this.sizes.length;
  }

  /** The tick for a sample at `us`: rounded, then strictly after the previous sample. */
  tickFor(us: number, timescale: number): number {
    const tick = Math.round((us * timescale) / 1e6);
    return tick > this.lastTick ? tick : this.lastTick + 1;
  }

  push(data: Uint8Array, tick: number, us: number, sync: boolean): void {
    const need = this.length + data.length;
    if (need > this.bytes.length) {
      const grown = new Uint8Array(Math.max(need, Math.floor(this.bytes.length * 1.5), 4096));
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
    }
    this.bytes.set(data, this.length);
    this.length = need;
    this.ticks.push(tick);
    this.sizes.push(data.length);
    this.sync.push(sync);
    this.us.push(us);
    this.lastTick = tick;
  }

  /** Bytes of the first `n` samples. */
  bytesOf(n: number): number {
    let total = 0;
    for (let i = 0; i < n; i++) {
      total += this.sizes[i] as number;
    }
    return total;
  }

  /** Forget the first `n` samples (written out); the rest move to the front. */
  drop(n: number): void {
    const bytes = this.bytesOf(n);
    this.bytes.copyWithin(0, bytes, this.length);
    this.length -= bytes;
    for (const a of [this.ticks, this.sizes, this.sync, this.us]) {
      a.splice(0, n);
    }
  }
}

export class HlsSegmenter {
  private readonly videoSamples = new TrackSamples();
  private readonly audioSamples = new TrackSamples();
  private videoTrack: Extract<Fmp4Track, { kind: 'video' }> | undefined;
  /** AudioSpecificConfig and channel count of the first ADTS frame (AAC). */
  private aac: { asc: Uint8Array; channels: number } | undefined;
  private originUs: number | undefined;
  private initSent = false;
  private count = 0;
  private fragmentCount = 0;
  /** The segment being built: its first tick (video, or audio when there is no video), fragments and bytes out so far, and the gathered bytes without onFragment. */
  private seg: { firstTick: number; fragments: number; bytes: number; parts: Uint8Array[] } | undefined;
  private readonly fragmentBytes: number;
  private chain: Promise<void> = Promise.resolve();
  private failure: Error | undefined;

  constructor(private readonly opts: HlsSegmenterOptions) {
    if (!opts.video && !opts.audio) {
      throw new IvError('IV_ERR_INVALID_PARAM', 'a recording needs video, audio or both', { field: 'video' });
    }
    const f = opts.fragmentBytes ?? DEFAULT_FRAGMENT_BYTES;
    if (!(f > 0)) {
      throw new IvError('IV_ERR_INVALID_PARAM', `fragmentBytes must be above 0, got ${f}`, { field: 'fragmentBytes' });
    }
    this.fragmentBytes = f;
  }

  /** Bytes of samples held (the fragment being built). */
  get heldBytes(): number {
    return this.videoSamples.length + this.audioSamples.length;
  }

  private enqueue(fn: () => void | Promise<void>): void {
    this.chain = this.chain.then(fn).catch((err: unknown) => {
      this.failure ??= err instanceof Error ? err : new Error(String(err));
    });
  }

  /** µs from the recording's first frame (clamped at 0). */
  private relUs(pts: number): number {
    this.originUs ??= pts;
    return Math.max(0, pts - this.originUs);
  }

  /** Add a video frame (length-prefixed). Frames before the first keyframe are ignored. */
  async video(frame: HlsVideoInput): Promise<void> {
    const v = this.opts.video;
    if (!v) {
      throw new IvError('IV_ERR_INVALID_PARAM', 'this recording has no video', { field: 'video' });
    }
    if (!this.videoTrack) {
      if (!(frame.keyframe && frame.paramSets)) {
        return;
      }
      const ps = frame.paramSets;
      const config = v.codec === 'h264' ? buildAvcC(ps.sps, ps.pps) : buildHvcC(ps.vps ?? new Uint8Array(0), ps.sps, ps.pps);
      const sps = splitLengthPrefixed(ps.sps)[0] ?? new Uint8Array(0);
      const size = v.codec === 'h264' ? parseH264Sps(sps) : parseH265Sps(sps);
      this.videoTrack = { kind: 'video', id: 1, codec: v.codec, timescale: VIDEO_TIMESCALE, width: size.width, height: size.height, config };
    }
    const t = this.videoSamples;
    const us = this.relUs(frame.pts);
    const tick = t.tickFor(us, VIDEO_TIMESCALE);
    if (t.count > 0 && this.seg) {
      if (frame.keyframe && tick - this.seg.firstTick >= this.opts.targetDurationS * VIDEO_TIMESCALE) {
        this.flush({ videoTick: tick, cutUs: us }, true);
      } else if (this.heldBytes >= this.fragmentBytes) {
        this.flush({ videoTick: tick, cutUs: us }, false);
      }
    }
    this.seg ??= { firstTick: tick, fragments: 0, bytes: 0, parts: [] };
    t.push(frame.data, tick, us, frame.keyframe);
    await this.settle();
  }

  /** Add an audio frame (ADTS for AAC, raw G.711/PCM). Ignored until video has started, if there is video. */
  async audio(frame: { data: Uint8Array; pts: number }): Promise<void> {
    const a = this.opts.audio;
    if (!a) {
      throw new IvError('IV_ERR_INVALID_PARAM', 'this recording has no audio', { field: 'audio' });
    }
    if (this.opts.video && !this.videoTrack) {
      return;
    }
    let payload: Uint8Array;
    if (a.codec === 'aac') {
      const h = parseAdts(frame.data);
      if (isAdtsProblem(h)) {
        throw new IvError('IV_ERR_AV_BAD_AUDIO_FRAME', `bad ADTS header: ${h.detail}`, { field: 'data' });
      }
      payload = frame.data.subarray(h.headerBytes, h.frameBytes);
      this.aac ??= { asc: audioSpecificConfig(h), channels: h.channelConfig };
    } else {
      payload = a.codec === 'pcm' ? frame.data : g711ToPcm(frame.data, a.codec);
    }
    const t = this.audioSamples;
    const us = this.relUs(frame.pts);
    const tick = t.tickFor(us, a.sampleRate);
    if (!this.opts.video) {
      if (t.count > 0 && this.seg) {
        if (tick - this.seg.firstTick >= this.opts.targetDurationS * a.sampleRate) {
          this.flush({ audioTick: tick }, true);
        } else if (this.heldBytes >= this.fragmentBytes) {
          this.flush({ audioTick: tick }, false);
        }
      }
      this.seg ??= { firstTick: tick, fragments: 0, bytes: 0, parts: [] };
    }
    t.push(payload, tick, us, true);
    await this.settle();
  }

  /** Flush the last segment. */
  async finish(): Promise<void> {
    if (this.opts.video ? this.videoSamples.count > 0 : this.audioSamples.count > 0) {
      this.flush({}, true);
    }
    await this.settle();
  }

  private async settle(): Promise<void> {
    await this.chain;
    if (this.failure !== undefined) {
      const err = this.failure;
      this.failure = undefined;
      throw err;
    }
  }

  /** Nominal length (ticks) of audio sample `i`: an AAC frame's 1024 samples, a PCM frame's own count. */
  private audioNominal(i: number): number {
    const a = this.opts.audio as AudioFormat;
    return a.codec === 'aac' ? SAMPLES_PER_FRAME : Math.max(1, Math.round((this.audioSamples.sizes[i] as number) / (2 * a.channels)));
  }

  /**
   * Send out the samples held as a fragment, and complete the segment when `endSegment`.
   * `videoTick`: the frame after them (a keyframe starting the next segment, or any
   * frame mid-segment; audio before `cutUs` goes with them); `audioTick`: the audio frame
   * after them (audio only); neither: the end of the recording.
   */
  private flush(next: { videoTick?: number; cutUs?: number; audioTick?: number }, endSegment: boolean): void {
    const v = this.videoSamples;
    const a = this.audioSamples;
    const seg = this.seg as NonNullable<HlsSegmenter['seg']>;
    const runs: Fmp4Run[] = [];
    let start: number;
    let end: number;
    if (this.videoTrack && this.opts.video) {
      const nominal = Math.max(1, Math.round(VIDEO_TIMESCALE / this.opts.video.fps));
      runs.push({ trackId: 1, baseTime: v.ticks[0] as number, durations: durationsOf(v.ticks, v.count, next.videoTick ?? v.lastTick + nominal), sizes: v.sizes, sync: v.sync, data: v.bytes.subarray(0, v.length) });
      start = seg.firstTick / VIDEO_TIMESCALE;
      end = next.videoTick !== undefined ? next.videoTick / VIDEO_TIMESCALE : v.lastTick / VIDEO_TIMESCALE + 1 / this.opts.video.fps;
    } else {
      const rate = (this.opts.audio as AudioFormat).sampleRate;
      start = seg.firstTick / rate;
      end = (next.audioTick ?? a.lastTick + this.audioNominal(a.count - 1)) / rate;
    }
    let audioN = 0;
    if (this.opts.audio) {
      const cut = next.cutUs;
      audioN = cut === undefined ? a.count : a.us.findIndex((us) => us >= cut);
      if (audioN < 0) {
        audioN = a.count;
      }
      if (audioN > 0) {
        const after = audioN < a.count ? (a.ticks[audioN] as number) : (next.audioTick ?? (a.ticks[audioN - 1] as number) + this.audioNominal(audioN - 1));
        runs.push({ trackId: this.videoTrack ? 2 : 1, baseTime: a.ticks[0] as number, durations: durationsOf(a.ticks, audioN, after), sizes: a.sizes.slice(0, audioN), data: a.bytes.subarray(0, a.bytesOf(audioN)) });
      }
    }
    const index = this.count;
    const fragment = fmp4Segment(++this.fragmentCount, runs);
    seg.fragments++;
    seg.bytes += fragment.byteLength;
    const onFragment = this.opts.onFragment;
    if (onFragment) {
      this.enqueue(() => onFragment.call(this.opts, index, fragment));
    } else {
      seg.parts.push(fragment);
    }
    v.drop(v.count);
    a.drop(audioN);
    if (!endSegment) {
      return;
    }
    if (!this.initSent) {
      this.initSent = true;
      const init = fmp4Init(this.tracks());
      this.enqueue(() => this.opts.onInit(init));
    }
    const done: HlsSegment = {
      index,
      ...(onFragment ? {} : { bytes: concat(seg.parts, seg.bytes) }),
      byteLength: seg.bytes,
      fragments: seg.fragments,
      start,
      duration: Math.max(0, end - start),
    };
    this.count++;
    this.seg = undefined;
    this.enqueue(() => this.opts.onSegment(done));
  }

  private tracks(): Fmp4Track[] {
    const tracks: Fmp4Track[] = this.videoTrack ? [this.videoTrack] : [];
    const a = this.opts.audio;
    if (a) {
      const id = tracks.length + 1;
      if (a.codec === 'aac') {
        const cfg = this.aac ?? { asc: ascOf(a), channels: a.channels };
        tracks.push({ kind: 'audio', id, codec: 'aac', timescale: a.sampleRate, sampleRate: a.sampleRate, channels: cfg.channels, config: cfg.asc });
      } else {
        tracks.push({ kind: 'audio', id, codec: 'pcm-s16le', timescale: a.sampleRate, sampleRate: a.sampleRate, channels: a.channels });
      }
    }
    return tracks;
  }
}

function concat(parts: readonly Uint8Array[], bytes: number): Uint8Array {
  if (parts.length === 1) {
    return parts[0] as Uint8Array;
  }
  const out = new Uint8Array(bytes);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** Sample durations of the first `n` samples: each lasts until the next; the last until `after`. */
function durationsOf(ticks: readonly number[], n: number, after: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const next = i + 1 < n ? (ticks[i + 1] as number) : after;
    out.push(Math.max(1, next - (ticks[i] as number)));
  }
  return out;
}

/** AAC-LC AudioSpecificConfig from the configured format (an AAC recording whose first segment had no audio). */
function ascOf(a: AudioFormat): Uint8Array {
  const index = (ADTS_SAMPLE_RATES as readonly number[]).indexOf(a.sampleRate);
  if (index >= 0) {
    return audioSpecificConfig({ objectType: 2, sampleRateIndex: index, channelConfig: a.channels });
  }
  // samplingFrequencyIndex 15: the 24-bit rate follows
  const r = a.sampleRate;
  return new Uint8Array([(2 << 3) | 0x07, 0x80 | ((r >> 17) & 0x7f), (r >> 9) & 0xff, (r >> 1) & 0xff, ((r & 1) << 7) | (a.channels << 3)]);
}

/** An HLS media playlist (version 7, fMP4 with EXT-X-MAP). */
export function hlsPlaylist(opts: { init: string; segments: { uri: string; duration: number }[]; ended: boolean; mediaSequence?: number }): string {
  const target = Math.max(1, ...opts.segments.map((s) => Math.ceil(s.duration)));
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', `#EXT-X-TARGETDURATION:${target}`, `#EXT-X-MEDIA-SEQUENCE:${opts.mediaSequence ?? 0}`, '#EXT-X-INDEPENDENT-SEGMENTS', `#EXT-X-MAP:URI="${opts.init}"`];
  for (const s of opts.segments) {
    lines.push(`#EXTINF:${s.duration.toFixed(3)},`, s.uri);
  }
  if (opts.ended) {
    lines.push('#EXT-X-ENDLIST');
  }
  return `${lines.join('\n')}\n`;
}
