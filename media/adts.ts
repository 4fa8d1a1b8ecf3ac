/**
 * adts — ADTS (AAC transport) headers: parse, check, and derive the 2-byte
 * AudioSpecificConfig FLV and MP4 need. ISO/IEC 13818-7 / 14496-3.
 * Must never: accept a header whose sync word, layer or length is wrong.
 */

export const ADTS_SAMPLE_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350] as const;

export interface AdtsHeader {
  /** Audio object type (profile + 1): 2 = AAC-LC. */
  objectType: number;
  sampleRateIndex: number;
  sampleRate: number;
  channelConfig: number;
  headerBytes: number;
  frameBytes: number;
  rawBlocks: number;
}

export type AdtsProblem = { problem: 'sync' | 'layer' | 'rate' | 'channels' | 'short' | 'length'; detail: string };

/** Parse the ADTS header at `offset`. Returns a problem instead of throwing. */
export function parseAdts(data: Uint8Array, offset = 0): AdtsHeader | AdtsProblem {
  if (data.length - offset < 7) {
    return { problem: 'short', detail: `${data.length - offset} bytes, an ADTS header needs 7` };
  }
  const b = (i: number): number => data[offset + i] as number;
  if (b(0) !== 0xff || (b(1) & 0xf0) !== 0xf0) {
    return { problem: 'sync', detail: `no ADTS sync word at byte ${offset}` };
  }
  if ((b(1) & 0x06) !== 0) {
    return { problem: 'layer', detail: 'ADTS layer must be 0' };
  }
  const protectionAbsent = b(1) & 0x01;
  const objectType = ((b(2) >> 6) & 0x03) + 1;
  const sampleRateIndex = (b(2) >> 2) & 0x0f;
  const sampleRate = ADTS_SAMPLE_RATES[sampleRateIndex];
  if (sampleRate === undefined) {
    return { problem: 'rate', detail: `sampling_frequency_index ${sampleRateIndex} is reserved` };
  }
  const channelConfig = ((b(2) & 0x01) << 2) | ((b(3) >> 6) & 0x03);
  if (channelConfig === 0) {
    return { problem: 'channels', detail: 'channel_configuration 0 (PCE) is not supported' };
  }
  const frameBytes = ((b(3) & 0x03) << 11) | (b(4) << 3) | ((b(5) >> 5) & 0x07);
  const headerBytes = protectionAbsent ? 7 : 9;
  if (frameBytes < headerBytes) {
    return { problem: 'length', detail: `aac_frame_length ${frameBytes} is shorter than its header` };
  }
  return { objectType, sampleRateIndex, sampleRate, channelConfig, headerBytes, frameBytes, rawBlocks: (b(6) & 0x03) + 1 };
}

export function isAdtsProblem(h: AdtsHeader | AdtsProblem): h is AdtsProblem {
  return 'problem' in h;
}

/** AudioSpecificConfig (2 bytes) for an ADTS stream. */
export function audioSpecificConfig(h: Pick<AdtsHeader, 'objectType' | 'sampleRateIndex' | 'channelConfig'>): Uint8Array {
  return new Uint8Array([(h.objectType << 3) | (h.sampleRateIndex >> 1), ((h.sampleRateIndex & 1) << 7) | (h.channelConfig << 3)]);
}

/** A 7-byte ADTS header (MPEG-4, no CRC) for a raw AAC frame of `payloadBytes`, from its AudioSpecificConfig. */
export function adtsHeaderFor(asc: Uint8Array, payloadBytes: number): Uint8Array {
  const b0 = asc[0] ?? 0;
  const b1 = asc[1] ?? 0;
  const objectType = b0 >> 3;
  const sri = ((b0 & 7) << 1) | (b1 >> 7);
  const ch = (b1 >> 3) & 0xf;
  const len = payloadBytes + 7;
  return new Uint8Array([0xff, 0xf1, ((objectType - 1) << 6) | (sri << 2) | (ch >> 2), ((ch & 3) << 6) | (len >> 11), (len >> 3) & 0xff, ((len & 7) << 5) | 0x1f, 0xfc]);
}
