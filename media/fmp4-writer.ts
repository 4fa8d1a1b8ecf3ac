/**
 * fmp4-writer — the ISO BMFF (ISO/IEC 14496-12) boxes of fragmented MP4: an init
 * segment (ftyp + moov with one trak per track and mvex/trex) and media segments
 * (moof with one traf per track — tfhd default-base-is-moof, tfdt (64-bit), one trun
 * carrying per-sample durations and flags only when the samples differ — and one mdat).
 *
 * Sample entries: avc1+avcC (H.264), hvc1+hvcC (H.265), mp4a+esds (AAC, ISO/IEC
 * 14496-1 descriptors), ipcm+pcmC (16-bit little-endian PCM, ISO/IEC 23003-5).
 * Parameter sets also stay in band in the samples (avc1/hvc1 decoders accept that and
 * the playback feeder relies on it).
 *
 * Owns: box layout only; pure functions, no state, no I/O. Must never: reorder or
 * retime samples (the caller gives final durations), write a segment whose data
 * offsets do not point at its own mdat, or emit a box whose size field disagrees
 * with its contents.
 */

export const VIDEO_TIMESCALE = 90_000;

export type Fmp4Track =
  | { kind: 'video'; id: number; codec: 'h264' | 'h265'; timescale: number; width: number; height: number; /** avcC / hvcC payload. */ config: Uint8Array }
  | { kind: 'audio'; id: number; codec: 'aac'; timescale: number; sampleRate: number; channels: number; /** AudioSpecificConfig. */ config: Uint8Array }
  | { kind: 'audio'; id: number; codec: 'pcm-s16le'; timescale: number; sampleRate: number; channels: number };

/** One track's samples of a media segment, stored back to back in `data`. */
export interface Fmp4Run {
  trackId: number;
  /** Decode time of the first sample, in the track's timescale. */
  baseTime: number;
  durations: readonly number[];
  sizes: readonly number[];
  /** Per-sample sync flags (video); absent: every sample is a sync sample (audio). */
  sync?: readonly boolean[];
  data: Uint8Array;
}

const SYNC_FLAGS = 0x02000000; // sample_depends_on = 2 (does not depend on others)
const NON_SYNC_FLAGS = 0x01010000; // sample_depends_on = 1, sample_is_non_sync_sample

/** Big-endian writer over a fixed buffer; `open`/`close` patch a box's 32-bit size. */
class BoxWriter {
  pos = 0;
  private readonly view: DataView;
  private readonly starts: number[] = [];

