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

const A_SEG_END = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];
const U_SEG_END = [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff];

function segmentOf(v: number, ends: readonly number[]): number {
  for (let i = 0; i < ends.length; i++) {
    if (v <= (ends[i] as number)) {
      return i;
    }
  }
  return ends.length;
}

/** ITU-T G.711 A-law compression of one 16-bit sample. */
function linearToAlaw(sample: number): number {
  let v = sample >> 3;
  let mask = 0xd5;
  if (v < 0) {
    mask = 0x55;
    v = -v - 1;
  }
  const seg = segmentOf(v, A_SEG_END);
  if (seg >= 8) {
    return 0x7f ^ mask;
  }
  const mantissa = seg < 2 ? (v >> 1) & 0xf : (v >> seg) & 0xf;
  return ((seg << 4) | mantissa) ^ mask;
}

/** ITU-T G.711 µ-law compression of one 16-bit sample. */
function linearToUlaw(sample: number): number {
  let v = sample >> 2;
  let mask = 0xff;
  if (v < 0) {
    v = -v;
    mask = 0x7f;
  }
  v = Math.min(v, 8159) + (0x84 >> 2);
  const seg = segmentOf(v, U_SEG_END);
  if (seg >= 8) {
    return 0x7f ^ mask;
  }
  return ((seg << 4) | ((v >> (seg + 1)) & 0xf)) ^ mask;
}

/** Encode little-endian s16 PCM bytes to G.711 (exact inverse of g711ToPcm for decoded G.711). */
export function pcmToG711(pcm: Uint8Array, law: 'g711a' | 'g711u'): Uint8Array {
  const samples = new Int16Array(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + (pcm.byteLength & ~1)));
  const out = new Uint8Array(samples.length);
  const enc = law === 'g711a' ? linearToAlaw : linearToUlaw;
  for (let i = 0; i < samples.length; i++) {
    out[i] = enc(samples[i] as number);
  }
  return out;
}
