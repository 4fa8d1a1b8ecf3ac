/**
 * es-splitter — cuts elementary byte streams (files, ffmpeg pipes) into frames:
 * Annex-B H.264/H.265 into access units, ADTS into AAC frames, G.711/PCM into the
 * spec's 1024-sample frames. Streaming: `push(chunk)` returns the frames completed so
 * far, `end()` the rest.
 *
 * Owns: the bytes not yet cut into frames (bounded by `maxPendingBytes`).
 * Must never: drop bytes silently (garbage is returned as a problem with its offset),
 * or hold more than `maxPendingBytes`.
 */
import type { VideoCodecName } from './codecs.js';
import { isAdtsProblem, parseAdts } from './adts.js';

const START = Buffer.from([0, 0, 1]);

export interface SplitProblem {
  /** Byte offset in the whole stream. */
  offset: number;
  detail: string;
}

export interface Chunked<T> {
  frames: T[];
  problems: SplitProblem[];
}

function concat(a: Buffer, b: Uint8Array): Buffer {
  return a.length === 0 ? Buffer.from(b.buffer, b.byteOffset, b.byteLength) : Buffer.concat([a, b]);
}

/** Does NAL unit `nal` (no start code) begin a new access unit after a VCL? */
function startsAccessUnit(codec: VideoCodecName, nal: Uint8Array): boolean {
  if (nal.length < 3) {
    return false;
  }
  if (codec === 'h264') {
    const type = (nal[0] as number) & 0x1f;
    if (type >= 1 && type <= 5) {
      return ((nal[1] as number) & 0x80) !== 0; // first_mb_in_slice == 0
    }
    return type === 6 || type === 7 || type === 8 || type === 9 || (type >= 14 && type <= 18);
  }
  const type = ((nal[0] as number) >> 1) & 0x3f;
  if (type <= 31) {
    return ((nal[2] as number) & 0x80) !== 0; // first_slice_segment_in_pic_flag
  }
  return (type >= 32 && type <= 35) || type === 39 || (type >= 41 && type <= 44) || (type >= 48 && type <= 55);
}

function isVcl(codec: VideoCodecName, nal: Uint8Array): boolean {
  return codec === 'h264' ? ((nal[0] as number) & 0x1f) >= 1 && ((nal[0] as number) & 0x1f) <= 5 : (((nal[0] as number) >> 1) & 0x3f) <= 31;
}

/** Buffers pushed bytes; subclasses cut complete frames out of `buf` in `scan`. */
abstract class ByteStreamCutter {
  protected buf: Buffer = Buffer.alloc(0);
  protected consumed = 0;

  push(chunk: Uint8Array): Chunked<Uint8Array> {
    this.buf = concat(this.buf, chunk);
    return this.scan(false);
  }

  /** The stream ended: return what remains (and what is wrong with it). */
  end(): Chunked<Uint8Array> {
    return this.scan(true);
  }

  protected abstract scan(final: boolean): Chunked<Uint8Array>;
}

/** Annex-B byte stream → access units (each an Annex-B buffer, start codes kept). */
export class AccessUnitSplitter extends ByteStreamCutter {
  /** Offset (in buf) of the start code of the current access unit, -1 before the first. */
  private auStart = -1;
  private auHasVcl = false;
  private scanFrom = 0;

  constructor(
    private readonly codec: VideoCodecName,
    private readonly maxPendingBytes = 8 * 1024 * 1024,
  ) {
    super();
  }

