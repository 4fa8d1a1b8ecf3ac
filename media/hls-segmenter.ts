/**
 * hls-segmenter — GOP-aligned fragmented-MP4 HLS segments for recording and
 * playback, through mediabunny's MP4 muxer.
 *
 * Video: H.264 (avc1) / H.265 (hvc1) from length-prefixed access units. Audio: AAC
 * (ADTS headers stripped); G.711 A/µ-law decoded losslessly to 16-bit PCM and PCM
 * kept as is ('pcm-s16'), because MP4 and HLS cannot carry G.711.
 * Output: one init segment (ftyp+moov) and media segments (moof+mdat), each starting
 * at a video keyframe and at least `targetDurationS` long; `playlist()` renders the
 * HLS media playlist (version 7, EXT-X-MAP).
 *
 * Owns: one mediabunny Output per recording. Must never: start a segment anywhere but
 * on a keyframe, or emit a segment before the init segment.
 */
import { EncodedAudioPacketSource, EncodedPacket, EncodedVideoPacketSource, Mp4OutputFormat, NullTarget, Output } from 'mediabunny';
import { IvError } from '../runtime/errors.js';
import { audioSpecificConfig, isAdtsProblem, parseAdts } from './adts.js';
import { SAMPLES_PER_FRAME, type AudioFormat, type VideoCodecName } from './codecs.js';
import { avcCodecString, buildAvcC, buildHvcC, hevcCodecString } from './decoder-config.js';
import { g711ToPcm } from './g711.js';
import { parseH264Sps } from './h264.js';
import { parseH265Sps } from './h265.js';
import { splitLengthPrefixed } from './nal.js';

export interface HlsSegment {
  index: number;
  /** moof + mdat bytes. */
  bytes: Uint8Array;
  /** Start, seconds from the recording's first frame. */
  start: number;
  /** Known once the next segment starts (or at finish). */
  duration: number;
}

export interface HlsSegmenterOptions {
  video?: { codec: VideoCodecName; fps: number };
  audio?: AudioFormat;
  targetDurationS: number;
  onInit(bytes: Uint8Array): void | Promise<void>;
  /** Called when a segment is complete (its duration known). */
  onSegment(segment: HlsSegment): void | Promise<void>;
}

export interface HlsVideoInput {
  data: Uint8Array;
  pts: number;
  keyframe: boolean;
  paramSets?: { vps?: Uint8Array; sps: Uint8Array; pps: Uint8Array } | undefined;
}

export class HlsSegmenter {
  private readonly output: Output;
  private readonly videoSource: EncodedVideoPacketSource | undefined;
  private readonly audioSource: EncodedAudioPacketSource | undefined;
  private originUs: number | undefined;
  private started = false;
  private videoConfigured = false;
  private audioConfigured = false;
  private lastVideoUs = -1;
  private pendingInit: Uint8Array[] = [];
  private pendingMoof: { bytes: Uint8Array; start: number } | undefined;
  private current: HlsSegment | undefined;
  private count = 0;
  private chain: Promise<void> = Promise.resolve();
  private failure: Error | undefined;

  constructor(private readonly opts: HlsSegmenterOptions) {
    if (!opts.video && !opts.audio) {
      throw new IvError('IV_ERR_INVALID_PARAM', 'a recording needs video, audio or both', { field: 'video' });
    }
    this.output = new Output({
      target: new NullTarget(),
      format: new Mp4OutputFormat({
        fastStart: 'fragmented',
        minimumFragmentDuration: opts.targetDurationS,
        onFtyp: (data) => {
          this.pendingInit.push(data.slice());
        },
        onMoov: (data) => {
          this.pendingInit.push(data.slice());
          const init = concat(this.pendingInit);
          this.pendingInit = [];
          this.enqueue(() => opts.onInit(init));
        },
        onMoof: (data, _pos, timestamp) => {
          this.pendingMoof = { bytes: data.slice(), start: timestamp };
        },
        onMdat: (data) => {
          const moof = this.pendingMoof;
          this.pendingMoof = undefined;
          if (moof === undefined) {
            return;
          }
          const seg: HlsSegment = { index: this.count++, bytes: concat([moof.bytes, data]), start: moof.start, duration: 0 };
          const prev = this.current;
          this.current = seg;
          if (prev) {
            prev.duration = seg.start - prev.start;
            this.enqueue(() => opts.onSegment(prev));
          }
        },
      }),
    });
    if (opts.video) {
      this.videoSource = new EncodedVideoPacketSource(opts.video.codec === 'h264' ? 'avc' : 'hevc');
      // no frameRate: mediabunny would snap timestamps to that grid, and two frames arriving in one
      // burst would share a timestamp (a recording that does not decode); the camera's own times are kept
      this.output.addVideoTrack(this.videoSource);
    }
    if (opts.audio) {
      this.audioSource = new EncodedAudioPacketSource(opts.audio.codec === 'aac' ? 'aac' : 'pcm-s16');
      this.output.addAudioTrack(this.audioSource);
    }
  }

