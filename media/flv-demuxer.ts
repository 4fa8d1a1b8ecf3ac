/**
 * flv-demuxer — a strict, streaming FLV reader for the app side (client library,
 * `ivgw view`, `ivgw load`, browser viewer) and for tests. Browser-safe: Uint8Array
 * and DataView only.
 *
 * Checks what an app relies on: header, every PreviousTagSize, tag sizes, decoder
 * configuration before coded frames, timestamps never going backwards per track, and
 * every video GOP starting with a keyframe. Violations are reported, never thrown.
 * Owns: bytes of an incomplete tag (bounded by maxTagBytes).
 */

export interface FlvTag {
  kind: 'video' | 'audio' | 'script';
  /** Milliseconds (decode time for video). */
  timestamp: number;
  /** Video: 'h264' | 'h265'; audio: 'aac' | 'g711a' | 'g711u' | 'other'. */
  codec: string;
  /** Sequence header (avcC, hvcC or AudioSpecificConfig). */
  config: boolean;
  keyframe: boolean;
  /** Composition time offset (ms), video only. */
  cts: number;
  /** Payload without FLV/codec headers: length-prefixed NAL units, raw AAC, G.711 bytes, or the config record. */
  payload: Uint8Array;
}

export interface FlvViolation {
  offset: number;
  detail: string;
}

const HVC1 = 0x68766331;

export class FlvDemuxer {
  private buf: Uint8Array = new Uint8Array(0);
  private offset = 0;
  private headerDone = false;
  private lastTs: Record<string, number> = {};
  private videoConfig = false;
  private audioConfig = false;
  private sawKeyframe = false;
  readonly violations: FlvViolation[] = [];
  hasVideo = false;
  hasAudio = false;

  constructor(private readonly maxTagBytes = 16 * 1024 * 1024) {}

  /** Feed bytes; returns the tags completed. */
  push(chunk: Uint8Array): FlvTag[] {
    this.buf = this.buf.length === 0 ? chunk : concat(this.buf, chunk);
    const out: FlvTag[] = [];
    let pos = 0;
    const view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    if (!this.headerDone) {
      if (this.buf.length < 13) {
        return out;
      }
      if (this.buf[0] !== 0x46 || this.buf[1] !== 0x4c || this.buf[2] !== 0x56 || this.buf[3] !== 1) {
        this.violate('not an FLV v1 header');
        this.buf = new Uint8Array(0);
        return out;
      }
      this.hasAudio = ((this.buf[4] as number) & 4) !== 0;
      this.hasVideo = ((this.buf[4] as number) & 1) !== 0;
      const dataOffset = view.getUint32(5);
      if (view.getUint32(dataOffset) !== 0) {
        this.violate('PreviousTagSize0 is not 0');
      }
      pos = dataOffset + 4;
      this.headerDone = true;
    }
    while (pos + 11 <= this.buf.length) {
      const type = (this.buf[pos] as number) & 0x1f;
      const size = view.getUint32(pos) & 0xffffff;
      if (size > this.maxTagBytes) {
        this.violate(`tag of ${size} bytes exceeds ${this.maxTagBytes}`);
        this.buf = new Uint8Array(0);
        return out;
      }
      if (pos + 11 + size + 4 > this.buf.length) {
        break;
      }
      const ts = ((view.getUint32(pos + 4) >>> 8) | ((this.buf[pos + 7] as number) << 24)) >>> 0;
      const prev = view.getUint32(pos + 11 + size);
      if (prev !== 11 + size) {
        this.violate(`PreviousTagSize ${prev}, expected ${11 + size}`, pos);
      }
      const body = this.buf.subarray(pos + 11, pos + 11 + size);
      const tag = this.parseTag(type, ts, body, pos);
      if (tag) {
        out.push(tag);
      }
      pos += 11 + size + 4;
    }
    this.offset += pos;
    this.buf = this.buf.subarray(pos);
    return out;
  }

  /**
   * Forget the bytes of an unfinished tag (its source was cut, e.g. a data channel
   * replaced by an ICE restart); the next bytes start a new tag. Returns how many.
   */
  discardPartial(): number {
    if (!this.headerDone) {
      return 0;
    }
    const n = this.buf.length;
    this.offset += n;
    this.buf = new Uint8Array(0);
    return n;
  }

  private violate(detail: string, at = 0): void {
    if (this.violations.length < 100) {
      this.violations.push({ offset: this.offset + at, detail });
    }
  }

