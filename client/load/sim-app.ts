/**
 * sim-app — one simulated app of `ivgw load`: runs its scenario against the device with
 * the real client (AppClient, the protocol of docs/PROTOCOL.md) and keeps its result:
 * connects, time to first frame, bytes, integrity (the stream receivers' checks),
 * capture-to-receive latency, command round trips, errors.
 *
 * Scenarios: `live` watches a channel; `playback` replays the channel's recording from a
 * minute before the run started, again each time it ends; `voice` watches and talks
 * (G.711 A-law, 50 frames/s); `command` watches and sends a command every second
 * (checking the reply echoes it); `stall` watches but stops acknowledging for
 * `stallSeconds` after every 5 s (the device's watermarks should pause it, never the
 * others); `churn` watches for 3..8 s, leaves, and joins again 0.5..1.5 s later; `idle`
 * stays connected (control channel, clock pings) without opening a stream.
 * Every failure is counted and the app tries again a second later while time is left.
 * Owns: its client, receivers and timers. Must never: throw out of run().
 */
import { mintToken } from '../../shared/protocol/access-token.js';
import { RIGHTS } from '../../shared/protocol/rights.js';
import { pcmToG711 } from '../../media/g711.js';
import { IvError } from '../../runtime/errors.js';
import { AppClient } from '../app-client.js';
import type { StreamReceiver } from '../stream-receiver.js';
import { Histogram } from './histogram.js';
import type { LoadAppEvent, LoadAppResult, LoadAppSpec, LoadStart } from './load-types.js';

export interface SimAppContext {
  start: LoadStart;
  onLatency(ms: number): void;
  onEvent(e: LoadAppEvent): void;
}

const ACK_BEFORE_STALL_MS = 5_000;
const COMMAND_EVERY_MS = 1_000;
const VOICE_FRAME_MS = 20;
const PLAYBACK_FROM_S = 60;
/** How long a playback app waits for the recording to exist before it counts an error. */
const PLAYBACK_WAIT_MS = 15_000;

/** 20 ms of a 440 Hz tone at 8 kHz, A-law. */
const VOICE_FRAME = ((): Uint8Array => {
  const pcm = new Int16Array(160);
  for (let i = 0; i < pcm.length; i++) {
    pcm[i] = Math.round(8_000 * Math.sin((2 * Math.PI * 440 * i) / 8_000));
  }
  return pcmToG711(new Uint8Array(pcm.buffer), 'g711a');
})();

