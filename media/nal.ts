/**
 * nal — moving NAL units between Annex-B (start codes) and length-prefixed form.
 *
 * Video frames travel through FrameRings length-prefixed (4-byte big-endian size
 * before each NAL, as in MP4 and FLV): the capture actor scans start codes once at
 * ingest; every consumer then walks sizes instead of scanning bytes.
 * Must never: scan bytes in JS loops on the hot path (Buffer.indexOf does the search).
 */

const START = Buffer.from([0, 0, 1]);

/** NAL units of an Annex-B buffer (3- and 4-byte start codes), as views without start codes. */
export function splitAnnexB(data: Uint8Array): Uint8Array[] {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const out: Uint8Array[] = [];
  let sc = buf.indexOf(START, 0);
  if (sc < 0) {
    return out;
  }
  let start = sc + 3;
  for (;;) {
    sc = buf.indexOf(START, start);
    if (sc < 0) {
      out.push(data.subarray(start, trimZeros(data, start, data.length)));
      return out;
    }
    // a 4-byte start code (or trailing_zero_8bits) leaves zero bytes before 00 00 01
    out.push(data.subarray(start, trimZeros(data, start, sc)));
    start = sc + 3;
  }
}

function trimZeros(data: Uint8Array, from: number, to: number): number {
  let end = to;
  while (end > from && data[end - 1] === 0) {
    end--;
  }
  return end;
}

/** Bytes before the first start code (garbage, if not empty). */
export function leadingGarbage(data: Uint8Array): number {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const sc = buf.indexOf(START, 0);
  if (sc < 0) {
    return data.length;
  }
  let zeros = sc;
  while (zeros > 0 && data[zeros - 1] === 0) {
    zeros--;
  }
  return zeros;
}

/** Concatenate NAL units with 4-byte big-endian length prefixes. */
export function toLengthPrefixed(nals: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const n of nals) {
    total += 4 + n.length;
  }
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let pos = 0;
  for (const n of nals) {
    view.setUint32(pos, n.length);
    out.set(n, pos + 4);
    pos += 4 + n.length;
  }
  return out;
}

/** NAL units of a length-prefixed buffer, as views. Throws RangeError on a bad length. */
export function splitLengthPrefixed(data: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let pos = 0;
  while (pos < data.length) {
    if (pos + 4 > data.length) {
      throw new RangeError(`length prefix cut at byte ${pos}`);
    }
    const len = view.getUint32(pos);
    if (pos + 4 + len > data.length) {
      throw new RangeError(`NAL of ${len} bytes at byte ${pos} overruns the frame`);
    }
    out.push(data.subarray(pos + 4, pos + 4 + len));
    pos += 4 + len;
  }
  return out;
}

/** Length-prefixed → Annex-B with 4-byte start codes (same size: prefixes are rewritten). */
export function lengthPrefixedToAnnexB(data: Uint8Array): Uint8Array {
  // a copy with its own memory (Buffer#slice would be a view: the input rewritten in place)
  const out = new Uint8Array(data);
  const view = new DataView(out.buffer);
  let pos = 0;
  while (pos + 4 <= out.length) {
    const len = view.getUint32(pos);
    view.setUint32(pos, 1);
    pos += 4 + len;
  }
  return out;
}
