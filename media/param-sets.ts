/**
 * param-sets — the parameter sets (VPS/SPS/PPS) carried by a ring keyframe, in the
 * length-prefixed form the muxers take. Ring keyframes always carry them (the SDK's
 * rule, enforced at ingest), so any consumer can configure a decoder from the latest
 * keyframe alone; and the picture those parameter sets describe (size, rate).
 */
import type { VideoCodecName } from './codecs.js';
import { splitLengthPrefixed, toLengthPrefixed } from './nal.js';
import { parseH264Sps } from './h264.js';
import { parseH265Sps } from './h265.js';

export interface ParamSets {
  vps?: Uint8Array;
  sps: Uint8Array;
  pps: Uint8Array;
}

/** Parameter sets of a length-prefixed keyframe, or undefined when one is missing. */
export function paramSetsOf(keyframe: Uint8Array, codec: VideoCodecName): ParamSets | undefined {
  const found = new Map<number, Uint8Array>();
  for (const nal of splitLengthPrefixed(keyframe)) {
    const type = codec === 'h264' ? (nal[0] as number) & 0x1f : ((nal[0] as number) >> 1) & 0x3f;
    if (!found.has(type)) {
      found.set(type, nal);
    }
  }
  const lp = (type: number): Uint8Array | undefined => {
    const nal = found.get(type);
    return nal === undefined ? undefined : toLengthPrefixed([nal]);
  };
  if (codec === 'h264') {
    const sps = lp(7);
    const pps = lp(8);
    return sps && pps ? { sps, pps } : undefined;
  }
  const vps = lp(32);
  const sps = lp(33);
  const pps = lp(34);
  return vps && sps && pps ? { vps, sps, pps } : undefined;
}

/** Width, height and frame rate of a keyframe's SPS (the rate from the camera when the SPS has none). */
export function pictureOf(keyframe: Uint8Array, video: { codec: VideoCodecName; fps?: number }): { width: number; height: number; fps?: number } | undefined {
  const sps = paramSetsOf(keyframe, video.codec)?.sps;
  if (!sps) {
    return undefined;
  }
  try {
    const nal = sps.subarray(4);
    const p = video.codec === 'h264' ? parseH264Sps(nal) : parseH265Sps(nal);
    const fps = ('fps' in p ? p.fps : undefined) ?? video.fps;
    return { width: p.width, height: p.height, ...(fps ? { fps } : {}) };
  } catch {
    return undefined; // a camera's odd SPS costs the metadata, never the stream
  }
}
