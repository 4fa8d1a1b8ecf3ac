import test from 'ava';
import { readFileSync } from 'node:fs';
import { audioSpecificConfig, isAdtsProblem, parseAdts } from '../../media/adts.js';
import { BitReader, toRbsp } from '../../media/bits.js';
import { AccessUnitSplitter, AdtsSplitter } from '../../media/es-splitter.js';
import { g711ToPcm } from '../../media/g711.js';
import { h264NalType, parseH264Sps } from '../../media/h264.js';
import { h265NalType, parseH265Sps } from '../../media/h265.js';
import { lengthPrefixedToAnnexB, splitAnnexB, splitLengthPrefixed, toLengthPrefixed } from '../../media/nal.js';
import { SAMPLE, accessUnits } from '../helpers/media.js';

test('NAL units are split on 3- and 4-byte start codes, trailing zeros dropped', (t) => {
  const data = new Uint8Array([0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 0, 1, 0x65, 4, 5, 0]);
  t.deepEqual(splitAnnexB(data).map((n) => [...n]), [[0x67, 1, 2], [0x68, 3], [0x65, 4, 5]]);
  t.deepEqual(splitAnnexB(new Uint8Array([1, 2, 3])), []);
});

test('length-prefixed and Annex-B forms convert both ways without loss', (t) => {
  const nals = [new Uint8Array([0x67, 1, 2, 3]), new Uint8Array([0x65, 9])];
  const lp = toLengthPrefixed(nals);
  t.deepEqual(splitLengthPrefixed(lp).map((n) => [...n]), nals.map((n) => [...n]));
  t.deepEqual(splitAnnexB(lengthPrefixedToAnnexB(lp)).map((n) => [...n]), nals.map((n) => [...n]));
  t.throws(() => splitLengthPrefixed(new Uint8Array([0, 0, 0, 9, 1])), { instanceOf: RangeError });
});

test('emulation prevention bytes are removed and Exp-Golomb fields decode', (t) => {
  t.deepEqual([...toRbsp(new Uint8Array([0x00, 0x00, 0x03, 0x01, 0x00, 0x00, 0x03]))], [0, 0, 1, 0, 0]);
  const r = new BitReader(new Uint8Array([0b1010_0110, 0b0100_0000]));
  t.is(r.ue(), 0); // 1
  t.is(r.ue(), 1); // 010
  t.is(r.ue(), 2); // 011
  t.is(r.se(), 2); // 00100 → k=3 → +2
});

test('the H.264 sample SPS says Main profile, 640x360, 25 fps', (t) => {
  const sps = splitAnnexB(accessUnits(SAMPLE.h264, 'h264')[0] as Uint8Array).find((n) => h264NalType(n) === 7);
  t.truthy(sps);
  t.like(parseH264Sps(sps!), { profileIdc: 77, width: 640, height: 360, fps: 25 });
});

test('the H.265 sample SPS says Main profile, 640x360', (t) => {
  const sps = splitAnnexB(accessUnits(SAMPLE.h265, 'h265')[0] as Uint8Array).find((n) => h265NalType(n) === 33);
  t.truthy(sps);
  const parsed = parseH265Sps(sps!);
  t.like(parsed, { width: 640, height: 360, chromaFormatIdc: 1, bitDepthLuma: 8 });
  t.is(parsed.ptl.profileIdc, 1);
});

test('ADTS headers parse, and bad ones are described rather than thrown', (t) => {
  const first = readFileSync(SAMPLE.aac).subarray(0, 200);
  const h = parseAdts(first);
  t.false(isAdtsProblem(h));
  t.like(h, { objectType: 2, sampleRate: 16000, channelConfig: 1, rawBlocks: 1 });
  t.deepEqual([...audioSpecificConfig(h as Exclude<typeof h, { problem: string }>)], [0x14, 0x08]);
  t.like(parseAdts(new Uint8Array(10)), { problem: 'sync' });
  t.like(parseAdts(new Uint8Array([0xff, 0xf1])), { problem: 'short' });
});

test('G.711 decodes to the standard linear values', (t) => {
  const pcm = new Int16Array(g711ToPcm(new Uint8Array([0xd5, 0x55, 0x2a, 0xaa]), 'g711a').buffer);
  t.deepEqual([...pcm], [8, -8, -32256, 32256]);
  const mu = new Int16Array(g711ToPcm(new Uint8Array([0xff, 0x7f, 0x00, 0x80]), 'g711u').buffer);
  t.deepEqual([...mu], [0, 0, -32124, 32124]);
});

test('splitting a stream in odd-sized chunks gives the same frames as splitting it whole', (t) => {
  for (const [file, codec] of [[SAMPLE.h264, 'h264'], [SAMPLE.h265, 'h265']] as const) {
    const data = readFileSync(file);
    const whole = accessUnits(file, codec);
    const s = new AccessUnitSplitter(codec);
    const chunked: Uint8Array[] = [];
    for (let i = 0; i < data.length; i += 997) {
      chunked.push(...s.push(data.subarray(i, i + 997)).frames);
    }
    chunked.push(...s.end().frames);
    t.is(whole.length, 250, codec);
    t.is(chunked.length, whole.length, codec);
    t.true(chunked.every((f, i) => Buffer.compare(f, whole[i] as Uint8Array) === 0), codec);
  }
  const adts = readFileSync(SAMPLE.aac);
  const a = new AdtsSplitter();
  const frames: Uint8Array[] = [];
  for (let i = 0; i < adts.length; i += 333) {
    frames.push(...a.push(adts.subarray(i, i + 333)).frames);
  }
  const end = a.end();
  t.is(frames.length + end.frames.length, 158);
  t.deepEqual(end.problems, []);
});

test('garbage between ADTS frames is reported with its offset and skipped', (t) => {
  const adts = readFileSync(SAMPLE.aac).subarray(0, 2_000);
  const h = parseAdts(adts) as { frameBytes: number };
  const dirty = Buffer.concat([adts.subarray(0, h.frameBytes), Buffer.from('garbage!'), adts.subarray(h.frameBytes)]);
  const a = new AdtsSplitter();
  const r = a.push(dirty);
  t.is(r.problems[0]?.offset, h.frameBytes);
  t.true(r.frames.length >= 2);
});
