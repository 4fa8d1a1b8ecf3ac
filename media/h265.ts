/**
 * h265 — H.265/HEVC NAL unit types, VPS/SPS/PPS parsing (profile_tier_level, size,
 * the PPS fields a slice header needs) and the slice type of a picture's first slice
 * segment (to refuse B-frames). ITU-T H.265 7.3.
 * Must never: accept a parameter set it could not read to the end of the fields it needs.
 */
import { BitReader, toRbsp } from './bits.js';

export const H265_NAL = { TRAIL_N: 0, TRAIL_R: 1, BLA_W_LP: 16, IDR_W_RADL: 19, IDR_N_LP: 20, CRA: 21, VPS: 32, SPS: 33, PPS: 34, AUD: 35, EOS: 36, EOB: 37, FD: 38, SEI_PREFIX: 39, SEI_SUFFIX: 40 } as const;

export function h265NalType(nal: Uint8Array): number {
  return ((nal[0] as number) >> 1) & 0x3f;
}

export function h265IsVcl(type: number): boolean {
  return type <= 31;
}

/** IRAP pictures (BLA, IDR, CRA): decodable on their own. */
export function h265IsIrap(type: number): boolean {
  return type >= 16 && type <= 23;
}

export interface H265ProfileTierLevel {
  profileSpace: number;
  tier: number;
  profileIdc: number;
  compatibilityFlags: number;
  /** 48 bits of progressive/interlaced/non-packed/frame-only and constraint flags, as 6 bytes. */
  constraintFlags: Uint8Array;
  levelIdc: number;
}

export interface H265Sps {
  spsId: number;
  maxSubLayersMinus1: number;
  temporalIdNesting: boolean;
  ptl: H265ProfileTierLevel;
  chromaFormatIdc: number;
  width: number;
  height: number;
  bitDepthLuma: number;
  bitDepthChroma: number;
}

export interface H265Pps {
  ppsId: number;
  spsId: number;
  dependentSliceSegmentsEnabled: boolean;
  outputFlagPresent: boolean;
  numExtraSliceHeaderBits: number;
}

const PROFILE_NAMES: Record<number, string> = { 1: 'Main', 2: 'Main 10', 3: 'Main Still Picture', 4: 'Range Extensions' };

export function h265ProfileName(idc: number): string {
  return PROFILE_NAMES[idc] ?? `profile ${idc}`;
}

function readPtl(r: BitReader, maxSubLayersMinus1: number): H265ProfileTierLevel {
  const profileSpace = r.u(2, 'general_profile_space');
  const tier = r.u(1, 'general_tier_flag');
  const profileIdc = r.u(5, 'general_profile_idc');
  const compatibilityFlags = r.u(32, 'general_profile_compatibility_flags') >>> 0;
  const constraintFlags = new Uint8Array(6);
  for (let i = 0; i < 6; i++) {
    constraintFlags[i] = r.u(8, 'general_constraint_flags');
  }
  const levelIdc = r.u(8, 'general_level_idc');
  const profilePresent: boolean[] = [];
  const levelPresent: boolean[] = [];
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    profilePresent.push(r.flag('sub_layer_profile_present_flag'));
    levelPresent.push(r.flag('sub_layer_level_present_flag'));
  }
  if (maxSubLayersMinus1 > 0) {
    r.skip(2 * (8 - maxSubLayersMinus1), 'reserved_zero_2bits');
  }
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    if (profilePresent[i]) {
      r.skip(88, 'sub_layer_profile');
    }
    if (levelPresent[i]) {
      r.skip(8, 'sub_layer_level_idc');
    }
  }
  return { profileSpace, tier, profileIdc, compatibilityFlags, constraintFlags, levelIdc };
}

