/**
 * video-validator — applies the SDK's video rules to each pushed frame of one stream.
 *
 * Rules (iv_cs_push_stream): H.264 or H.265 Annex-B access units; a keyframe (IDR /
 * IRAP) carries its parameter sets (SPS+PPS, and VPS for H.265); no B-frames; the
 * format (codec, resolution) never changes within a stream. Bad input — garbage,
 * truncated units, missing parameter sets, oversized frames — is refused with a typed
 * error and the stream waits for the next valid keyframe; nothing throws.
 *
 * Owns: the stream's established format and its "waiting for a keyframe" state.
 * Must never: let a refused frame change the state of an accepted stream (other than
 * entering the wait-for-keyframe state).
 */
import { IvError } from '../runtime/errors.js';
import { BitReader, BitsOverrun, toRbsp } from './bits.js';
import type { VideoCodecName, VideoFormat } from './codecs.js';
import { H264_NAL, H264_SLICE, h264IsVcl, h264NalType, h264ProfileName, h264SliceType, parseH264Sps } from './h264.js';
import { H265_NAL, H265_SLICE, h265FirstSliceInPic, h265IsIrap, h265IsVcl, h265NalType, h265ProfileName, h265SliceType, parseH265Pps, parseH265Sps, parseH265Vps, type H265Pps } from './h265.js';
import { leadingGarbage, splitAnnexB, toLengthPrefixed } from './nal.js';

export interface AcceptedVideoFrame {
  keyframe: boolean;
  /** The access unit, length-prefixed (4-byte sizes), AUD and filler removed. */
  data: Uint8Array;
  /** Set on keyframes: the parameter sets in this frame (length-prefixed NAL units each). */
  paramSets?: { vps?: Uint8Array; sps: Uint8Array; pps: Uint8Array };
  format: VideoFormat;
}

export type VideoVerdict = { ok: true; frame: AcceptedVideoFrame } | { ok: false; error: IvError };

export interface VideoValidatorOptions {
  codec: VideoCodecName;
  /** Frames above this size are refused (default 4 MiB). */
  maxFrameBytes?: number;
}

const fail = (code: ConstructorParameters<typeof IvError>[0], message: string, field = 'data'): VideoVerdict => ({ ok: false, error: new IvError(code, message, { field }) });

export class VideoValidator {
  private format: VideoFormat | undefined;
  private waitingForKeyframe = true;
  private readonly ppsById = new Map<number, H265Pps>();
  readonly codec: VideoCodecName;
  private readonly maxFrameBytes: number;

  constructor(opts: VideoValidatorOptions) {
    this.codec = opts.codec;
    this.maxFrameBytes = opts.maxFrameBytes ?? 4 * 1024 * 1024;
  }

  /** The format established by the first valid keyframe. */
  get established(): VideoFormat | undefined {
    return this.format;
  }

  get awaitingKeyframe(): boolean {
    return this.waitingForKeyframe;
  }

  /** Check one access unit. `declaredKeyframe` is the caller's frame type, if it gave one. */
  check(au: Uint8Array, declaredKeyframe?: boolean): VideoVerdict {
    const verdict = this.inspect(au, declaredKeyframe);
    if (!verdict.ok) {
      this.waitingForKeyframe = true;
    }
    return verdict;
  }

  private inspect(au: Uint8Array, declaredKeyframe?: boolean): VideoVerdict {
    if (au.length === 0) {
      return fail('IV_ERR_AV_INVALID_FRAME', 'empty frame');
    }
    if (au.length > this.maxFrameBytes) {
      return fail('IV_ERR_AV_FRAME_TOO_LARGE', `frame of ${au.length} bytes exceeds ${this.maxFrameBytes}`);
    }
    const garbage = leadingGarbage(au);
    if (garbage > 0) {
      return fail('IV_ERR_AV_INVALID_FRAME', garbage === au.length ? 'no Annex-B start code in the frame' : `${garbage} bytes of garbage before the first start code`);
    }
    const nals = splitAnnexB(au);
    try {
      return this.codec === 'h264' ? this.inspectH264(nals, declaredKeyframe) : this.inspectH265(nals, declaredKeyframe);
    } catch (err) {
      if (err instanceof BitsOverrun) {
        return fail('IV_ERR_AV_TRUNCATED', `a NAL unit is cut short (${err.message})`);
      }
      throw err;
    }
  }