  constructor(readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  u8(v: number): void {
    this.view.setUint8(this.pos, v);
    this.pos += 1;
  }

  u16(v: number): void {
    this.view.setUint16(this.pos, v);
    this.pos += 2;
  }

  u32(v: number): void {
    this.view.setUint32(this.pos, v >>> 0);
    this.pos += 4;
  }

  u64(v: number): void {
    this.view.setBigUint64(this.pos, BigInt(v));
    this.pos += 8;
  }

  zeros(n: number): void {
    this.buf.fill(0, this.pos, this.pos + n);
    this.pos += n;
  }

  bytes(b: Uint8Array): void {
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  fourcc(s: string): void {
    for (let i = 0; i < 4; i++) {
      this.u8(s.charCodeAt(i));
    }
  }

  /** Start a box; `version`/`flags` make it a full box. */
  open(type: string, version?: number, flags = 0): void {
    this.starts.push(this.pos);
    this.u32(0);
    this.fourcc(type);
    if (version !== undefined) {
      this.u32((version << 24) | flags);
    }
  }

  close(): void {
    const start = this.starts.pop();
    if (start === undefined) {
      throw new Error('fmp4-writer: close() without open()');
    }
    this.view.setUint32(start, this.pos - start);
  }

  /** A whole box from a ready payload. */
  leaf(type: string, payload: Uint8Array): void {
    this.open(type);
    this.bytes(payload);
    this.close();
  }
}

const UNITY_MATRIX = [0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000];

function matrix(w: BoxWriter): void {
  for (const v of UNITY_MATRIX) {
    w.u32(v);
  }
}

/** ftyp + moov for `tracks` (ids 1..n, in order). */
export function fmp4Init(tracks: readonly Fmp4Track[]): Uint8Array {
  const w = new BoxWriter(new Uint8Array(1024 + tracks.length * 1024 + tracks.reduce((n, t) => n + ('config' in t ? t.config.length : 0), 0)));
  // iso6 (and iso5: default-base-is-moof); not cmfc: audio and video share one file, which CMAF does not allow
  w.open('ftyp');
  w.fourcc('iso6');
  w.u32(0);
  for (const brand of ['iso6', 'iso5', 'mp41']) {
    w.fourcc(brand);
  }
  w.close();
  w.open('moov');
  w.open('mvhd', 0);
  w.zeros(8); // creation, modification time
  w.u32(1000); // timescale
  w.u32(0); // duration: fragmented, unknown
  w.u32(0x00010000); // rate 1.0
  w.u16(0x0100); // volume 1.0
  w.zeros(10);
  matrix(w);
  w.zeros(24); // pre_defined
  w.u32(Math.max(0, ...tracks.map((t) => t.id)) + 1); // next_track_ID
  w.close();
  for (const t of tracks) {
    trak(w, t);
  }
  w.open('mvex');
  for (const t of tracks) {
    w.open('trex', 0);
    w.u32(t.id);
    w.u32(1); // default_sample_description_index
    w.u32(0);
    w.u32(0);
    w.u32(0);
    w.close();
  }
  w.close();
  w.close();
  return w.buf.slice(0, w.pos);
}

function trak(w: BoxWriter, t: Fmp4Track): void {
  const video = t.kind === 'video';
  w.open('trak');
  w.open('tkhd', 0, 0x3); // enabled, in movie
  w.zeros(8); // creation, modification time
  w.u32(t.id);
  w.u32(0); // reserved
  w.u32(0); // duration
  w.zeros(8);
  w.u16(0); // layer
  w.u16(video ? 0 : 1); // alternate_group
  w.u16(video ? 0 : 0x0100); // volume
  w.u16(0);
  matrix(w);
  w.u32(video ? t.width << 16 : 0);
  w.u32(video ? t.height << 16 : 0);
  w.close();
  w.open('mdia');
  w.open('mdhd', 0);
  w.zeros(8);
  w.u32(t.timescale);
  w.u32(0);
  w.u16(0x55c4); // language 'und'
  w.u16(0);
  w.close();
  w.open('hdlr', 0);
  w.u32(0);
  w.fourcc(video ? 'vide' : 'soun');
  w.zeros(12);
  w.bytes(new TextEncoder().encode(video ? 'VideoHandler\0' : 'SoundHandler\0'));
  w.close();
  w.open('minf');
  if (video) {
    w.open('vmhd', 0, 1);
    w.zeros(8); // graphicsmode, opcolor
  } else {
    w.open('smhd', 0);
    w.zeros(4); // balance, reserved
  }
  w.close();
  w.open('dinf');
  w.open('dref', 0);
  w.u32(1);
  w.open('url ', 0, 1); // media in this file
  w.close();
  w.close();
  w.close();
  w.open('stbl');
  w.open('stsd', 0);
  w.u32(1);
  sampleEntry(w, t);
  w.close();
  for (const type of ['stts', 'stsc', 'stco']) {
    w.open(type, 0);
    w.u32(0); // entry_count: the samples are in the fragments
    w.close();
  }
  w.open('stsz', 0);
  w.u32(0); // sample_size
  w.u32(0); // sample_count
  w.close();
  w.close(); // stbl
  w.close(); // minf
  w.close(); // mdia
  w.close(); // trak
}

function sampleEntry(w: BoxWriter, t: Fmp4Track): void {
  if (t.kind === 'video') {
    w.open(t.codec === 'h264' ? 'avc1' : 'hvc1');
    w.zeros(6);
    w.u16(1); // data_reference_index
    w.zeros(16); // pre_defined, reserved
    w.u16(t.width);
    w.u16(t.height);
    w.u32(0x00480000); // 72 dpi
    w.u32(0x00480000);
    w.u32(0);
    w.u16(1); // frame_count
    w.zeros(32); // compressorname (empty)
    w.u16(0x0018); // depth
    w.u16(0xffff); // pre_defined = -1
    w.leaf(t.codec === 'h264' ? 'avcC' : 'hvcC', t.config);
    w.close();
    return;
  }
  w.open(t.codec === 'aac' ? 'mp4a' : 'ipcm');
  w.zeros(6);
  w.u16(1); // data_reference_index
  w.zeros(8); // version 0 audio sample entry
  w.u16(t.channels);
  w.u16(16); // samplesize
  w.u32(0); // pre_defined, reserved
  w.u32(t.sampleRate << 16); // 16.16
  if (t.codec === 'aac') {
    esds(w, t.config);
  } else {
    w.open('pcmC', 0);
    w.u8(1); // format_flags: little endian
    w.u8(16); // PCM_sample_size
    w.close();
  }
  w.close();
}

/** esds: ES_Descriptor > DecoderConfigDescriptor (AAC) > DecoderSpecificInfo, SLConfigDescriptor. */
function esds(w: BoxWriter, asc: Uint8Array): void {
  if (asc.length > 100) {
    throw new RangeError(`AudioSpecificConfig of ${asc.length} bytes`);
  }
  const decoderConfigLen = 13 + 2 + asc.length;
  w.open('esds', 0);
  w.u8(0x03); // ES_DescrTag
  w.u8(3 + 2 + decoderConfigLen + 3);
  w.u16(1); // ES_ID
  w.u8(0); // flags
  w.u8(0x04); // DecoderConfigDescrTag
  w.u8(decoderConfigLen);
  w.u8(0x40); // objectTypeIndication: MPEG-4 Audio
  w.u8((0x05 << 2) | 1); // streamType audio, upStream 0, reserved 1
  w.zeros(3); // bufferSizeDB
  w.u32(0); // maxBitrate
  w.u32(0); // avgBitrate
  w.u8(0x05); // DecSpecificInfoTag
  w.u8(asc.length);
  w.bytes(asc);
  w.u8(0x06); // SLConfigDescrTag
  w.u8(1);
  w.u8(2); // predefined: MP4
  w.close();
}

/** How a run's traf is coded: per-sample fields only where the samples differ. */
interface TrafLayout {
  /** tfhd default_sample_duration when every duration is equal. */
  defaultDuration: number | undefined;
  /** Flags of the first sample when only it may be a sync sample (video), else per-sample flags. */
  firstFlags: number | undefined;
  perSampleFlags: boolean;
  bytes: number;
}

function layoutOf(r: Fmp4Run): TrafLayout {
  const d0 = r.durations[0] as number;
  const defaultDuration = r.durations.every((d) => d === d0) ? d0 : undefined;
  const sync = r.sync;
  const perSampleFlags = sync !== undefined && sync.some((s, i) => s && i > 0);
  const firstFlags = sync !== undefined && !perSampleFlags ? (sync[0] ? SYNC_FLAGS : NON_SYNC_FLAGS) : undefined;
  const tfhd = 16 + (defaultDuration !== undefined ? 4 : 0) + (perSampleFlags ? 0 : 4);
  const perSample = 4 + (defaultDuration === undefined ? 4 : 0) + (perSampleFlags ? 4 : 0);
  const trun = 20 + (firstFlags !== undefined ? 4 : 0) + r.sizes.length * perSample;
  return { defaultDuration, firstFlags, perSampleFlags, bytes: 8 + tfhd + 20 + trun };
}

/** moof + mdat for one segment; `runs` with no samples are left out. */
export function fmp4Segment(sequence: number, runs: readonly Fmp4Run[]): Uint8Array {
  const present = runs.filter((r) => r.sizes.length > 0);
  for (const r of present) {
    const total = r.sizes.reduce((n, s) => n + s, 0);
    if (r.durations.length !== r.sizes.length || (r.sync && r.sync.length !== r.sizes.length) || total !== r.data.length) {
      throw new RangeError(`fmp4-writer: track ${r.trackId} has ${r.sizes.length} sizes (${total} bytes), ${r.durations.length} durations, ${r.data.length} bytes of data`);
    }
  }
  const layouts = present.map(layoutOf);
  const moofBytes = 8 + 16 + layouts.reduce((n, l) => n + l.bytes, 0);
  const payload = present.reduce((n, r) => n + r.data.length, 0);
  if (moofBytes + 8 + payload > 0x7fffffff) {
    throw new RangeError(`fmp4-writer: a ${payload}-byte segment is past trun's 31-bit data offsets`);
  }
  const w = new BoxWriter(new Uint8Array(moofBytes + 8 + payload));
  w.open('moof');
  w.open('mfhd', 0);
  w.u32(sequence);
  w.close();
  let dataOffset = moofBytes + 8;
  for (const [i, r] of present.entries()) {
    const l = layouts[i] as TrafLayout;
    w.open('traf');
    // default-base-is-moof, default-sample-duration, default-sample-flags
    w.open('tfhd', 0, 0x020000 | (l.defaultDuration !== undefined ? 0x08 : 0) | (l.perSampleFlags ? 0 : 0x20));
    w.u32(r.trackId);
    if (l.defaultDuration !== undefined) {
      w.u32(l.defaultDuration);
    }
    if (!l.perSampleFlags) {
      w.u32(r.sync ? NON_SYNC_FLAGS : SYNC_FLAGS);
    }
    w.close();
    w.open('tfdt', 1);
    w.u64(r.baseTime);
    w.close();
    // data-offset, first-sample-flags, sample-duration, sample-size, sample-flags
    w.open('trun', 0, 0x01 | (l.firstFlags !== undefined ? 0x04 : 0) | (l.defaultDuration === undefined ? 0x100 : 0) | 0x200 | (l.perSampleFlags ? 0x400 : 0));
    w.u32(r.sizes.length);
    w.u32(dataOffset);
    if (l.firstFlags !== undefined) {
      w.u32(l.firstFlags);
    }
    for (let k = 0; k < r.sizes.length; k++) {
      if (l.defaultDuration === undefined) {
        w.u32(r.durations[k] as number);
      }
      w.u32(r.sizes[k] as number);
      if (l.perSampleFlags) {
        w.u32(r.sync?.[k] ? SYNC_FLAGS : NON_SYNC_FLAGS);
      }
    }
    w.close();
    w.close();
    dataOffset += r.data.length;
  }
  w.close();
  if (w.pos !== moofBytes) {
    throw new Error(`fmp4-writer: moof is ${w.pos} bytes, expected ${moofBytes}`);
  }
  w.u32(8 + payload);
  w.fourcc('mdat');
  for (const r of present) {
    w.bytes(r.data);
  }
  return w.buf;
}
