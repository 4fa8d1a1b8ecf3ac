/**
 * capture — the capture actor module (URL + method table) and the embedded demo cameras, for
 * configs on the main thread. Importing this file loads no actor code.
 */
import { fileURLToPath } from 'node:url';
import { actorModule } from '../../runtime/actor.js';
import { CAPTURE_METHODS } from './capture-methods.js';
import type { CaptureArgs } from './CaptureActor.js';

export const CAPTURE_ACTOR = actorModule(new URL('./CaptureActor.js', import.meta.url).href, CAPTURE_METHODS);

/** The sample media shipped in the repository (source tree, next to this file). */
export const SAMPLES_DIR = fileURLToPath(new URL('../../../actors/capture/samples/', import.meta.url));

export const SAMPLE = {
  h264: `${SAMPLES_DIR}demo-h264.h264`,
  h265: `${SAMPLES_DIR}demo-h265.h265`,
  aac: `${SAMPLES_DIR}demo-aac.aac`,
  g711a: `${SAMPLES_DIR}demo-g711a.alaw`,
};

/** The two demo cameras: H.264 + AAC and H.265 + G.711 A-law, 25 fps, looped. */
export function demoCameras(): Omit<CaptureArgs, 'ring'>[] {
  return [
    { camera: 'demo-h264', video: { codec: 'h264' }, audio: { codec: 'aac', sampleRate: 16000, channels: 1 }, source: { kind: 'file', video: SAMPLE.h264, audio: SAMPLE.aac, fps: 25 } },
    { camera: 'demo-h265', video: { codec: 'h265' }, audio: { codec: 'g711a', sampleRate: 8000, channels: 1 }, source: { kind: 'file', video: SAMPLE.h265, audio: SAMPLE.g711a, fps: 25 } },
  ];
}
