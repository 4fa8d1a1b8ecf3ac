/**
 * mic-intercom — the page's intercom: the microphone (getUserMedia) through an
 * AudioWorklet that low-passes and resamples it to 8 kHz mono and cuts 20 ms frames
 * (160 samples), each encoded to G.711 (media/g711.ts: A-law, or µ-law when the device's
 * audio is µ-law) and sent on the `voice` channel (BrowserVoice): `voice_start` with
 * `action=voice&codec=…&rate=8000&channels=1` first, the end marker and `voice_stop` on
 * stop. The format is what `ivgw run`, `ivgw load` and the SDK's G.711 cameras expect
 * (docs/PROTOCOL.md §3).
 * Owns: the microphone track, its AudioContext and worklet. Must never: keep the
 * microphone open after stop(), or send a frame before `voice_start` was answered.
 */
import { pcmToG711 } from '../../media/g711.js';
import type { BrowserVoice } from './browser-voice.js';

const RATE = 8000;
const FRAME = 160;

/** Runs in the AudioWorkletGlobalScope (its `sampleRate` global is the context's rate). */
const WORKLET = `
class IvgwMic extends AudioWorkletProcessor {
  constructor() {
    super();
    this.step = sampleRate / ${RATE};
    this.acc = 0; this.n = 0; this.pos = 0;
    this.frame = new Int16Array(${FRAME}); this.filled = 0;
  }
  process(inputs) {
    const input = inputs[0] && inputs[0][0];
    if (!input) return true;
    for (let i = 0; i < input.length; i++) {
      this.acc += input[i]; this.n++; this.pos += 1;
      if (this.pos >= this.step) {
        this.pos -= this.step;
        const v = Math.max(-1, Math.min(1, this.acc / this.n));
        this.acc = 0; this.n = 0;
        this.frame[this.filled++] = Math.round(v * 32767);
        if (this.filled === ${FRAME}) {
          this.port.postMessage(this.frame.buffer, [this.frame.buffer]);
          this.frame = new Int16Array(${FRAME}); this.filled = 0;
        }
      }
    }
    return true;
  }
}
registerProcessor('ivgw-mic', IvgwMic);
`;

export class MicIntercom {
  state: 'off' | 'starting' | 'on' | 'error' = 'off';
  error = '';
  readonly params: string;
  private stream: MediaStream | undefined;
  private ctx: AudioContext | undefined;

  constructor(private readonly voice: BrowserVoice, private readonly codec: 'g711a' | 'g711u') {
    this.params = `action=voice&codec=${codec}&rate=${RATE}&channels=1`;
  }

  /** Open the microphone and start talking (call from a click: browsers ask for permission). */
  async start(): Promise<void> {
    if (this.state === 'on' || this.state === 'starting') {
      return;
    }
    this.state = 'starting';
    this.error = '';
    try {
      if (!window.isSecureContext || !navigator.mediaDevices?.getUserMedia) {
        throw new Error('the microphone needs a secure page: open the viewer over https:// or from http://localhost');
      }
      this.stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true } });
      this.ctx = new AudioContext();
      const url = URL.createObjectURL(new Blob([WORKLET], { type: 'text/javascript' }));
      try {
        await this.ctx.audioWorklet.addModule(url);
      } finally {
        URL.revokeObjectURL(url);
      }
      await this.voice.start(this.params);
      const node = new AudioWorkletNode(this.ctx, 'ivgw-mic', { numberOfInputs: 1, numberOfOutputs: 0, channelCount: 1, channelCountMode: 'explicit' });
      node.port.onmessage = (e: MessageEvent<ArrayBuffer>) => {
        if (this.state === 'on') {
          this.voice.send(pcmToG711(new Uint8Array(e.data), this.codec));
        }
      };
      this.ctx.createMediaStreamSource(this.stream).connect(node);
      await this.ctx.resume();
      this.state = 'on';
    } catch (err) {
      this.release();
      this.state = 'error';
      const e = err as { name?: unknown; message?: unknown; code?: unknown };
      this.error = e.name === 'NotAllowedError' ? 'the microphone permission was refused' : `${typeof e.code === 'string' ? `${e.code}: ` : ''}${typeof e.message === 'string' ? e.message : String(err)}`;
    }
  }

  /** Stop talking: the microphone closed, the end marker and `voice_stop` sent. */
  async stop(): Promise<void> {
    if (this.state !== 'on') {
      return;
    }
    this.state = 'off';
    this.release();
    await this.voice.stop();
  }

  private release(): void {
    for (const t of this.stream?.getTracks() ?? []) {
      t.stop();
    }
    this.stream = undefined;
    void this.ctx?.close().catch(() => undefined);
    this.ctx = undefined;
  }
}
