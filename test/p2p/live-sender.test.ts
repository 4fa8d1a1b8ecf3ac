/**
 * Live viewers of one camera share the camera's feed (muxed once per worker) and still
 * each get the stream a muxer of their own would have made: own FLV header, onMetaData
 * and sequence headers, timestamps from 0, own pauses and statistics.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { FrameRing } from '../../runtime/frame-ring.js';
import { AccessUnitSplitter, AdtsSplitter } from '../../media/es-splitter.js';
import { FlvDemuxer, type FlvTag } from '../../media/flv-demuxer.js';
import { splitAnnexB, toLengthPrefixed } from '../../media/nal.js';
import { AUDIO_CODEC_ID, STREAM, VIDEO_CODEC_ID, type AudioFormat } from '../../media/codecs.js';
import { paramSetsOf } from '../../media/param-sets.js';
import { LiveSender } from '../../actors/p2p/live-sender.js';
import { LiveFeed } from '../../actors/p2p/live-feed.js';
import { StreamSender, type ByteChannel } from '../../actors/p2p/stream-sender.js';
import { WatermarkState, type Watermarks } from '../../actors/p2p/watermark.js';
import { SAMPLE } from '../helpers/media.js';

const AAC: AudioFormat = { codec: 'aac', sampleRate: 16000, channels: 1 };
const video = readFileSync(SAMPLE.h264);
const splitter = new AccessUnitSplitter('h264');
const AUS = [...splitter.push(video).frames, ...splitter.end().frames].map((au) => toLengthPrefixed(splitAnnexB(au)));
const adts = new AdtsSplitter();
const ADTS = [...adts.push(readFileSync(SAMPLE.aac)).frames, ...adts.end().frames];

/** A camera: 25 fps H.264 from the sample (GOPs as the sample has them) and 16 kHz AAC, written in capture order. */
class Camera {
  readonly ring = FrameRing.create({ dataBytes: 8 * 1024 * 1024, slots: 4096, keys: 64 });
  private readonly writer = this.ring.writer();
  private v = 0;
  private a = 0;
  private readonly t0 = 1_700_000_000_000_000 + 123; // µs, not a whole ms
  readonly gop = AUS.findIndex((au, i) => i > 0 && paramSetsOf(au, 'h264') !== undefined);

  /** Write the next `frames` video frames with the audio frames due meanwhile. */
  write(frames: number): void {
    for (let i = 0; i < frames; i++) {
      const vt = this.t0 + this.v * 40_000;
      for (let at = this.t0 + this.a * 64_000; at <= vt; at = this.t0 + this.a * 64_000) {
        this.writer.write({ data: ADTS[this.a % ADTS.length] as Uint8Array, pts: at, dts: at, keyframe: false, codec: AUDIO_CODEC_ID.aac, stream: STREAM.AUDIO });
        this.a++;
      }
      const au = AUS[this.v % AUS.length] as Uint8Array;
      this.writer.write({ data: au, pts: vt, dts: vt, keyframe: paramSetsOf(au, 'h264') !== undefined, codec: VIDEO_CODEC_ID.h264, stream: STREAM.VIDEO });
      this.v++;
    }
  }
}

interface Viewer {
  bytes: Uint8Array[];
  channel: ByteChannel & { unacked: number; ack(): void };
  flv(): Buffer;
}

/** A channel that records what is sent; `stalled` channels report everything as buffered until acked. */
function viewer(stalled = false): Viewer {
  const bytes: Uint8Array[] = [];
  let sent = 0;
  let acked = 0;
  const channel = {
    unacked: 0,
    sendMessageBinary: (d: Uint8Array) => {
      bytes.push(new Uint8Array(d));
      sent += d.length;
      return true;
    },
    bufferedAmount: () => (stalled ? sent - acked : 0),
    isOpen: () => true,
    ack: () => {
      acked = sent;
    },
  };
  return { bytes, channel, flv: () => Buffer.concat(bytes) };
}

const OFF: Watermarks = { low: 0, warn: 0, high: 0 };

function live(ring: FrameRing, v: Viewer, marks: Watermarks = OFF, events: string[] = [], origin?: (ms: number) => void): LiveSender {
  return new LiveSender({ stream: 1, channel: v.channel, ring, video: { codec: 'h264', fps: 25 }, audio: AAC, watermarks: new WatermarkState(marks), onWatermark: (l) => events.push(l), ...(origin ? { onOrigin: origin } : {}) });
}

function own(ring: FrameRing, v: Viewer): StreamSender {
  return new StreamSender({ stream: 1, channel: v.channel, ring, video: { codec: 'h264', fps: 25 }, audio: AAC, watermarks: new WatermarkState(OFF), onWatermark: () => undefined, resumeAtLatest: true });
}

function tags(flv: Uint8Array): { tags: FlvTag[]; violations: unknown[] } {
  const d = new FlvDemuxer();
  const out = d.push(flv);
  return { tags: out, violations: d.violations };
}