/** Parse an SPS NAL unit (with its 2-byte header). Throws BitsOverrun when cut short. */
export function parseH265Sps(nal: Uint8Array): H265Sps {
  const r = new BitReader(toRbsp(nal, 2));
  r.u(4, 'sps_video_parameter_set_id');
  const maxSubLayersMinus1 = r.u(3, 'sps_max_sub_layers_minus1');
  const temporalIdNesting = r.flag('sps_temporal_id_nesting_flag');
  const ptl = readPtl(r, maxSubLayersMinus1);
  const spsId = r.ue('sps_seq_parameter_set_id');
  const chromaFormatIdc = r.ue('chroma_format_idc');
  if (chromaFormatIdc === 3) {
    r.flag('separate_colour_plane_flag');
  }
  let width = r.ue('pic_width_in_luma_samples');
  let height = r.ue('pic_height_in_luma_samples');
  if (r.flag('conformance_window_flag')) {
    const subWidthC = chromaFormatIdc === 1 || chromaFormatIdc === 2 ? 2 : 1;
    const subHeightC = chromaFormatIdc === 1 ? 2 : 1;
    const left = r.ue('conf_win_left_offset');
    const right = r.ue('conf_win_right_offset');
    const top = r.ue('conf_win_top_offset');
    const bottom = r.ue('conf_win_bottom_offset');
    width -= subWidthC * (left + right);
    height -= subHeightC * (top + bottom);
  }
  const bitDepthLuma = r.ue('bit_depth_luma_minus8') + 8;
  const bitDepthChroma = r.ue('bit_depth_chroma_minus8') + 8;
  r.ue('log2_max_pic_order_cnt_lsb_minus4');
  return { spsId, maxSubLayersMinus1, temporalIdNesting, ptl, chromaFormatIdc, width, height, bitDepthLuma, bitDepthChroma };
}

/** Parse a VPS far enough to check it is whole up to its profile_tier_level. */
export function parseH265Vps(nal: Uint8Array): { vpsId: number; ptl: H265ProfileTierLevel } {
  const r = new BitReader(toRbsp(nal, 2));
  const vpsId = r.u(4, 'vps_video_parameter_set_id');
  r.skip(2, 'vps_base_layer_flags');
  r.u(6, 'vps_max_layers_minus1');
  const maxSubLayersMinus1 = r.u(3, 'vps_max_sub_layers_minus1');
  r.flag('vps_temporal_id_nesting_flag');
  r.u(16, 'vps_reserved_0xffff_16bits');
  return { vpsId, ptl: readPtl(r, maxSubLayersMinus1) };
}

export function parseH265Pps(nal: Uint8Array): H265Pps {
  const r = new BitReader(toRbsp(nal, 2));
  const ppsId = r.ue('pps_pic_parameter_set_id');
  const spsId = r.ue('pps_seq_parameter_set_id');
  const dependentSliceSegmentsEnabled = r.flag('dependent_slice_segments_enabled_flag');
  const outputFlagPresent = r.flag('output_flag_present_flag');
  const numExtraSliceHeaderBits = r.u(3, 'num_extra_slice_header_bits');
  return { ppsId, spsId, dependentSliceSegmentsEnabled, outputFlagPresent, numExtraSliceHeaderBits };
}

/** True when this slice segment starts a picture (first_slice_segment_in_pic_flag). */
export function h265FirstSliceInPic(nal: Uint8Array): boolean {
  return ((nal[2] as number) & 0x80) !== 0;
}

/**
 * slice_type of a picture's first slice segment: 0 B, 1 P, 2 I. Needs the PPS for
 * num_extra_slice_header_bits.
 */
export function h265SliceType(nal: Uint8Array, pps: H265Pps): number {
  const type = h265NalType(nal);
  const r = new BitReader(toRbsp(nal.subarray(0, Math.min(nal.length, 40)), 2));
  r.flag('first_slice_segment_in_pic_flag');
  if (type >= 16 && type <= 23) {
    r.flag('no_output_of_prior_pics_flag');
  }
  r.ue('slice_pic_parameter_set_id');
  r.skip(pps.numExtraSliceHeaderBits, 'slice_reserved_flag');
  return r.ue('slice_type');
}

export const H265_SLICE = { B: 0, P: 1, I: 2 } as const;