  private parseTag(type: number, ts: number, body: Uint8Array, at: number): FlvTag | undefined {
    if (type === 18) {
      return { kind: 'script', timestamp: ts, codec: 'amf0', config: false, keyframe: false, cts: 0, payload: body };
    }
    if (body.length === 0) {
      this.violate('empty tag', at);
      return undefined;
    }
    if (type === 9) {
      return this.videoTag(ts, body, at);
    }
    if (type === 8) {
      return this.audioTag(ts, body, at);
    }
    this.violate(`unknown tag type ${type}`, at);
    return undefined;
  }

  private videoTag(ts: number, body: Uint8Array, at: number): FlvTag | undefined {
    const b0 = body[0] as number;
    const frameType = (b0 >> 4) & 0x07;
    let codec: string;
    let config: boolean;
    let cts = 0;
    let payload: Uint8Array;
    if (b0 & 0x80) {
      const packetType = b0 & 0x0f;
      const fourcc = body.length >= 5 ? new DataView(body.buffer, body.byteOffset).getUint32(1) : 0;
      if (fourcc !== HVC1) {
        this.violate(`enhanced video FourCC 0x${fourcc.toString(16)} is not hvc1`, at);
        return undefined;
      }
      codec = 'h265';
      config = packetType === 0;
      if (packetType === 1) {
        cts = si24(body, 5);
        payload = body.subarray(8);
      } else if (packetType === 3 || packetType === 0) {
        payload = body.subarray(5);
      } else {
        this.violate(`enhanced video packet type ${packetType} not handled`, at);
        return undefined;
      }
    } else {
      const codecId = b0 & 0x0f;
      if (codecId !== 7 && codecId !== 12) {
        this.violate(`video codec id ${codecId} is not H.264/H.265`, at);
        return undefined;
      }
      codec = codecId === 7 ? 'h264' : 'h265';
      config = body[1] === 0;
      cts = si24(body, 2);
      payload = body.subarray(5);
    }
    const keyframe = frameType === 1;
    if (config) {
      this.videoConfig = true;
    } else {
      if (!this.videoConfig) {
        this.violate('coded video frame before its sequence header', at);
      }
      if (!this.sawKeyframe && !keyframe) {
        this.violate('video starts with a non-keyframe', at);
      }
      this.sawKeyframe ||= keyframe;
      this.checkTs('video', ts, at);
    }
    return { kind: 'video', timestamp: ts, codec, config, keyframe, cts, payload };
  }

  private audioTag(ts: number, body: Uint8Array, at: number): FlvTag {
    const format = (body[0] as number) >> 4;
    const codec = format === 10 ? 'aac' : format === 7 ? 'g711a' : format === 8 ? 'g711u' : 'other';
    let config = false;
    let payload = body.subarray(1);
    if (format === 10) {
      config = body[1] === 0;
      payload = body.subarray(2);
      if (config) {
        this.audioConfig = true;
      } else if (!this.audioConfig) {
        this.violate('AAC frame before its AudioSpecificConfig', at);
      }
    }
    if (!config) {
      this.checkTs('audio', ts, at);
    }
    return { kind: 'audio', timestamp: ts, codec, config, keyframe: false, cts: 0, payload };
  }

  private checkTs(track: string, ts: number, at: number): void {
    const last = this.lastTs[track];
    if (last !== undefined && ts < last) {
      this.violate(`${track} timestamp went back from ${last} to ${ts} ms`, at);
    }
    this.lastTs[track] = ts;
  }
}

function si24(b: Uint8Array, at: number): number {
  const v = ((b[at] as number) << 16) | ((b[at + 1] as number) << 8) | (b[at + 2] as number);
  return v & 0x800000 ? v - 0x1000000 : v;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Parameter-set NAL units of an avcC or hvcC record. */
export function configNalUnits(codec: 'h264' | 'h265', record: Uint8Array): Uint8Array[] {
  const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
  const out: Uint8Array[] = [];
  if (codec === 'h264') {
    let pos = 5;
    const numSps = (record[pos++] as number) & 0x1f;
    for (let i = 0; i < numSps; i++) {
      const len = view.getUint16(pos);
      out.push(record.subarray(pos + 2, pos + 2 + len));
      pos += 2 + len;
    }
    const numPps = record[pos++] as number;
    for (let i = 0; i < numPps; i++) {
      const len = view.getUint16(pos);
      out.push(record.subarray(pos + 2, pos + 2 + len));
      pos += 2 + len;
    }
    return out;
  }
  let pos = 22;
  const arrays = record[pos++] as number;
  for (let a = 0; a < arrays; a++) {
    pos++;
    const count = view.getUint16(pos);
    pos += 2;
    for (let i = 0; i < count; i++) {
      const len = view.getUint16(pos);
      out.push(record.subarray(pos + 2, pos + 2 + len));
      pos += 2 + len;
    }
  }
  return out;
}