  private checkNal(nal: Uint8Array, index: number, headerBytes: number): VideoVerdict | undefined {
    if (nal.length <= headerBytes) {
      return fail('IV_ERR_AV_TRUNCATED', `NAL unit ${index} has ${nal.length} bytes, not even a header and payload`);
    }
    if (((nal[0] as number) & 0x80) !== 0) {
      return fail('IV_ERR_AV_INVALID_FRAME', `NAL unit ${index} has forbidden_zero_bit set (garbage)`);
    }
    return undefined;
  }

  private inspectH264(nals: Uint8Array[], declaredKeyframe?: boolean): VideoVerdict {
    let sps: Uint8Array | undefined;
    let pps: Uint8Array | undefined;
    let idr = false;
    let vcl = 0;
    const kept: Uint8Array[] = [];
    for (const [i, nal] of nals.entries()) {
      const bad = this.checkNal(nal, i, 1);
      if (bad) {
        return bad;
      }
      const type = h264NalType(nal);
      if (type === 0 || (type >= 24 && type <= 31)) {
        return fail('IV_ERR_AV_INVALID_FRAME', `NAL unit ${i} has unspecified type ${type}`);
      }
      if (type === H264_NAL.AUD || type === H264_NAL.FILLER) {
        continue;
      }
      kept.push(nal);
      if (type === H264_NAL.SPS) {
        sps = nal;
      } else if (type === H264_NAL.PPS) {
        pps = nal;
      } else if (h264IsVcl(type)) {
        vcl++;
        idr ||= type === H264_NAL.IDR;
        const sliceType = h264SliceType(nal);
        if (sliceType === H264_SLICE.B) {
          return fail('IV_ERR_AV_B_FRAME', `slice ${vcl} of this frame is a B slice; B-frames are not supported (encode with bframes=0)`);
        }
      }
    }
    if (vcl === 0) {
      return fail('IV_ERR_AV_INVALID_FRAME', 'the frame has no slice (VCL) NAL unit');
    }
    if (declaredKeyframe !== undefined && declaredKeyframe !== idr) {
      return fail('IV_ERR_AV_INVALID_FRAME', `frame declared ${declaredKeyframe ? 'I' : 'P'} but its slices are ${idr ? 'IDR' : 'non-IDR'}`, 'frameType');
    }
    if (!idr) {
      return this.nonKey(kept);
    }
    if (sps === undefined || pps === undefined) {
      return fail('IV_ERR_AV_MISSING_PARAM_SETS', `IDR frame without ${sps ? '' : 'SPS '}${pps ? '' : 'PPS'}`.trim());
    }
    const parsed = parseH264Sps(sps);
    const format: VideoFormat = { codec: 'h264', width: parsed.width, height: parsed.height, profile: h264ProfileName(parsed.profileIdc), level: parsed.levelIdc / 10 };
    if (parsed.fps !== undefined) {
      format.fps = parsed.fps;
    }
    return this.key(kept, format, { sps: toLengthPrefixed([sps]), pps: toLengthPrefixed([pps]) });
  }

