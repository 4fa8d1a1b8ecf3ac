/**
 * g711 — G.711 A-law and µ-law to 16-bit linear PCM (ITU-T G.711), lossless, via
 * 256-entry tables. Recordings store G.711 audio as PCM because MP4/HLS cannot
 * carry G.711.
 * Must never: allocate per sample.
 */

function alawToLinear(a: number): number {
  const v = a ^ 0x55;
  const seg = (v >> 4) & 0x07;
  let t = (v & 0x0f) << 4;
  t += seg === 0 ? 8 : 0x108;
  if (seg > 1) {
    t <<= seg - 1;
  }
  return v & 0x80 ? t : -t;
}

function ulawToLinear(u: number): number {
  const v = ~u & 0xff;
  let t = ((v & 0x0f) << 3) + 0x84;
  t <<= (v & 0x70) >> 4;
  return v & 0x80 ? 0x84 - t : t - 0x84;
}

const ALAW = Int16Array.from({ length: 256 }, (_, i) => alawToLinear(i));
const ULAW = Int16Array.from({ length: 256 }, (_, i) => ulawToLinear(i));

/** Decode G.711 bytes to little-endian s16 PCM bytes. */
export function g711ToPcm(data: Uint8Array, law: 'g711a' | 'g711u'): Uint8Array {
  const table = law === 'g711a' ? ALAW : ULAW;
  const out = new Int16Array(data.length);
  for (let i = 0; i < data.length; i++) {
    out[i] = table[data[i] as number] as number;
  }
  return new Uint8Array(out.buffer);
}
