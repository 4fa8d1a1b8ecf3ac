/**
 * StreamSender on its own: a viewer opening a 2 Mbit/s stream gets the whole GOP since
 * the latest keyframe in its first tick (hundreds of KB of small tags). The tags come
 * from the muxer's recycled memory shared by every stream of the worker; the sender must
 * copy them before anything else is muxed. It once kept views (Buffer#slice), and the
 * first bytes of such streams were overwritten (found by the fanout benchmark).
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { FrameRing } from '../../runtime/frame-ring.js';
import { AccessUnitSplitter } from '../../media/es-splitter.js';
import { FlvDemuxer } from '../../media/flv-demuxer.js';
import { splitAnnexB, toLengthPrefixed } from '../../media/nal.js';
import { STREAM, VIDEO_CODEC_ID } from '../../media/codecs.js';
import { StreamSender } from '../../actors/p2p/stream-sender.js';
import { WatermarkState } from '../../actors/p2p/watermark.js';
import { SAMPLE } from '../helpers/media.js';

test('a first tick of ~600 KB of tags reaches every viewer intact, several viewers at once', (t) => {
  const ring = FrameRing.create({ dataBytes: 16 * 1024 * 1024, slots: 2048, keys: 64 });
  const writer = ring.writer();
  const splitter = new AccessUnitSplitter('h264');
  const aus = [...splitter.push(readFileSync(SAMPLE.h264)).frames, ...splitter.end().frames];
  const keyframe = toLengthPrefixed(splitAnnexB(aus[0] as Uint8Array));
  let pts = Date.now() * 1000;
  writer.write({ data: keyframe, pts, dts: pts, keyframe: true, codec: VIDEO_CODEC_ID.h264, stream: STREAM.VIDEO });
  for (let i = 1; i < 75; i++) {
    // 8 KB non-IDR slices (NAL type 1): what a 2 Mbit/s camera sends between keyframes
    const nal = new Uint8Array(8 * 1024).map((_, k) => (k === 0 ? 0x41 : (i * 31 + k * 7) & 0xff));
    pts += 40_000;
    writer.write({ data: toLengthPrefixed([nal]), pts, dts: pts, keyframe: false, codec: VIDEO_CODEC_ID.h264, stream: STREAM.VIDEO });
  }
  const viewers = Array.from({ length: 3 }, (_, stream) => {
    const received: Uint8Array[] = [];
    const sender = new StreamSender({
      stream: stream + 1,
      channel: { sendMessageBinary: (d) => received.push(new Uint8Array(d)) > 0, bufferedAmount: () => 0, isOpen: () => true },
      ring,
      video: { codec: 'h264' },
      watermarks: new WatermarkState({ low: 0, warn: 0, high: 0 }),
      onWatermark: () => undefined,
    });
    return { sender, received };
  });
  for (const v of viewers) {
    v.sender.tick(); // every viewer muxes its whole first GOP before the next one's tick
  }
  for (const v of viewers) {
    const demux = new FlvDemuxer();
    const tags = v.received.flatMap((chunk) => demux.push(chunk));
    const total = v.received.reduce((n, c) => n + c.length, 0);
    t.true(total > 600_000, `${total} bytes sent in the first tick`);
    t.deepEqual(demux.violations, [], 'the FLV parses from its first byte');
    const video = tags.filter((x) => x.kind === 'video' && !x.config);
    t.is(video.length, 75);
    t.true(video[0]?.keyframe);
    t.deepEqual(video[1]?.payload.subarray(4, 8), new Uint8Array([0x41, (31 + 7) & 0xff, (31 + 14) & 0xff, (31 + 21) & 0xff]), 'frame bytes intact');
  }
});

/** The AMF number after `key` in an FLV onMetaData tag. */
function metaNumber(flv: Uint8Array, key: string): number | undefined {
  const name = new TextEncoder().encode(key);
  for (let i = 0; i + 2 + name.length + 9 <= flv.length; i++) {
    if (flv[i] === 0 && flv[i + 1] === name.length && name.every((b, k) => flv[i + 2 + k] === b) && flv[i + 2 + name.length] === 0) {
      return new DataView(flv.buffer, flv.byteOffset + i + 3 + name.length, 8).getFloat64(0);
    }
  }
  return undefined;
}

test('the FLV onMetaData names the picture size (from the SPS) and the frame rate, so players need not guess', (t) => {
  const ring = FrameRing.create({ dataBytes: 4 * 1024 * 1024, slots: 512, keys: 16 });
  const received: Uint8Array[] = [];
  const sender = new StreamSender({
    stream: 1,
    channel: { sendMessageBinary: (d) => received.push(new Uint8Array(d)) > 0, bufferedAmount: () => 0, isOpen: () => true },
    ring,
    video: { codec: 'h264', fps: 25 },
    watermarks: new WatermarkState({ low: 0, warn: 0, high: 0 }),
    onWatermark: () => undefined,
  });
  sender.tick();
  t.is(received.length, 0, 'no header before there is a frame to describe');
  const aus = new AccessUnitSplitter('h264').push(readFileSync(SAMPLE.h264)).frames;
  const pts = Date.now() * 1000;
  ring.writer().write({ data: toLengthPrefixed(splitAnnexB(aus[0] as Uint8Array)), pts, dts: pts, keyframe: true, codec: VIDEO_CODEC_ID.h264, stream: STREAM.VIDEO });
  sender.tick();
  const flv = Buffer.concat(received);
  t.is(flv.subarray(0, 3).toString(), 'FLV');
  t.is(metaNumber(flv, 'width'), 640);
  t.is(metaNumber(flv, 'height'), 360);
  t.is(metaNumber(flv, 'framerate'), 25);
  t.deepEqual(new FlvDemuxer().push(flv).filter((x) => x.kind === 'video' && !x.config).length, 1);
});