test('a viewer of the shared feed gets byte for byte the stream a muxer of its own would send, from the start and as a newcomer', (t) => {
  const cam = new Camera();
  const [a, b, c, d] = [viewer(), viewer(), viewer(), viewer()];
  const sharedFirst = live(cam.ring, a);
  const ownFirst = own(cam.ring, b);
  let late: [LiveSender, StreamSender] | undefined;
  for (let step = 0; step < 80; step++) {
    cam.write(3);
    if (step === 60) {
      // mid-GOP, after the muxers' recycled output memory went round: both start at the latest keyframe
      late = [live(cam.ring, c), own(cam.ring, d)];
    }
    for (const s of [sharedFirst, ownFirst, ...(late ?? [])]) {
      s.tick();
    }
  }
  t.true(a.flv().length > 50_000, `${a.flv().length} bytes`);
  t.true(a.flv().equals(b.flv()), 'first viewer: identical bytes');
  t.true(c.flv().equals(d.flv()), 'newcomer: identical bytes');
  for (const v of [a, c]) {
    const { tags: all, violations } = tags(v.flv());
    t.deepEqual(violations, []);
    t.is(v.flv().subarray(0, 3).toString(), 'FLV');
    t.is(all[0]?.kind, 'script', 'onMetaData first');
    const media = all.filter((x) => x.kind !== 'script');
    t.true(media[0]?.kind === 'video' && media[0].config, 'the AVC sequence header before any frame');
    const firstFrame = media.find((x) => x.kind === 'video' && !x.config);
    t.true(firstFrame?.keyframe, 'starts at a keyframe');
    t.is(firstFrame?.timestamp, 0, 'timestamps start at 0 for this stream');
    t.true(media.some((x) => x.kind === 'audio' && x.config), 'the AAC sequence header');
  }
  for (const s of [sharedFirst, late?.[0]]) {
    s?.close();
  }
  t.is(LiveFeed.count, 0, 'the feed ends with its last viewer');
});

test('two viewers of one camera get byte-identical tag payloads muxed once, each with its own timestamps from 0', (t) => {
  const cam = new Camera();
  const [a, b] = [viewer(), viewer()];
  const first = live(cam.ring, a);
  cam.write(cam.gop + 5);
  first.tick();
  const second = live(cam.ring, b); // joins later: same GOP start, its own clock
  cam.write(cam.gop * 2);
  for (let i = 0; i < 3; i++) {
    first.tick();
    second.tick();
    cam.write(7);
  }
  first.tick();
  second.tick();
  const ta = tags(a.flv()).tags.filter((x) => x.kind !== 'script');
  const tb = tags(b.flv()).tags.filter((x) => x.kind !== 'script');
  // b starts at the latest keyframe when it first ticks: from there on a carries the same payloads
  const tbMedia = tb.filter((x) => !x.config);
  const hex = (x: FlvTag | undefined): string => Buffer.from(x?.payload ?? []).toString('hex');
  const keyAt = ta.findIndex((x) => !x.config && hex(x) === hex(tbMedia[0]));
  t.true(keyAt > 0 && ta[keyAt]?.keyframe === true, 'b starts at one of a\'s keyframes');
  const fromKey = ta.filter((x) => !x.config).slice(ta.filter((x) => !x.config).indexOf(ta[keyAt] as FlvTag));
  t.true(tbMedia.length > 30, `${tbMedia.length} tags`);
  t.deepEqual(tbMedia.map(hex), fromKey.slice(0, tbMedia.length).map(hex));
  t.is(tbMedia[0]?.timestamp, 0);
  t.true((fromKey[0]?.timestamp ?? 0) > 0, 'the first viewer\'s clock is further on');
  const offset = (fromKey[0]?.timestamp ?? 0) - (tbMedia[0]?.timestamp ?? 0);
  t.true(tbMedia.every((x, i) => Math.abs((fromKey[i]?.timestamp ?? 0) - x.timestamp - offset) <= 1), 'same spacing, shifted origin');
  const feed = LiveFeed.acquire(cam.ring, { video: { codec: 'h264', fps: 25 }, audio: AAC });
  t.is(feed.muxed, cam.ring.head, 'every frame from the first keyframe on was muxed once, whatever the number of viewers');
  feed.release();
  first.close();
  second.close();
});

test('a viewer paused by its watermarks does not hold back the fast one, and resumes at the latest keyframe', (t) => {
  const cam = new Camera();
  const fast = viewer();
  const slow = viewer(true);
  const events: string[] = [];
  const a = live(cam.ring, fast);
  const b = live(cam.ring, slow, { low: 5_000, warn: 20_000, high: 40_000 }, events);
  for (let step = 0; step < 40; step++) {
    cam.write(2);
    a.tick();
    b.tick();
  }
  t.deepEqual(events, ['warn', 'high']);
  t.true(b.stats().paused);
  const slowBefore = slow.flv().length;
  const fastBefore = fast.flv().length;
  cam.write(cam.gop * 2);
  a.tick();
  b.tick();
  t.is(slow.flv().length, slowBefore, 'nothing sent while paused');
  t.true(fast.flv().length > fastBefore + 30_000, 'the fast viewer got everything');
  slow.channel.ack();
  b.ack(slow.flv().length, 0); // the app caught up
  cam.write(5);
  a.tick();
  b.tick();
  t.deepEqual(events, ['warn', 'high', 'low']);
  const after = tags(slow.flv()).tags.filter((x) => x.kind === 'video' && !x.config);
  const resumedAt = after.findIndex((x, i) => i > 0 && x.timestamp - (after[i - 1]?.timestamp ?? 0) > 200);
  t.true(resumedAt > 0, 'one announced jump in timestamps');
  t.true(after[resumedAt]?.keyframe, 'resumed on a keyframe');
  t.deepEqual(tags(slow.flv()).violations, []);
  t.deepEqual(tags(fast.flv()).violations, []);
  a.close();
  b.close();
});