  protected scan(final: boolean): Chunked<Uint8Array> {
    const out: Chunked<Uint8Array> = { frames: [], problems: [] };
    const buf = this.buf;
    for (;;) {
      const sc = buf.indexOf(START, this.scanFrom);
      if (sc < 0) {
        break;
      }
      let codeStart = sc;
      while (codeStart > 0 && buf[codeStart - 1] === 0 && codeStart > this.scanFrom - 1) {
        codeStart--;
      }
      if (this.auStart < 0) {
        if (codeStart > 0) {
          out.problems.push({ offset: this.consumed, detail: `${codeStart} bytes before the first start code` });
        }
        this.auStart = codeStart;
      }
      // the NAL that starts here needs its first 3 bytes to classify it
      if (sc + 6 > buf.length && !final) {
        break;
      }
      const nal = buf.subarray(sc + 3, Math.min(buf.length, sc + 6));
      if (this.auHasVcl && startsAccessUnit(this.codec, nal)) {
        out.frames.push(Uint8Array.prototype.slice.call(buf, this.auStart, codeStart));
        this.auStart = codeStart;
        this.auHasVcl = false;
      }
      if (nal.length > 0 && isVcl(this.codec, nal)) {
        this.auHasVcl = true;
      }
      this.scanFrom = sc + 3;
    }
    if (final) {
      if (this.auStart >= 0 && this.auStart < buf.length) {
        out.frames.push(Uint8Array.prototype.slice.call(buf, this.auStart));
      } else if (this.auStart < 0 && buf.length > 0) {
        out.problems.push({ offset: this.consumed, detail: `${buf.length} bytes without any start code` });
      }
      this.reset(buf.length);
      return out;
    }
    // drop what has been emitted; keep the current access unit
    const keepFrom = this.auStart >= 0 ? this.auStart : Math.max(0, buf.length - 3);
    if (keepFrom > 0) {
      this.buf = buf.subarray(keepFrom);
      this.consumed += keepFrom;
      this.scanFrom -= keepFrom;
      this.auStart = this.auStart >= 0 ? 0 : -1;
    }
    if (this.buf.length > this.maxPendingBytes) {
      out.problems.push({ offset: this.consumed, detail: `an access unit grew past ${this.maxPendingBytes} bytes; dropped` });
      this.reset(this.buf.length);
    }
    return out;
  }

  private reset(drop: number): void {
    this.consumed += drop;
    this.buf = Buffer.alloc(0);
    this.auStart = -1;
    this.auHasVcl = false;
    this.scanFrom = 0;
  }
}

/** ADTS byte stream → ADTS frames; resyncs on the next sync word after garbage. */
export class AdtsSplitter extends ByteStreamCutter {
  protected scan(final: boolean): Chunked<Uint8Array> {
    const out: Chunked<Uint8Array> = { frames: [], problems: [] };
    let pos = 0;
    const buf = this.buf;
    while (pos < buf.length) {
      const h = parseAdts(buf, pos);
      if (isAdtsProblem(h)) {
        if (h.problem === 'short' && !final) {
          break;
        }
        const next = this.nextSync(buf, pos + 1);
        out.problems.push({ offset: this.consumed + pos, detail: `${h.detail}; ${next < 0 ? 'no further sync word' : `skipped ${next - pos} bytes`}` });
        pos = next < 0 ? buf.length : next;
        continue;
      }
      if (pos + h.frameBytes > buf.length) {
        if (final) {
          out.problems.push({ offset: this.consumed + pos, detail: `last ADTS frame is cut: ${buf.length - pos} of ${h.frameBytes} bytes` });
          pos = buf.length;
        }
        break;
      }
      out.frames.push(Uint8Array.prototype.slice.call(buf, pos, pos + h.frameBytes));
      pos += h.frameBytes;
    }
    this.buf = buf.subarray(pos);
    this.consumed += pos;
    return out;
  }

  private nextSync(buf: Buffer, from: number): number {
    for (let i = from; i + 1 < buf.length; i++) {
      if (buf[i] === 0xff && ((buf[i + 1] as number) & 0xf6) === 0xf0) {
        return i;
      }
    }
    return -1;
  }
}

/** Raw G.711 / PCM byte stream → fixed-size frames. */
export class RawAudioSplitter {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly frameBytes: number) {}

  push(chunk: Uint8Array): Chunked<Uint8Array> {
    this.buf = concat(this.buf, chunk);
    const out: Chunked<Uint8Array> = { frames: [], problems: [] };
    let pos = 0;
    while (pos + this.frameBytes <= this.buf.length) {
      out.frames.push(Uint8Array.prototype.slice.call(this.buf, pos, pos + this.frameBytes));
      pos += this.frameBytes;
    }
    this.buf = this.buf.subarray(pos);
    return out;
  }

  end(): Chunked<Uint8Array> {
    const rest = this.buf.length;
    this.buf = Buffer.alloc(0);
    return { frames: [], problems: rest > 0 ? [{ offset: -1, detail: `${rest} trailing bytes, less than one ${this.frameBytes}-byte frame` }] : [] };
  }
}