export class SimApp {
  private readonly receivers: StreamReceiver[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private client: AppClient | undefined;
  private stopped = false;
  private readonly wakers = new Set<() => void>();
  private seed: number;
  private firstFrameSeen = false;
  private receivingMs = 0;
  readonly latency = new Histogram();
  private readonly r: LoadAppResult;

  constructor(readonly spec: LoadAppSpec, private readonly ctx: SimAppContext) {
    this.seed = (spec.index + 1) * 2_654_435_761;
    this.r = {
      index: spec.index, peer: spec.peer, scenario: spec.scenario, channel: spec.channel, sessions: 0, connects: 0, connectRetries: 0, connectMs: [], firstFrameMs: -1,
      seconds: 0, bytes: 0, videoFrames: 0, audioFrames: 0, gaps: 0, pauseGaps: 0, resumes: 0, violations: 0, violationSamples: [], errors: 0, errorSamples: [],
      latency: [], commandRttMs: [], voiceFrames: 0, watermarkEvents: 0, playbackRounds: 0,
    };
  }

  get connected(): boolean {
    return this.client !== undefined;
  }

  /** Bytes received so far over all sessions. */
  bytes(): number {
    return this.receivers.reduce((n, r) => n + r.stats.bytes, 0);
  }

  videoFrames(): number {
    return this.receivers.reduce((n, r) => n + r.stats.videoFrames, 0);
  }

  /** End now (Ctrl-C): the running session closes and run() returns. */
  stop(): void {
    this.stopped = true;
    for (const wake of [...this.wakers]) {
      wake();
    }
  }

  /** Run the scenario until `endAt` (unix ms). */
  async run(endAt: number): Promise<void> {
    while (!this.stopped && Date.now() < endAt - 250) {
      const churn = this.spec.scenario === 'churn';
      const sessionEnd = churn ? Math.min(endAt, Date.now() + this.rand(3_000, 8_000)) : endAt;
      try {
        await this.session(sessionEnd);
        if (churn) {
          await this.sleepUntil(Math.min(endAt, Date.now() + this.rand(500, 1_500)));
        }
      } catch (err) {
        this.error(err);
        await this.sleepUntil(Math.min(endAt, Date.now() + 1_000));
      }
    }
    this.ctx.onEvent({ index: this.spec.index, type: 'done' });
  }

  result(): LoadAppResult {
    const r = this.r;
    r.bytes = this.bytes();
    r.videoFrames = this.videoFrames();
    r.audioFrames = this.receivers.reduce((n, x) => n + x.stats.audioFrames, 0);
    r.gaps = this.receivers.reduce((n, x) => n + x.stats.gaps, 0);
    r.pauseGaps = this.receivers.reduce((n, x) => n + x.stats.pauseGaps, 0);
    r.resumes = this.receivers.reduce((n, x) => n + x.stats.resumes, 0);
    const violations = this.receivers.flatMap((x) => x.stats.violations.map((v) => `stream ${x.stream}: ${v}`));
    r.violations = violations.length;
    r.violationSamples = violations.slice(0, 20);
    r.seconds = Math.round(this.receivingMs) / 1000;
    r.latency = this.latency.pairs();
    return r;
  }

  private async session(sessionEnd: number): Promise<void> {
    const { start } = this.ctx;
    this.r.sessions++;
    const token = mintToken(start.secret, { deviceId: start.device, peerId: this.spec.peer, expires: Math.floor(sessionEnd / 1000) + 3_600, rights: [...RIGHTS] });
    const client = await AppClient.connect({ url: start.broker, deviceId: start.device, peerId: this.spec.peer, token, bindAddress: start.bind, timeoutMs: 30_000 });
    this.client = client;
    this.r.connects++;
    this.r.connectRetries += client.connectRetries;
    this.r.connectMs.push(Math.round(client.connectMs * 10) / 10);
    this.ctx.onEvent({ index: this.spec.index, type: 'connected', ms: client.connectMs });
    let lost: string | undefined;
    let offClosed: () => void = () => undefined;
    const lostOrEnded = new Promise<void>((resolve) => {
      offClosed = client.on('closed', (reason) => {
        lost = reason;
        resolve();
      });
      this.closedStream = (stream, reason) => {
        if (this.spec.scenario !== 'playback') {
          lost = `the device closed stream ${stream}: ${reason}`;
          resolve();
        }
      };
    });
    client.on('event', (e) => {
      if (e.op !== 'event') {
        return;
      }
      if (e.event === 'watermark') {
        this.r.watermarkEvents++;
      } else if (e.event === 'stream_closed') {
        this.closedStream?.(e.stream, e.reason);
        this.playbackEnded?.(e.stream);
      }
    });
    const began = performance.now();
    try {
      await client.syncClock(3);
      if (this.spec.scenario === 'playback') {
        await this.playback(client, sessionEnd, lostOrEnded);
      } else if (this.spec.scenario === 'idle') {
        await Promise.race([this.sleepUntil(sessionEnd), lostOrEnded]);
      } else {
        const receiver = await this.watch(client, `action=live&channel=${this.spec.channel}`);
        if (this.spec.scenario === 'command') {
          void this.commands(client, sessionEnd);
        } else if (this.spec.scenario === 'voice') {
          await client.startVoice();
          this.every(VOICE_FRAME_MS, () => {
            client.sendVoice(VOICE_FRAME);
            this.r.voiceFrames++;
          });
        } else if (this.spec.scenario === 'stall') {
          this.stallCycle(client, receiver.stream);
        }
        await Promise.race([this.sleepUntil(sessionEnd), lostOrEnded]);
        if (this.spec.scenario === 'voice' && lost === undefined) {
          this.clearTimers();
          await client.stopVoice();
        }
      }
      if (lost !== undefined) {
        throw new IvError('IV_ERR_CLOSED', `connection lost: ${lost}`);
      }
    } finally {
      this.receivingMs += performance.now() - began;
      this.clearTimers();
      this.closedStream = undefined;
      this.playbackEnded = undefined;
      offClosed();
      client.close();
      this.client = undefined;
    }
  }

  private closedStream: ((stream: number, reason: string) => void) | undefined;
  private playbackEnded: ((stream: number) => void) | undefined;

  private async watch(client: AppClient, params: string): Promise<StreamReceiver> {
    const receiver = await client.open(params, { timeoutMs: 10_000 });
    this.receivers.push(receiver);
    receiver.onLatency = (ms) => {
      this.latency.add(ms);
      this.ctx.onLatency(ms);
    };
    if (!this.firstFrameSeen) {
      receiver.onTag = (tag) => {
        if (tag.kind === 'video' && !tag.config && !this.firstFrameSeen) {
          this.firstFrameSeen = true;
          this.r.firstFrameMs = Math.round(receiver.stats.firstFrameMs * 10) / 10;
          this.ctx.onEvent({ index: this.spec.index, type: 'first-frame', ms: receiver.stats.firstFrameMs });
          receiver.onTag = undefined;
        }
      };
    }
    return receiver;
  }

  /** Replay the recording from a minute before the run; again each time it ends. */
  private async playback(client: AppClient, sessionEnd: number, lostOrEnded: Promise<void>): Promise<void> {
    const from = Math.floor(this.ctx.start.t0 / 1000) - PLAYBACK_FROM_S;
    const waitUntil = Date.now() + PLAYBACK_WAIT_MS;
    while (!this.stopped && Date.now() < sessionEnd - 250) {
      let receiver: StreamReceiver;
      try {
        receiver = await this.watch(client, `action=playback&channel=${this.spec.channel}&start=${from}`);
      } catch (err) {
        // right after the gateway started there may be no recording yet
        if (err instanceof IvError && err.code === 'IV_ERR_INVALID_PARAM' && Date.now() < waitUntil) {
          await this.sleepUntil(Math.min(sessionEnd, Date.now() + 1_000));
          continue;
        }
        throw err;
      }
      this.r.playbackRounds++;
      const ended = new Promise<void>((resolve) => {
        this.playbackEnded = (stream) => {
          if (stream === receiver.stream) {
            resolve();
          }
        };
      });
      await Promise.race([this.sleepUntil(sessionEnd), lostOrEnded, ended]);
      if (!this.client) {
        return;
      }
    }
  }

  private async commands(client: AppClient, sessionEnd: number): Promise<void> {
    for (let n = 1; !this.stopped && this.client === client && Date.now() < sessionEnd - COMMAND_EVERY_MS; n++) {
      const text = `load ${this.spec.peer} #${n}`;
      const t = performance.now();
      try {
        const reply = await client.command(text, 5_000);
        this.r.commandRttMs.push(Math.round((performance.now() - t) * 10) / 10);
        const echo = (JSON.parse(new TextDecoder().decode(reply)) as { echo?: unknown }).echo;
        if (echo !== text) {
          throw new IvError('IV_ERR_PROTOCOL', `command reply does not echo ${JSON.stringify(text)}: ${new TextDecoder().decode(reply).slice(0, 120)}`);
        }
      } catch (err) {
        if (this.client !== client) {
          return; // the session ended under the request
        }
        this.error(err);
      }
      await this.sleepUntil(Math.min(sessionEnd, Date.now() + COMMAND_EVERY_MS));
    }
  }

  /** Ack for 5 s, then stop acking for stallSeconds; repeat. */
  private stallCycle(client: AppClient, stream: number): void {
    const stall = (): void => {
      client.setAcking(stream, false);
      this.after(this.ctx.start.stallSeconds * 1000, () => {
        client.setAcking(stream, true);
        this.after(ACK_BEFORE_STALL_MS, stall);
      });
    };
    this.after(ACK_BEFORE_STALL_MS, stall);
  }

  private error(err: unknown): void {
    const e = err as { code?: unknown; message?: unknown };
    const code = typeof e.code === 'string' ? e.code : 'IV_ERR_INTERNAL';
    const message = typeof e.message === 'string' ? e.message : String(err);
    this.r.errors++;
    if (this.r.errorSamples.length < 20) {
      this.r.errorSamples.push({ code, message });
    }
    this.ctx.onEvent({ index: this.spec.index, type: 'error', code, message });
  }

  private every(ms: number, fn: () => void): void {
    const t = setInterval(() => {
      try {
        fn();
      } catch (err) {
        this.error(err);
      }
    }, ms);
    this.timers.add(t);
  }

  private after(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private clearTimers(): void {
    for (const t of this.timers) {
      clearTimeout(t);
    }
    this.timers.clear();
  }

  /** Sleep until `at` (unix ms) or stop(). */
  private sleepUntil(at: number): Promise<void> {
    if (this.stopped) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        this.wakers.delete(done);
        resolve();
      };
      const t = setTimeout(done, Math.max(0, at - Date.now()));
      this.wakers.add(done);
    });
  }

  /** Deterministic per app (the same run plan gives the same churn pattern). */
  private rand(min: number, max: number): number {
    this.seed = (this.seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return min + (this.seed / 2_147_483_648) * (max - min);
  }
}
