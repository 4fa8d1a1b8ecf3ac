/**
 * bits — reads RBSP bit fields: removes emulation-prevention bytes and decodes
 * fixed-width and Exp-Golomb fields (H.264/H.265 7.2, 9.2).
 * Must never: read past the end silently (it throws a BitsOverrun the parsers turn
 * into IV_ERR_AV_TRUNCATED).
 */

export class BitsOverrun extends Error {
  constructor(readonly field: string) {
    super(`ran past the end of the data while reading ${field}`);
  }
}

/** NAL payload → RBSP (drops the 0x03 of every 0x000003). */
export function toRbsp(nal: Uint8Array, from = 0): Uint8Array {
  let zeros = 0;
  let needs = false;
  for (let i = from; i < nal.length; i++) {
    const b = nal[i] as number;
    if (zeros >= 2 && b === 3) {
      needs = true;
      break;
    }
    zeros = b === 0 ? zeros + 1 : 0;
  }
  if (!needs) {
    return nal.subarray(from);
  }
  const out = new Uint8Array(nal.length - from);
  let n = 0;
  zeros = 0;
  for (let i = from; i < nal.length; i++) {
    const b = nal[i] as number;
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    out[n++] = b;
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return out.subarray(0, n);
}

export class BitReader {
  private pos = 0;

  constructor(private readonly data: Uint8Array) {}

  get bitPosition(): number {
    return this.pos;
  }

  get bitsLeft(): number {
    return this.data.length * 8 - this.pos;
  }

  u(n: number, field = 'bits'): number {
    if (n > 32) {
      throw new RangeError('at most 32 bits at once');
    }
    if (this.pos + n > this.data.length * 8) {
      throw new BitsOverrun(field);
    }
    let v = 0;
    for (let i = 0; i < n; i++) {
      const byte = this.data[(this.pos >> 3)] as number;
      v = v * 2 + ((byte >> (7 - (this.pos & 7))) & 1);
      this.pos++;
    }
    return v;
  }

  flag(field = 'flag'): boolean {
    return this.u(1, field) === 1;
  }

  skip(n: number, field = 'bits'): void {
    if (this.pos + n > this.data.length * 8) {
      throw new BitsOverrun(field);
    }
    this.pos += n;
  }

  /** Unsigned Exp-Golomb ue(v). */
  ue(field = 'ue'): number {
    let zeros = 0;
    while (this.u(1, field) === 0) {
      zeros++;
      if (zeros > 31) {
        throw new BitsOverrun(field);
      }
    }
    return zeros === 0 ? 0 : 2 ** zeros - 1 + this.u(zeros, field);
  }

  /** Signed Exp-Golomb se(v). */
  se(field = 'se'): number {
    const k = this.ue(field);
    return k % 2 === 1 ? (k + 1) / 2 : -(k / 2);
  }
}
