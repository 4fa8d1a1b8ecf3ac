/**
 * decoder-config — the codec configuration records containers need: avcC
 * (AVCDecoderConfigurationRecord, ISO/IEC 14496-15 5.3.3) and hvcC
 * (HEVCDecoderConfigurationRecord, 8.3.3), built from a keyframe's parameter sets.
 * Must never: emit a record for parameter sets it could not parse.
 */
import { parseH265Sps } from './h265.js';
import { splitLengthPrefixed } from './nal.js';

function one(lengthPrefixed: Uint8Array): Uint8Array {
  const nals = splitLengthPrefixed(lengthPrefixed);
  if (nals.length !== 1) {
    throw new RangeError(`expected one parameter set NAL unit, got ${nals.length}`);
  }
  return nals[0] as Uint8Array;
}

/** avcC from length-prefixed SPS and PPS. */
export function buildAvcC(spsLp: Uint8Array, ppsLp: Uint8Array): Uint8Array {
  const sps = one(spsLp);
  const pps = one(ppsLp);
  const out = new Uint8Array(11 + sps.length + pps.length);
  const v = new DataView(out.buffer);
  out[0] = 1;
  out[1] = sps[1] as number;
  out[2] = sps[2] as number;
  out[3] = sps[3] as number;
  out[4] = 0xfc | 3;
  out[5] = 0xe0 | 1;
  v.setUint16(6, sps.length);
  out.set(sps, 8);
  out[8 + sps.length] = 1;
  v.setUint16(9 + sps.length, pps.length);
  out.set(pps, 11 + sps.length);
  return out;
}

/** hvcC from length-prefixed VPS, SPS and PPS. */
export function buildHvcC(vpsLp: Uint8Array, spsLp: Uint8Array, ppsLp: Uint8Array): Uint8Array {
  const vps = one(vpsLp);
  const sps = one(spsLp);
  const pps = one(ppsLp);
  const info = parseH265Sps(sps);
  const ptl = info.ptl;
  const arrays: [number, Uint8Array][] = [[32, vps], [33, sps], [34, pps]];
  const size = 23 + arrays.reduce((n, [, nal]) => n + 5 + nal.length, 0);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  out[0] = 1;
  out[1] = (ptl.profileSpace << 6) | (ptl.tier << 5) | ptl.profileIdc;
  v.setUint32(2, ptl.compatibilityFlags);
  out.set(ptl.constraintFlags, 6);
  out[12] = ptl.levelIdc;
  v.setUint16(13, 0xf000); // min_spatial_segmentation_idc 0
  out[15] = 0xfc; // parallelismType 0
  out[16] = 0xfc | info.chromaFormatIdc;
  out[17] = 0xf8 | (info.bitDepthLuma - 8);
  out[18] = 0xf8 | (info.bitDepthChroma - 8);
  v.setUint16(19, 0); // avgFrameRate unknown
  out[21] = ((info.maxSubLayersMinus1 + 1) << 3) | ((info.temporalIdNesting ? 1 : 0) << 2) | 3;
  out[22] = arrays.length;
  let pos = 23;
  for (const [type, nal] of arrays) {
    out[pos] = 0x80 | type; // array_completeness 1
    v.setUint16(pos + 1, 1);
    v.setUint16(pos + 3, nal.length);
    out.set(nal, pos + 5);
    pos += 5 + nal.length;
  }
  return out;
}

/** RFC 6381 codec string for an avcC (e.g. avc1.4d001e). */
export function avcCodecString(avcC: Uint8Array): string {
  const hex = (n: number): string => n.toString(16).padStart(2, '0');
  return `avc1.${hex(avcC[1] as number)}${hex(avcC[2] as number)}${hex(avcC[3] as number)}`;
}

/** RFC 6381 codec string for an hvcC (e.g. hvc1.1.6.L63.90). */
export function hevcCodecString(hvcC: Uint8Array): string {
  const space = ['', 'A', 'B', 'C'][(hvcC[1] as number) >> 6] ?? '';
  const profile = (hvcC[1] as number) & 0x1f;
  const tier = ((hvcC[1] as number) >> 5) & 1 ? 'H' : 'L';
  let compat = new DataView(hvcC.buffer, hvcC.byteOffset).getUint32(2);
  let reversed = 0;
  for (let i = 0; i < 32; i++) {
    reversed = (reversed << 1) | (compat & 1);
    compat >>>= 1;
  }
  const constraints: string[] = [];
  for (let i = 6; i < 12; i++) {
    constraints.push((hvcC[i] as number).toString(16).toUpperCase());
  }
  while (constraints.length > 0 && constraints[constraints.length - 1] === '0') {
    constraints.pop();
  }
  return ['hvc1', `${space}${profile}`, (reversed >>> 0).toString(16).toUpperCase(), `${tier}${hvcC[12]}`, ...constraints].join('.');
}