  private inspectH265(nals: Uint8Array[], declaredKeyframe?: boolean): VideoVerdict {
    let vps: Uint8Array | undefined;
    let sps: Uint8Array | undefined;
    let pps: Uint8Array | undefined;
    let irap = false;
    let vcl = 0;
    const kept: Uint8Array[] = [];
    for (const [i, nal] of nals.entries()) {
      const bad = this.checkNal(nal, i, 2);
      if (bad) {
        return bad;
      }
      const type = h265NalType(nal);
      if ((type >= 41 && type <= 47) || type >= 48) {
        return fail('IV_ERR_AV_INVALID_FRAME', `NAL unit ${i} has ${type >= 48 ? 'unspecified' : 'reserved'} type ${type}`);
      }
      if (type === H265_NAL.AUD || type === H265_NAL.FD) {
        continue;
      }
      kept.push(nal);
      if (type === H265_NAL.VPS) {
        parseH265Vps(nal);
        vps = nal;
      } else if (type === H265_NAL.SPS) {
        sps = nal;
      } else if (type === H265_NAL.PPS) {
        const parsed = parseH265Pps(nal);
        this.ppsById.set(parsed.ppsId, parsed);
        pps = nal;
      } else if (h265IsVcl(type)) {
        if ((type >= 10 && type <= 15) || (type >= 22 && type <= 31)) {
          return fail('IV_ERR_AV_INVALID_FRAME', `NAL unit ${i} has reserved VCL type ${type}`);
        }
        vcl++;
        irap ||= h265IsIrap(type);
        if (h265FirstSliceInPic(nal)) {
          const ppsId = peekH265SlicePpsId(nal);
          const p = this.ppsById.get(ppsId);
          if (p === undefined) {
            return fail('IV_ERR_AV_MISSING_PARAM_SETS', `slice refers to PPS ${ppsId}, which this stream never sent`);
          }
          if (h265SliceType(nal, p) === H265_SLICE.B) {
            return fail('IV_ERR_AV_B_FRAME', 'this picture is made of B slices; B-frames are not supported (encode with bframes=0)');
          }
        }
      }
    }
    if (vcl === 0) {
      return fail('IV_ERR_AV_INVALID_FRAME', 'the frame has no slice (VCL) NAL unit');
    }
    if (declaredKeyframe !== undefined && declaredKeyframe !== irap) {
      return fail('IV_ERR_AV_INVALID_FRAME', `frame declared ${declaredKeyframe ? 'I' : 'P'} but its slices are ${irap ? 'IRAP' : 'non-IRAP'}`, 'frameType');
    }
    if (!irap) {
      return this.nonKey(kept);
    }
    if (vps === undefined || sps === undefined || pps === undefined) {
      const missing = [vps ? '' : 'VPS', sps ? '' : 'SPS', pps ? '' : 'PPS'].filter(Boolean).join(', ');
      return fail('IV_ERR_AV_MISSING_PARAM_SETS', `IRAP frame without ${missing}`);
    }
    const parsed = parseH265Sps(sps);
    const format: VideoFormat = { codec: 'h265', width: parsed.width, height: parsed.height, profile: h265ProfileName(parsed.ptl.profileIdc), level: parsed.ptl.levelIdc / 30 };
    return this.key(kept, format, { vps: toLengthPrefixed([vps]), sps: toLengthPrefixed([sps]), pps: toLengthPrefixed([pps]) });
  }

  private nonKey(kept: Uint8Array[]): VideoVerdict {
    if (this.waitingForKeyframe || this.format === undefined) {
      return fail('IV_ERR_AV_WAIT_KEYFRAME', this.format === undefined ? 'the stream must start with a keyframe' : 'dropped until the next valid keyframe');
    }
    return { ok: true, frame: { keyframe: false, data: toLengthPrefixed(kept), format: this.format } };
  }

  private key(kept: Uint8Array[], format: VideoFormat, paramSets: AcceptedVideoFrame['paramSets'] & object): VideoVerdict {
    const prev = this.format;
    if (prev !== undefined && (prev.codec !== format.codec || prev.width !== format.width || prev.height !== format.height)) {
      return fail('IV_ERR_AV_FORMAT_CHANGED', `stream was ${prev.codec} ${prev.width}x${prev.height}, this keyframe is ${format.codec} ${format.width}x${format.height}`);
    }
    this.format = prev ?? format;
    this.waitingForKeyframe = false;
    return { ok: true, frame: { keyframe: true, data: toLengthPrefixed(kept), paramSets, format: this.format } };
  }
}

function peekH265SlicePpsId(nal: Uint8Array): number {
  const r = new BitReader(toRbsp(nal.subarray(0, Math.min(nal.length, 16)), 2));
  r.flag('first_slice_segment_in_pic_flag');
  if (h265IsIrap(h265NalType(nal))) {
    r.flag('no_output_of_prior_pics_flag');
  }
  return r.ue('slice_pic_parameter_set_id');
}
