/**
 * flv-muxer — FLV for live and playback payloads: H.264 (codec id 7), H.265 as
 * enhanced FLV (ExVideoTagHeader, FourCC 'hvc1'), AAC (sound format 10) and G.711
 * A-law/µ-law (sound formats 7/8, 8 kHz mono). Linear PCM is refused: FLV has no
 * 8/16 kHz linear PCM, so cameras with PCM audio use AAC or G.711 for live.
 *
 * Input video frames are length-prefixed access units (as FrameRings carry them); a
 * tag is one allocation and one copy. A sequence header is emitted before the first
 * keyframe and whenever the parameter sets change.
 *
 * Owns: per-stream muxing state (sequence headers sent, timestamp origin).
 * Must never: emit a coded frame before its sequence header, or a video frame before
 * the first keyframe.
 */
import { IvError } from '../runtime/errors.js';
import { audioSpecificConfig, isAdtsProblem, parseAdts } from './adts.js';
import type { AudioFormat, VideoCodecName } from './codecs.js';
import { ByteSlab } from './byte-slab.js';
import { buildAvcC, buildHvcC } from './decoder-config.js';

export interface FlvVideoFrame {
  /** Length-prefixed access unit. */
  data: Uint8Array;
  /** Microseconds. */
  pts: number;
  dts: number;
  keyframe: boolean;
  /** Present on keyframes (length-prefixed parameter set NAL units). */
  paramSets?: { vps?: Uint8Array; sps: Uint8Array; pps: Uint8Array } | undefined;
}

export interface FlvAudioFrame {
  /** ADTS frame (AAC) or raw G.711 bytes. */
  data: Uint8Array;
  pts: number;
}

export interface FlvMuxerOptions {
  video?: { codec: VideoCodecName; width?: number; height?: number; fps?: number };
  audio?: AudioFormat;
  /**
   * Returned tags are consumed (sent or copied) before any FLV muxer of this thread
   * writes ~128 KB more: output is then carved from one recycled slab per thread, so a
   * thousand live streams cost one slab, not a thousand. Default false: tags stay valid.
   */
  transientOutput?: boolean;
  /**
   * Continue a stream whose FLV timestamp 0 was this capture time (µs): a stream taken
   * over by a new muxer (a restarted peer actor) keeps its timeline.
   */
  originUs?: number;
}

const TAG_AUDIO = 8;
const TAG_VIDEO = 9;
const TAG_SCRIPT = 18;

/** The recycled output slab shared by every transient-output muxer of this thread. */
let sharedTransientSlab: ByteSlab | undefined;

/** Offset of a tag's payload. */
const BODY = 11;

/** One FLV tag: 11-byte header, `payloadBytes` to fill from BODY, PreviousTagSize. */
function tag(slab: ByteSlab, type: number, timestampMs: number, payloadBytes: number): Uint8Array {
  const buf = slab.alloc(11 + payloadBytes + 4);
  const ts = Math.max(0, Math.round(timestampMs)) >>> 0;
  const total = 11 + payloadBytes;
  buf[0] = type;
  buf[1] = (payloadBytes >>> 16) & 0xff;
  buf[2] = (payloadBytes >>> 8) & 0xff;
  buf[3] = payloadBytes & 0xff;
  buf[4] = (ts >>> 16) & 0xff;
  buf[5] = (ts >>> 8) & 0xff;
  buf[6] = ts & 0xff;
  buf[7] = (ts >>> 24) & 0xff;
  buf[8] = 0;
  buf[9] = 0;
  buf[10] = 0;
  buf[total] = (total >>> 24) & 0xff;
  buf[total + 1] = (total >>> 16) & 0xff;
  buf[total + 2] = (total >>> 8) & 0xff;
  buf[total + 3] = total & 0xff;
  return buf;
}

function amfString(s: string): number[] {
  const bytes = [...Buffer.from(s, 'utf8')];
  return [bytes.length >> 8, bytes.length & 0xff, ...bytes];
}

function amfNumber(n: number): number[] {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, n);
  return [0x00, ...b];
}

