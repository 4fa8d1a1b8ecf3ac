/**
 * g711-player — a stream's G.711 audio (A-law or µ-law, the FLV audio tags' payload)
 * decoded in the page (media/g711.ts) and played with Web Audio, since MSE cannot carry
 * G.711. Each frame becomes an AudioBuffer scheduled at its time: while the <video>
 * plays, at the moment the picture with the same FLV timestamp is on screen (lip sync on
 * the video's clock; a frame whose time has passed is dropped and counted `late`); with
 * no video playing, back to back behind a 150 ms jitter buffer, dropping what would put
 * the audio more than 1 s behind. An AnalyserNode measures what is playing.
 * Owns: its AudioContext and the nodes. Must never: schedule audio after destroy(), or
 * let the queue grow without bound.
 */
import { g711ToPcm } from '../../media/g711.js';

const JITTER_S = 0.15;
const MAX_AHEAD_S = 1;
/** Frames closer than this to the previous one's end are played back to back (no click). */
const JOIN_S = 0.03;

export class G711Player {
  frames = 0;
  late = 0;
  private readonly ctx: AudioContext;
  private readonly analyser: AnalyserNode;
  private readonly samples = new Float32Array(1024);
  private nextAt = 0;
  /** Start times and durations of scheduled buffers not yet known to have played. */
  private readonly scheduled: [number, number][] = [];
  private playedS = 0;
  private destroyed = false;

  /** `mediaNow`: the media time (s, the FLV timeline) of the picture on screen, or undefined when no video plays. */
  constructor(private readonly law: 'g711a' | 'g711u', private readonly sampleRate: number, private readonly mediaNow: () => number | undefined) {
    this.ctx = new AudioContext();
    this.analyser = this.ctx.createAnalyser();
    this.analyser.fftSize = 1024;
    this.analyser.connect(this.ctx.destination);
  }

  /** The AudioContext's state: `suspended` until a user gesture allows sound (autoplay rules). */
  get state(): string {
    return this.ctx.state;
  }

  /** Call from a user gesture (a click) to let the sound out. */
  resume(): Promise<void> {
    return this.ctx.resume();
  }

  /** One audio tag's payload and its FLV timestamp (ms). */
  push(payload: Uint8Array, timestampMs: number): void {
    if (this.destroyed || payload.byteLength === 0) {
      return;
    }
    const pcm = new Int16Array(g711ToPcm(payload, this.law).buffer);
    const buffer = this.ctx.createBuffer(1, pcm.length, this.sampleRate);
    const ch = buffer.getChannelData(0);
    for (let i = 0; i < pcm.length; i++) {
      ch[i] = (pcm[i] as number) / 32768;
    }
    const now = this.ctx.currentTime;
    const media = this.mediaNow();
    let at: number;
    if (media !== undefined) {
      at = now + (timestampMs / 1000 - media);
      if (Math.abs(at - this.nextAt) < JOIN_S && this.nextAt > now) {
        at = this.nextAt;
      }
      if (at < now) {
        this.late++;
        return;
      }
      if (at > now + MAX_AHEAD_S + 2) {
        at = Math.max(now + JITTER_S, this.nextAt); // the clocks disagree (a seek): play it soon
      }
    } else {
      if (this.nextAt < now + 0.01) {
        this.nextAt = now + JITTER_S;
      }
      if (this.nextAt > now + MAX_AHEAD_S) {
        this.late++;
        return;
      }
      at = this.nextAt;
    }
    const src = this.ctx.createBufferSource();
    src.buffer = buffer;
    src.connect(this.analyser);
    src.start(at);
    this.nextAt = at + buffer.duration;
    this.frames++;
    this.scheduled.push([at, buffer.duration]);
    this.account(now);
  }

  /** Seconds of audio whose start time has come (played, if the context runs). */
  played(): number {
    this.account(this.ctx.currentTime);
    return this.playedS;
  }

  /** RMS of what the analyser sees now, 0..1. */
  level(): number {
    this.analyser.getFloatTimeDomainData(this.samples);
    let sum = 0;
    for (const s of this.samples) {
      sum += s * s;
    }
    return Math.sqrt(sum / this.samples.length);
  }

  private account(now: number): void {
    while (this.scheduled.length > 0 && (this.scheduled[0] as [number, number])[0] <= now) {
      this.playedS += (this.scheduled.shift() as [number, number])[1];
    }
  }

  destroy(): void {
    if (this.destroyed) {
      return;
    }
    this.destroyed = true;
    void this.ctx.close().catch(() => undefined);
  }
}
