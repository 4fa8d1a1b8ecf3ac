/**
 * codecs — codec identifiers shared by capture, p2p and cloud (the FrameRing `codec`
 * byte), the stream ids, and the audio format the spec's av_fmt describes.
 * Must never: renumber a codec (rings and recordings carry these numbers).
 */

export const CODEC = {
  H264: 1,
  H265: 2,
  AAC: 16,
  G711A: 17,
  G711U: 18,
  PCM: 19,
} as const;

export type VideoCodecName = 'h264' | 'h265';
export type AudioCodecName = 'aac' | 'g711a' | 'g711u' | 'pcm';

/** FrameRing `stream` byte. */
export const STREAM = { VIDEO: 0, AUDIO: 1 } as const;

export const VIDEO_CODEC_ID: Record<VideoCodecName, number> = { h264: CODEC.H264, h265: CODEC.H265 };
export const AUDIO_CODEC_ID: Record<AudioCodecName, number> = { aac: CODEC.AAC, g711a: CODEC.G711A, g711u: CODEC.G711U, pcm: CODEC.PCM };

export function codecName(id: number): VideoCodecName | AudioCodecName | undefined {
  for (const [name, value] of Object.entries({ ...VIDEO_CODEC_ID, ...AUDIO_CODEC_ID })) {
    if (value === id) {
      return name as VideoCodecName | AudioCodecName;
    }
  }
  return undefined;
}

/** The spec fixes 1024 samples per channel per audio frame (iv_cm_av_data_info_s). */
export const SAMPLES_PER_FRAME = 1024;

export interface AudioFormat {
  codec: AudioCodecName;
  sampleRate: number;
  channels: 1 | 2;
}

export interface VideoFormat {
  codec: VideoCodecName;
  width: number;
  height: number;
  profile: string;
  level: number;
  /** From the SPS VUI timing info when present. */
  fps?: number;
}

/** Bytes of one spec audio frame for the raw formats (G.711: 1 byte/sample, PCM: s16le). */
export function rawAudioFrameBytes(codec: 'g711a' | 'g711u' | 'pcm', channels: number): number {
  return SAMPLES_PER_FRAME * channels * (codec === 'pcm' ? 2 : 1);
}