test('an ICE restart continues the stream on the new channel: no new header, the same origin, from a keyframe', (t) => {
  const cam = new Camera();
  const v = viewer();
  const origins: number[] = [];
  const s = live(cam.ring, v, OFF, [], (ms) => origins.push(ms));
  cam.write(cam.gop + 3);
  s.tick();
  const next = viewer();
  s.rebind(next.channel);
  cam.write(cam.gop * 2);
  s.tick();
  t.deepEqual(origins.length, 1);
  const flv = next.flv();
  t.not(flv.subarray(0, 3).toString(), 'FLV', 'no new FLV header');
  // the app's parser goes on with the new channel's bytes (the old one ended on a tag boundary here)
  const before = tags(v.flv()).tags.length;
  const { tags: all, violations } = tags(Buffer.concat([v.flv(), flv]));
  t.deepEqual(violations, []);
  const frames = all.slice(before).filter((x) => x.kind === 'video' && !x.config);
  t.true(frames[0]?.keyframe, 'from a keyframe');
  const firstTs = frames[0]?.timestamp ?? 0;
  t.true(firstTs >= (cam.gop + 3) * 40 - 40, `same origin: timestamps go on (${firstTs} ms)`);
  s.close();
});

test('a stream that continues another one (restarted actor) keeps its origin and sends no header', (t) => {
  const cam = new Camera();
  cam.write(cam.gop + 3);
  const v = viewer();
  const s = new LiveSender({ stream: 2, channel: v.channel, ring: cam.ring, video: { codec: 'h264' }, watermarks: new WatermarkState(OFF), onWatermark: () => undefined, continueFrom: { originMs: 1_700_000_000_000 } });
  s.tick();
  const flv = v.flv();
  t.not(flv.subarray(0, 3).toString(), 'FLV');
  const { tags: got } = tags(Buffer.concat([Buffer.from([0x46, 0x4c, 0x56, 1, 1, 0, 0, 0, 9, 0, 0, 0, 0]), flv]));
  const frames = got.filter((x) => x.kind === 'video' && !x.config);
  t.true(frames[0]?.keyframe);
  t.is(frames[0]?.timestamp, Math.round((cam.gop * 40_000 + 123) / 1000), 'timestamps from the given origin');
  s.close();
});

test('a newcomer gets its keyframe in its first tick and the rest of the GOP spread over the next ticks, then the same bytes as a muxer of its own', (t) => {
  const cam = new Camera();
  cam.write(cam.gop - 1); // one GOP all but its last frame: a newcomer now has a whole GOP to catch up
  const [a, b] = [viewer(), viewer()];
  const budget = 4096; // the sample's GOP is ~40 KB: a small budget spreads it as 32 KiB spreads a 2 Mbit/s camera's
  const shared = new LiveSender({ stream: 1, channel: a.channel, ring: cam.ring, video: { codec: 'h264', fps: 25 }, audio: AAC, watermarks: new WatermarkState(OFF), onWatermark: () => undefined, catchUpBytesPerTick: budget });
  const ownMuxer = own(cam.ring, b);
  const perTick: number[] = [];
  for (let step = 0; step < 40; step++) {
    const before = a.bytes.reduce((n, x) => n + x.length, 0);
    shared.tick();
    ownMuxer.tick();
    perTick.push(a.bytes.reduce((n, x) => n + x.length, 0) - before);
    if (step % 4 === 3) {
      cam.write(1);
    }
  }
  const first = tags(Buffer.concat(a.bytes)).tags.filter((x) => x.kind === 'video' && !x.config);
  t.true(first[0]?.keyframe, 'the first frame is a keyframe');
  const { tags: firstTick } = tags(a.bytes[0] ?? new Uint8Array());
  t.true(firstTick.some((x) => x.kind === 'video' && x.keyframe && !x.config), 'the keyframe is in the first tick');
  const biggestFrame = Math.max(...first.map((x) => x.payload.length + 24));
  const gopBytes = ownMuxer.stats().sent;
  t.true(perTick[0] as number < gopBytes / 2, `first tick ${perTick[0]} of ${gopBytes} bytes: not the whole GOP at once`);
  for (const [i, n] of perTick.entries()) {
    t.true(n <= budget + biggestFrame, `tick ${i}: ${n} bytes`);
  }
  t.true(shared.caughtUp, 'caught up within the ticks');
  t.true(a.flv().equals(b.flv()), 'the same bytes as a muxer of its own, only spread over more ticks');
  shared.close();
});
