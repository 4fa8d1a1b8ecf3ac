/**
 * h264 — H.264/AVC NAL unit types, SPS parsing (profile, level, size, fps) and the
 * slice type of a slice header (to refuse B-frames). ITU-T H.264 7.3.
 * Must never: accept a parameter set it could not read to the end of the fields it needs.
 */
import { BitReader, toRbsp } from './bits.js';

export const H264_NAL = { SLICE: 1, DPA: 2, DPB: 3, DPC: 4, IDR: 5, SEI: 6, SPS: 7, PPS: 8, AUD: 9, END_SEQ: 10, END_STREAM: 11, FILLER: 12, SPS_EXT: 13, PREFIX: 14, SUBSET_SPS: 15 } as const;

export function h264NalType(nal: Uint8Array): number {
  return (nal[0] as number) & 0x1f;
}

export function h264IsVcl(type: number): boolean {
  return type >= 1 && type <= 5;
}

export interface H264Sps {
  profileIdc: number;
  constraintFlags: number;
  levelIdc: number;
  spsId: number;
  chromaFormatIdc: number;
  width: number;
  height: number;
  fps: number | undefined;
  frameMbsOnly: boolean;
}

const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

const PROFILE_NAMES: Record<number, string> = { 66: 'Baseline', 77: 'Main', 88: 'Extended', 100: 'High', 110: 'High 10', 122: 'High 4:2:2', 244: 'High 4:4:4' };

export function h264ProfileName(idc: number): string {
  return PROFILE_NAMES[idc] ?? `profile ${idc}`;
}

function skipScalingList(r: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) {
      next = (last + r.se('delta_scale') + 256) % 256;
    }
    last = next === 0 ? last : next;
  }
}

/** Parse an SPS NAL unit (with its 1-byte header). Throws BitsOverrun when cut short. */
export function parseH264Sps(nal: Uint8Array): H264Sps {
  const r = new BitReader(toRbsp(nal, 1));
  const profileIdc = r.u(8, 'profile_idc');
  const constraintFlags = r.u(8, 'constraint_flags');
  const levelIdc = r.u(8, 'level_idc');
  const spsId = r.ue('seq_parameter_set_id');
  let chromaFormatIdc = 1;
  let separateColourPlane = false;
  if (HIGH_PROFILES.has(profileIdc)) {
    chromaFormatIdc = r.ue('chroma_format_idc');
    if (chromaFormatIdc === 3) {
      separateColourPlane = r.flag('separate_colour_plane_flag');
    }
    r.ue('bit_depth_luma_minus8');
    r.ue('bit_depth_chroma_minus8');
    r.flag('qpprime_y_zero_transform_bypass_flag');
    if (r.flag('seq_scaling_matrix_present_flag')) {
      const lists = chromaFormatIdc !== 3 ? 8 : 12;
      for (let i = 0; i < lists; i++) {
        if (r.flag('seq_scaling_list_present_flag')) {
          skipScalingList(r, i < 6 ? 16 : 64);
        }
      }
    }
  }
  r.ue('log2_max_frame_num_minus4');
  const pocType = r.ue('pic_order_cnt_type');
  if (pocType === 0) {
    r.ue('log2_max_pic_order_cnt_lsb_minus4');
  } else if (pocType === 1) {
    r.flag('delta_pic_order_always_zero_flag');
    r.se('offset_for_non_ref_pic');
    r.se('offset_for_top_to_bottom_field');
    const cycle = r.ue('num_ref_frames_in_pic_order_cnt_cycle');
    for (let i = 0; i < cycle; i++) {
      r.se('offset_for_ref_frame');
    }
  }
  r.ue('max_num_ref_frames');
  r.flag('gaps_in_frame_num_value_allowed_flag');
  const widthMbs = r.ue('pic_width_in_mbs_minus1') + 1;
  const heightMapUnits = r.ue('pic_height_in_map_units_minus1') + 1;
  const frameMbsOnly = r.flag('frame_mbs_only_flag');
  if (!frameMbsOnly) {
    r.flag('mb_adaptive_frame_field_flag');
  }
  r.flag('direct_8x8_inference_flag');
  let crop = [0, 0, 0, 0];
  if (r.flag('frame_cropping_flag')) {
    crop = [r.ue('frame_crop_left_offset'), r.ue('frame_crop_right_offset'), r.ue('frame_crop_top_offset'), r.ue('frame_crop_bottom_offset')];
  }
  const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
  const subWidthC = chromaFormatIdc === 3 ? 1 : 2;
  const subHeightC = chromaFormatIdc === 1 ? 2 : 1;
  const cropUnitX = chromaArrayType === 0 ? 1 : subWidthC;
  const cropUnitY = (chromaArrayType === 0 ? 1 : subHeightC) * (frameMbsOnly ? 1 : 2);
  const [left, right, top, bottom] = crop as [number, number, number, number];
  const width = widthMbs * 16 - cropUnitX * (left + right);
  const height = (frameMbsOnly ? 1 : 2) * heightMapUnits * 16 - cropUnitY * (top + bottom);
  let fps: number | undefined;
  if (r.flag('vui_parameters_present_flag')) {
    fps = readVuiFps(r);
  }
  return { profileIdc, constraintFlags, levelIdc, spsId, chromaFormatIdc, width, height, fps, frameMbsOnly };
}

function readVuiFps(r: BitReader): number | undefined {
  if (r.flag('aspect_ratio_info_present_flag')) {
    if (r.u(8, 'aspect_ratio_idc') === 255) {
      r.u(16, 'sar_width');
      r.u(16, 'sar_height');
    }
  }
  if (r.flag('overscan_info_present_flag')) {
    r.flag('overscan_appropriate_flag');
  }
  if (r.flag('video_signal_type_present_flag')) {
    r.u(3, 'video_format');
    r.flag('video_full_range_flag');
    if (r.flag('colour_description_present_flag')) {
      r.u(24, 'colour_description');
    }
  }
  if (r.flag('chroma_loc_info_present_flag')) {
    r.ue('chroma_sample_loc_type_top_field');
    r.ue('chroma_sample_loc_type_bottom_field');
  }
  if (r.flag('timing_info_present_flag')) {
    const units = r.u(32, 'num_units_in_tick');
    const scale = r.u(32, 'time_scale');
    return units > 0 ? scale / (2 * units) : undefined;
  }
  return undefined;
}

/** slice_type of a slice NAL, folded to 0..4: 0 P, 1 B, 2 I, 3 SP, 4 SI. */
export function h264SliceType(nal: Uint8Array): number {
  const r = new BitReader(toRbsp(nal.subarray(0, Math.min(nal.length, 32)), 1));
  r.ue('first_mb_in_slice');
  return r.ue('slice_type') % 5;
}

export const H264_SLICE = { P: 0, B: 1, I: 2, SP: 3, SI: 4 } as const;
