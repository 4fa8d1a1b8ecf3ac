/**
 * peer-channels — the answer to an app's `channels` request (docs/PROTOCOL.md §4.4): each
 * camera channel of the device with its codecs, the picture size and rate of its latest
 * keyframe (read from the ring, zero-copy, released at once) and, for a token with the
 * `playback` right, the wall-clock ranges its local recording holds.
 * Owns: that description. Must never: hold a ring frame past the call, or list ranges to
 * a token without `playback`.
 */
import { pictureOf } from '../../media/param-sets.js';
import { STREAM } from '../../media/codecs.js';
import { recordedSegments } from '../../recording/recording-index.js';
import { MAX_RANGES, type ChannelInfo } from '../../shared/protocol/control.js';
import { allowed, type PeerState } from './peer-state.js';

/** Segments closer than this are one range (a segment boundary is not a gap). */
const JOIN_MS = 1_500;

function latestPicture(state: PeerState, channel: number, video: { codec: 'h264' | 'h265'; fps?: number }): NonNullable<ChannelInfo['video']> {
  const ring = state.rings.get(channel);
  const key = ring?.latestKeyframe() ?? -1;
  if (!ring || key < 0) {
    return { codec: video.codec, ...(video.fps ? { fps: video.fps } : {}) };
  }
  const reader = ring.reader('oldest');
  reader.seek(key);
  const f = reader.peek();
  const pic = f && f.stream === STREAM.VIDEO && f.keyframe ? pictureOf(f.data, video) : undefined;
  reader.release();
  return { codec: video.codec, ...pic, ...(pic?.fps === undefined && video.fps ? { fps: video.fps } : {}) };
}

export async function describeChannels(state: PeerState): Promise<ChannelInfo[]> {
  const withRanges = allowed(state, 'playback');
  return Promise.all(state.args.cameras.map(async (cam): Promise<ChannelInfo> => {
    const info: ChannelInfo = { channel: cam.channel };
    if (cam.video) {
      info.video = latestPicture(state, cam.channel, cam.video);
    }
    if (cam.audio) {
      info.audio = { codec: cam.audio.codec, sampleRate: cam.audio.sampleRate, channels: cam.audio.channels };
    }
    if (withRanges && cam.recording) {
      const ranges: [number, number][] = [];
      for (const s of await recordedSegments(cam.recording.spoolDir, cam.recording.device, cam.channel, 0, Date.now() + 60_000)) {
        const end = s.startMs + s.durationS * 1000;
        const last = ranges[ranges.length - 1];
        if (last && s.startMs - last[1] <= JOIN_MS) {
          last[1] = Math.max(last[1], end);
        } else {
          ranges.push([s.startMs, end]);
        }
      }
      info.recorded = ranges.slice(-MAX_RANGES).map(([a, b]) => [Math.round(a), Math.round(b)]);
    }
    return info;
  }));
}