export class FlvMuxer {
  private readonly opts: FlvMuxerOptions;
  private originUs: number | undefined;
  private lastVideoConfig: Uint8Array | undefined;
  private audioConfigSent = false;
  private started = false;
  private readonly slab: ByteSlab;

  constructor(opts: FlvMuxerOptions) {
    if (!opts.video && !opts.audio) {
      throw new IvError('IV_ERR_INVALID_PARAM', 'an FLV stream needs video, audio or both', { field: 'video' });
    }
    if (opts.audio?.codec === 'pcm') {
      throw new IvError('IV_ERR_AV_UNSUPPORTED', 'FLV cannot carry linear PCM at the spec\'s sample rates; use AAC or G.711 for live', { field: 'audio.codec' });
    }
    if ((opts.audio?.codec === 'g711a' || opts.audio?.codec === 'g711u') && (opts.audio.sampleRate !== 8000 || opts.audio.channels !== 1)) {
      throw new IvError('IV_ERR_AV_UNSUPPORTED', 'FLV carries G.711 only as 8 kHz mono', { field: 'audio.sampleRate' });
    }
    this.opts = opts;
    this.originUs = opts.originUs;
    this.slab = opts.transientOutput === true ? (sharedTransientSlab ??= new ByteSlab(true)) : new ByteSlab(false);
  }

  /** FLV file header, PreviousTagSize0 and an onMetaData script tag (`picture` fills in what the options did not say). */
  header(picture?: { width?: number; height?: number; fps?: number }): Uint8Array {
    const head = new Uint8Array(13);
    head.set([0x46, 0x4c, 0x56, 1, (this.opts.audio ? 4 : 0) | (this.opts.video ? 1 : 0), 0, 0, 0, 9]);
    const meta: number[] = [0x02, ...amfString('onMetaData'), 0x08];
    const entries: [string, number[]][] = [['duration', amfNumber(0)]];
    const v = this.opts.video && { ...picture, ...Object.fromEntries(Object.entries(this.opts.video).filter(([, x]) => x !== undefined)), codec: this.opts.video.codec };
    if (v) {
      entries.push(['videocodecid', amfNumber(v.codec === 'h264' ? 7 : 12)]);
      for (const [key, value] of [['width', v.width], ['height', v.height], ['framerate', v.fps]] as const) {
        if (value) {
          entries.push([key, amfNumber(value)]);
        }
      }
    }
    const a = this.opts.audio;
    if (a) {
      entries.push(['audiocodecid', amfNumber(a.codec === 'aac' ? 10 : a.codec === 'g711a' ? 7 : 8)]);
      entries.push(['audiosamplerate', amfNumber(a.sampleRate)]);
      entries.push(['stereo', [0x01, a.channels === 2 ? 1 : 0]]);
    }
    meta.push(0, 0, 0, entries.length);
    for (const [k, val] of entries) {
      meta.push(...amfString(k), ...val);
    }
    meta.push(0, 0, 9);
    const t = tag(this.slab, TAG_SCRIPT, 0, meta.length);
    t.set(meta, BODY);
    const out = new Uint8Array(head.length + t.length);
    out.set(head);
    out.set(t, head.length);
    this.started = true;
    return out;
  }

  /** The capture time (µs, the frames' clock) of FLV timestamp 0; undefined before the first frame. */
  get origin(): number | undefined {
    return this.originUs;
  }

  private ms(us: number): number {
    this.originUs ??= us;
    return (us - this.originUs) / 1000;
  }

