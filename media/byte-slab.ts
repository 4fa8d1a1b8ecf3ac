/**
 * byte-slab — uninitialised output buffers carved from large slabs, so a muxer that
 * emits one small buffer per frame pays neither a zero-fill nor an allocation per
 * frame. By default a slab is never reused: views handed out stay valid and the GC
 * frees a slab when its last view is gone. With `recycle`, the same slab is written
 * over again (no fresh pages to fault in): a view is then valid only until about
 * SLAB_BYTES more have been allocated — for callers that consume output at once
 * (e.g. a send that copies).
 */

const SLAB_BYTES = 256 * 1024;

export class ByteSlab {
  private slab: Buffer = Buffer.allocUnsafeSlow(0);
  private pos = 0;

  constructor(private readonly recycle = false) {}

  /** `n` bytes of uninitialised memory (the caller writes every byte). */
  alloc(n: number): Uint8Array {
    if (n > SLAB_BYTES / 4) {
      return Buffer.allocUnsafeSlow(n);
    }
    if (this.pos + n > this.slab.length) {
      if (!this.recycle || this.slab.length === 0) {
        this.slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
      }
      this.pos = 0;
    }
    const out = this.slab.subarray(this.pos, this.pos + n);
    this.pos = (this.pos + n + 7) & ~7;
    return out;
  }
}
