/**
 * flv-aligner — cuts a stream's FLV bytes at tag boundaries for a player that must never
 * see half a tag: what push() returns is the header (with PreviousTagSize0) and whole
 * tags (each with its PreviousTagSize); the rest waits for the next bytes. When the
 * device's ICE restart moves the stream to a new channel the unfinished tag of the old
 * one is dropped (discardPartial), as docs/PROTOCOL.md §3.1 tells apps to, and the player
 * goes on from the new channel's first tag. Browser-safe: Uint8Array only.
 * Owns: the bytes of one unfinished tag (bounded: a tag claiming more than maxTagBytes
 * ends the alignment, `broken` says why). Must never: pass on bytes of a cut tag.
 */

const HEADER_BYTES = 13; // 9-byte FLV header + PreviousTagSize0
const TAG_HEADER_BYTES = 11;

export class FlvAligner {
  private rest: Uint8Array = new Uint8Array(0);
  private headerDone = false;
  /** Why alignment stopped ('' while it works): a corrupt tag size. */
  broken = '';

  constructor(private readonly maxTagBytes = 16 * 1024 * 1024) {}

  /** Bytes from the channel; returns the whole units they complete (possibly none). */
  push(bytes: Uint8Array): Uint8Array | undefined {
    if (this.broken) {
      return undefined;
    }
    const buf = this.rest.byteLength === 0 ? bytes : concat(this.rest, bytes);
    let pos = 0;
    if (!this.headerDone) {
      if (buf.byteLength < HEADER_BYTES) {
        this.rest = buf.slice();
        return undefined;
      }
      pos = HEADER_BYTES;
      this.headerDone = true;
    }
    for (;;) {
      if (buf.byteLength - pos < TAG_HEADER_BYTES) {
        break;
      }
      const size = ((buf[pos + 1] as number) << 16) | ((buf[pos + 2] as number) << 8) | (buf[pos + 3] as number);
      if (size > this.maxTagBytes) {
        this.broken = `a tag at byte ${pos} claims ${size} bytes (more than ${this.maxTagBytes})`;
        break;
      }
      const end = pos + TAG_HEADER_BYTES + size + 4;
      if (end > buf.byteLength) {
        break;
      }
      pos = end;
    }
    this.rest = buf.subarray(pos).slice();
    return pos > 0 ? buf.subarray(0, pos) : undefined;
  }

  /** The channel was replaced: its unfinished tag is dropped; returns how many bytes. */
  discardPartial(): number {
    const n = this.headerDone ? this.rest.byteLength : 0;
    if (this.headerDone) {
      this.rest = new Uint8Array(0);
    }
    return n;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a, 0);
  out.set(b, a.byteLength);
  return out;
}
