/**
 * audio-validator — applies the SDK's audio rules to each pushed audio frame.
 *
 * Rules (iv_cs_push_stream, av_fmt): AAC as ADTS, one raw data block (1024 samples)
 * per frame, sample rate and channels as declared; G.711 A/µ-law and PCM (s16le) frames
 * of exactly 1024 samples per channel, stereo interleaved (LRLR...). The format never
 * changes within a stream.
 * Owns: the declared/established audio format. Must never: throw on bad input.
 */
import { IvError } from '../runtime/errors.js';
import { isAdtsProblem, parseAdts, type AdtsHeader } from './adts.js';
import { rawAudioFrameBytes, type AudioFormat } from './codecs.js';

export type AudioVerdict = { ok: true; adts?: AdtsHeader } | { ok: false; error: IvError };

const fail = (code: ConstructorParameters<typeof IvError>[0], message: string): AudioVerdict => ({ ok: false, error: new IvError(code, message, { field: 'data' }) });

export class AudioValidator {
  constructor(readonly format: AudioFormat) {}

  check(frame: Uint8Array): AudioVerdict {
    const f = this.format;
    if (f.codec !== 'aac') {
      const expected = rawAudioFrameBytes(f.codec, f.channels);
      if (frame.length !== expected) {
        return fail('IV_ERR_AV_BAD_AUDIO_FRAME', `${f.codec} frame of ${frame.length} bytes; 1024 samples x ${f.channels} channel(s) is ${expected} bytes`);
      }
      return { ok: true };
    }
    const h = parseAdts(frame);
    if (isAdtsProblem(h)) {
      return fail(h.problem === 'short' ? 'IV_ERR_AV_TRUNCATED' : 'IV_ERR_AV_BAD_AUDIO_FRAME', `bad ADTS header: ${h.detail}`);
    }
    if (h.frameBytes > frame.length) {
      return fail('IV_ERR_AV_TRUNCATED', `ADTS frame says ${h.frameBytes} bytes but ${frame.length} arrived`);
    }
    if (h.frameBytes < frame.length) {
      return fail('IV_ERR_AV_BAD_AUDIO_FRAME', `${frame.length - h.frameBytes} bytes after the ADTS frame; push one frame at a time`);
    }
    if (h.rawBlocks !== 1) {
      return fail('IV_ERR_AV_BAD_AUDIO_FRAME', `ADTS frame with ${h.rawBlocks} raw data blocks; one (1024 samples) is required`);
    }
    if (h.sampleRate !== f.sampleRate || h.channelConfig !== f.channels) {
      return fail('IV_ERR_AV_FORMAT_CHANGED', `ADTS says ${h.sampleRate} Hz ${h.channelConfig} ch, the stream is ${f.sampleRate} Hz ${f.channels} ch`);
    }
    return { ok: true, adts: h };
  }
}