  /** Tags for one video frame (a sequence header first when needed). Empty before the first keyframe. */
  video(frame: FlvVideoFrame): Uint8Array[] {
    const v = this.opts.video;
    if (!v) {
      throw new IvError('IV_ERR_INVALID_PARAM', 'this FLV stream has no video', { field: 'video' });
    }
    const out: Uint8Array[] = [];
    if (frame.keyframe && frame.paramSets) {
      const ps = frame.paramSets;
      const config = v.codec === 'h264' ? buildAvcC(ps.sps, ps.pps) : buildHvcC(ps.vps ?? new Uint8Array(0), ps.sps, ps.pps);
      if (!this.lastVideoConfig || Buffer.compare(config, this.lastVideoConfig) !== 0) {
        this.lastVideoConfig = config;
        out.push(this.videoTag(0, true, config, 0, true));
      }
    }
    if (!this.lastVideoConfig) {
      return out;
    }
    const cts = Math.round((frame.pts - frame.dts) / 1000);
    out.push(this.videoTag(this.ms(frame.dts), frame.keyframe, frame.data, cts, false));
    return out;
  }

  private videoTag(timestampMs: number, keyframe: boolean, data: Uint8Array, cts: number, sequenceHeader: boolean): Uint8Array {
    const hevc = this.opts.video?.codec === 'h265';
    const headerBytes = hevc ? (sequenceHeader ? 5 : 8) : 5;
    const t = tag(this.slab, TAG_VIDEO, timestampMs, headerBytes + data.length);
    const b = BODY;
    const frameType = keyframe ? 1 : 2;
    if (hevc) {
      // ExVideoTagHeader: IsExHeader | FrameType | PacketType (0 SequenceStart, 1 CodedFrames)
      t[b] = 0x80 | (frameType << 4) | (sequenceHeader ? 0 : 1);
      t[b + 1] = 0x68; // 'hvc1'
      t[b + 2] = 0x76;
      t[b + 3] = 0x63;
      t[b + 4] = 0x31;
      if (!sequenceHeader) {
        t[b + 5] = (cts >> 16) & 0xff;
        t[b + 6] = (cts >> 8) & 0xff;
        t[b + 7] = cts & 0xff;
      }
    } else {
      t[b] = (frameType << 4) | 7;
      t[b + 1] = sequenceHeader ? 0 : 1;
      t[b + 2] = (cts >> 16) & 0xff;
      t[b + 3] = (cts >> 8) & 0xff;
      t[b + 4] = cts & 0xff;
    }
    t.set(data, b + headerBytes);
    return t;
  }

  /** Tags for one audio frame (an AAC sequence header first). */
  audio(frame: FlvAudioFrame): Uint8Array[] {
    const a = this.opts.audio;
    if (!a) {
      throw new IvError('IV_ERR_INVALID_PARAM', 'this FLV stream has no audio', { field: 'audio' });
    }
    if (this.opts.video && !this.lastVideoConfig) {
      return []; // audio starts with the first keyframe so both tracks begin together
    }
    const out: Uint8Array[] = [];
    const ts = this.ms(frame.pts);
    if (a.codec === 'aac') {
      const h = parseAdts(frame.data);
      if (isAdtsProblem(h)) {
        throw new IvError('IV_ERR_AV_BAD_AUDIO_FRAME', `bad ADTS header: ${h.detail}`, { field: 'data' });
      }
      const flags = 0xaf; // AAC; rate/size/type fields are fixed to 44 kHz/16-bit/stereo for AAC
      if (!this.audioConfigSent) {
        const asc = audioSpecificConfig(h);
        const t = tag(this.slab, TAG_AUDIO, ts, 2 + asc.length);
        t[BODY] = flags;
        t[BODY + 1] = 0;
        t.set(asc, BODY + 2);
        out.push(t);
        this.audioConfigSent = true;
      }
      const raw = frame.data.subarray(h.headerBytes, h.frameBytes);
      const t = tag(this.slab, TAG_AUDIO, ts, 2 + raw.length);
      t[BODY] = flags;
      t[BODY + 1] = 1;
      t.set(raw, BODY + 2);
      out.push(t);
      return out;
    }
    const format = a.codec === 'g711a' ? 7 : 8;
    const t = tag(this.slab, TAG_AUDIO, ts, 1 + frame.data.length);
    t[BODY] = (format << 4) | 0x02; // 5.5 kHz flag (ignored for G.711), 16-bit, mono
    t.set(frame.data, BODY + 1);
    out.push(t);
    return out;
  }

  get headerWritten(): boolean {
    return this.started;
  }
}