  private enqueue(fn: () => void | Promise<void>): void {
    this.chain = this.chain.then(fn).catch((err: unknown) => {
      this.failure ??= err instanceof Error ? err : new Error(String(err));
    });
  }

  private seconds(us: number): number {
    this.originUs ??= us;
    return Math.max(0, (us - this.originUs) / 1e6);
  }

  private async ensureStarted(): Promise<void> {
    if (!this.started) {
      this.started = true;
      await this.output.start();
    }
  }

  /** Add a video frame (length-prefixed). Frames before the first keyframe are ignored. */
  async video(frame: HlsVideoInput): Promise<void> {
    const v = this.opts.video;
    if (!v || !this.videoSource) {
      throw new IvError('IV_ERR_INVALID_PARAM', 'this recording has no video', { field: 'video' });
    }
    if (!this.videoConfigured && !(frame.keyframe && frame.paramSets)) {
      return;
    }
    await this.ensureStarted();
    const duration = 1 / v.fps;
    const ts = this.seconds(frame.pts);
    this.lastVideoUs = frame.pts;
    const packet = new EncodedPacket(frame.data, frame.keyframe ? 'key' : 'delta', ts, duration);
    if (!this.videoConfigured && frame.paramSets) {
      const ps = frame.paramSets;
      const description = v.codec === 'h264' ? buildAvcC(ps.sps, ps.pps) : buildHvcC(ps.vps ?? new Uint8Array(0), ps.sps, ps.pps);
      const sps = splitLengthPrefixed(ps.sps)[0] ?? new Uint8Array(0);
      const size = v.codec === 'h264' ? parseH264Sps(sps) : parseH265Sps(sps);
      this.videoConfigured = true;
      await this.videoSource.add(packet, {
        decoderConfig: { codec: v.codec === 'h264' ? avcCodecString(description) : hevcCodecString(description), description, codedWidth: size.width, codedHeight: size.height },
      });
    } else {
      await this.videoSource.add(packet);
    }
    await this.chain;
    this.throwIfFailed();
  }

  /** Add an audio frame (ADTS for AAC, raw G.711/PCM). Ignored until video has started, if there is video. */
  async audio(frame: { data: Uint8Array; pts: number }): Promise<void> {
    const a = this.opts.audio;
    if (!a || !this.audioSource) {
      throw new IvError('IV_ERR_INVALID_PARAM', 'this recording has no audio', { field: 'audio' });
    }
    if (this.opts.video && !this.videoConfigured) {
      return;
    }
    await this.ensureStarted();
    const ts = this.seconds(frame.pts);
    const duration = SAMPLES_PER_FRAME / a.sampleRate;
    if (a.codec === 'aac') {
      const h = parseAdts(frame.data);
      if (isAdtsProblem(h)) {
        throw new IvError('IV_ERR_AV_BAD_AUDIO_FRAME', `bad ADTS header: ${h.detail}`, { field: 'data' });
      }
      const packet = new EncodedPacket(frame.data.subarray(h.headerBytes, h.frameBytes), 'key', ts, duration);
      if (!this.audioConfigured) {
        this.audioConfigured = true;
        await this.audioSource.add(packet, { decoderConfig: { codec: `mp4a.40.${h.objectType}`, sampleRate: h.sampleRate, numberOfChannels: h.channelConfig, description: audioSpecificConfig(h) } });
      } else {
        await this.audioSource.add(packet);
      }
    } else {
      const pcm = a.codec === 'pcm' ? frame.data : g711ToPcm(frame.data, a.codec);
      const packet = new EncodedPacket(pcm, 'key', ts, duration);
      if (!this.audioConfigured) {
        this.audioConfigured = true;
        await this.audioSource.add(packet, { decoderConfig: { codec: 'pcm-s16', sampleRate: a.sampleRate, numberOfChannels: a.channels } });
      } else {
        await this.audioSource.add(packet);
      }
    }
    await this.chain;
    this.throwIfFailed();
  }

  /** Flush the last segment. */
  async finish(): Promise<void> {
    if (this.started) {
      await this.output.finalize();
    }
    const last = this.current;
    if (last) {
      const endUs = this.lastVideoUs >= 0 && this.opts.video ? this.seconds(this.lastVideoUs) + 1 / this.opts.video.fps : last.start;
      last.duration = Math.max(0, endUs - last.start);
      this.current = undefined;
      this.enqueue(() => this.opts.onSegment(last));
    }
    await this.chain;
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) {
      const err = this.failure;
      this.failure = undefined;
      throw err;
    }
  }
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

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}
