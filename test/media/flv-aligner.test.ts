/**
 * FlvAligner (client/flv-aligner.ts): what a browser player is fed. However a stream's
 * bytes are cut into messages, it gets the same bytes back in whole tags only; when a
 * restart cuts a tag, the cut tag is never passed on and what follows parses cleanly.
 */
import test from 'ava';
import { FlvAligner } from '../../client/flv-aligner.js';
import { FlvDemuxer } from '../../media/flv-demuxer.js';
import { FlvMuxer } from '../../media/flv-muxer.js';

function stream(tags: number): { header: Uint8Array; tags: Uint8Array[] } {
  const mux = new FlvMuxer({ audio: { codec: 'g711a', sampleRate: 8000, channels: 1 } });
  const out: Uint8Array[] = [];
  for (let i = 0; i < tags; i++) {
    out.push(...mux.audio({ data: new Uint8Array(40 + ((i * 37) % 300)).fill(i & 0xff), pts: i * 20 }));
  }
  return { header: mux.header(), tags: out };
}

const concat = (parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.byteLength;
  }
  return out;
};

/** Tag boundaries (end offsets) of an FLV byte string. */
function boundaries(bytes: Uint8Array, header: number): Set<number> {
  const ends = new Set([header]);
  for (let pos = header; pos + 11 <= bytes.byteLength;) {
    pos += 11 + (((bytes[pos + 1] as number) << 16) | ((bytes[pos + 2] as number) << 8) | (bytes[pos + 3] as number)) + 4;
    ends.add(pos);
  }
  return ends;
}

test('any split of the stream comes back byte for byte, each piece ending on a tag boundary', (t) => {
  const { header, tags } = stream(60);
  const all = concat([header, ...tags]);
  const ends = boundaries(all, 13); // the FLV header and PreviousTagSize0; header() also holds onMetaData
  for (const size of [1, 7, 13, 100, 333, 4096]) {
    const a = new FlvAligner();
    const got: Uint8Array[] = [];
    let at = 0;
    for (let i = 0; i < all.byteLength; i += size) {
      const piece = a.push(all.subarray(i, i + size));
      if (piece) {
        at += piece.byteLength;
        t.true(ends.has(at), `split ${size}: a piece ends at ${at}, not on a tag boundary`);
        got.push(piece.slice());
      }
    }
    t.deepEqual(concat(got), all, `split ${size}`);
  }
});

test('a tag cut by a channel replacement is dropped; the player\'s bytes parse with no violation', (t) => {
  const { header, tags } = stream(20);
  const a = new FlvAligner();
  const fed: Uint8Array[] = [];
  const feed = (b: Uint8Array): void => {
    const p = a.push(b);
    if (p) {
      fed.push(p.slice());
    }
  };
  feed(header);
  for (const tag of tags.slice(0, 8)) {
    feed(tag);
  }
  const cut = tags[8] as Uint8Array;
  feed(cut.subarray(0, Math.floor(cut.byteLength / 2)));
  t.is(a.discardPartial(), Math.floor(cut.byteLength / 2));
  for (const tag of tags.slice(9)) {
    feed(tag);
  }
  const demux = new FlvDemuxer();
  const parsed = demux.push(concat(fed));
  t.deepEqual(demux.violations, []);
  t.is(parsed.filter((x) => x.kind === 'audio' && !x.config).length, 19, 'every tag but the cut one');
  t.deepEqual(concat(fed), concat([header, ...tags.slice(0, 8), ...tags.slice(9)]));
});

test('a tag claiming an absurd size stops the alignment and says why', (t) => {
  const { header } = stream(1);
  const a = new FlvAligner(1024);
  a.push(header);
  const bogus = new Uint8Array(20);
  bogus[0] = 8;
  bogus[1] = 0x7f; // 8 MiB
  t.is(a.push(bogus), undefined);
  t.regex(a.broken, /claims \d+ bytes \(more than 1024\)/);
});
