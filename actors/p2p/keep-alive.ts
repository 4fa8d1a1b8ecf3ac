/**
 * keep-alive — the SDK's P2P keep-alive (p2p_keep_alive_cfg): every `timeInterS`
 * seconds a round of up to `maxAttemptNum` STUN Binding requests to the P2P (STUN)
 * server, one after the other until one is answered. A round with an answer means the
 * network is fine; the mapped address it reports is the device's public address.
 *
 *   first round fails        → connect-fail (retry with backoff 1, 2, 4 … 30 s)
 *   first answered round     → ready
 *   mapped address differs   → addr-changed (the service renegotiates every peer)
 *   a round fully lost       → error, once per outage (the service restarts the
 *                              peers whose connection is gone)
 *   answered again after it  → addr-changed if the address moved, else ready
 *
 * Owns: one UDP socket (re-created after a socket error, e.g. the address it used is
 * gone) and the round timer. Must never: emit the same state twice in a row, or keep
 * the process alive by itself (socket and timers are unref'd).
 */
import { createSocket, type Socket } from 'node:dgram';
import { decodeStun, encodeBindingRequest, formatMapped, newTransactionId, parseStunUrl, BINDING_SUCCESS, type MappedAddress } from './stun.js';
import { invalidParam } from '../../runtime/errors.js';

export type NetworkEvent =
  /** `mapped`: the STUN-mapped address; absent when keep-alive is off and the broker connection judged the network. */
  | { type: 'ready'; mapped?: string }
  | { type: 'connect-fail'; reason: string; retryInMs: number }
  | { type: 'error'; reason: string }
  | { type: 'addr-changed'; from: string; to: string };

/** The SDK's p2p_keep_alive_cfg ranges: seconds between rounds, probes per round (0 in either turns it off where that is allowed). */
export const KEEP_ALIVE_MAX = { timeInterS: 255, maxAttemptNum: 10 } as const;

/** The one check of a keep-alive configuration; `min` 0 where 0 means "off", 1 for a running keep-alive. */
export function keepAliveProblem(cfg: { timeInterS: number; maxAttemptNum: number }, min: 0 | 1): { field: string; message: string } | undefined {
  if (!Number.isInteger(cfg.timeInterS) || cfg.timeInterS < min || cfg.timeInterS > KEEP_ALIVE_MAX.timeInterS) {
    return { field: 'keepAlive.timeInterS', message: `expected ${min}..${KEEP_ALIVE_MAX.timeInterS} seconds, got ${cfg.timeInterS}` };
  }
  if (!Number.isInteger(cfg.maxAttemptNum) || cfg.maxAttemptNum < min || cfg.maxAttemptNum > KEEP_ALIVE_MAX.maxAttemptNum) {
    return { field: 'keepAlive.maxAttemptNum', message: `expected ${min}..${KEEP_ALIVE_MAX.maxAttemptNum}, got ${cfg.maxAttemptNum}` };
  }
  return undefined;
}

export interface KeepAliveOptions {
  /** `stun:host[:port]` */
  server: string;
  timeInterS: number;
  maxAttemptNum: number;
  /** Local address the probes leave from (default: any). */
  bindAddress?: string;
  /** How long one probe waits for its answer (default: the interval shared by the attempts, 200..1000 ms). */
  attemptTimeoutMs?: number;
  onEvent(e: NetworkEvent): void;
}

const MAX_BACKOFF_MS = 30_000;

export class KeepAlive {
  private socket: Socket | undefined;
  /** The socket was re-created: the next answer is compared by address only (a new socket has a new port). */
  private freshSocket = false;
  private state: 'starting' | 'up' | 'down' = 'starting';
  private mapped: MappedAddress | undefined;
  private timer: NodeJS.Timeout | undefined;
  private waiting: { tid: Buffer; done: (m: MappedAddress | undefined) => void } | undefined;
  private backoffMs = 1_000;
  private stopped = false;
  private readonly server: { host: string; port: number };
  /** Probes sent / answered, rounds lost (for status and tests). */
  readonly counts = { probes: 0, answers: 0, lostRounds: 0 };

  constructor(private readonly opts: KeepAliveOptions) {
    const server = parseStunUrl(opts.server);
    if (!server) {
      throw invalidParam('keepAlive.server', `expected stun:host[:port], got ${JSON.stringify(opts.server)}`);
    }
    const problem = keepAliveProblem(opts, 1);
    if (problem) {
      throw invalidParam(problem.field, problem.message);
    }
    this.server = server;
  }

  /** The last mapped address (`ip:port`), once a round was answered. */
  get address(): string | undefined {
    return this.mapped && formatMapped(this.mapped);
  }

  get status(): 'starting' | 'up' | 'down' {
    return this.state;
  }

  start(): void {
    void this.round();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.waiting?.done(undefined);
    this.socket?.close();
    this.socket = undefined;
  }

  private get attemptTimeoutMs(): number {
    return this.opts.attemptTimeoutMs ?? Math.min(1_000, Math.max(200, Math.floor((this.opts.timeInterS * 1000) / (this.opts.maxAttemptNum + 1))));
  }

  private openSocket(): Socket {
    if (this.socket) {
      return this.socket;
    }
    const s = createSocket({ type: this.server.host.includes(':') ? 'udp6' : 'udp4' });
    s.on('message', (msg) => {
      const m = decodeStun(msg);
      const w = this.waiting;
      if (m.ok && m.type === BINDING_SUCCESS && w && m.transactionId.equals(w.tid)) {
        w.done(m.mapped);
      }
    });
    s.on('error', () => this.dropSocket(s));
    if (this.opts.bindAddress) {
      s.bind(0, this.opts.bindAddress);
    }
    s.unref();
    this.socket = s;
    return s;
  }

  private dropSocket(s: Socket): void {
    if (this.socket === s) {
      this.socket = undefined;
      this.freshSocket = true;
      try {
        s.close();
      } catch {
        // already closed
      }
    }
  }

  /** One probe: resolves with the mapped address, or undefined when lost. */
  private probe(): Promise<MappedAddress | undefined> {
    return new Promise((resolve) => {
      const tid = newTransactionId();
      const timer = setTimeout(() => done(undefined), this.attemptTimeoutMs);
      timer.unref();
      const done = (m: MappedAddress | undefined): void => {
        clearTimeout(timer);
        if (this.waiting?.tid === tid) {
          this.waiting = undefined;
        }
        resolve(m);
      };
      this.waiting = { tid, done };
      const s = this.openSocket();
      this.counts.probes++;
      s.send(encodeBindingRequest(tid), this.server.port, this.server.host, (err) => {
        if (err) {
          this.dropSocket(s);
        }
      });
    });
  }

  private async round(): Promise<void> {
    const started = Date.now();
    let mapped: MappedAddress | undefined;
    for (let attempt = 0; attempt < this.opts.maxAttemptNum && !mapped && !this.stopped; attempt++) {
      mapped = await this.probe();
    }
    if (this.stopped) {
      return;
    }
    let next = this.opts.timeInterS * 1000 - (Date.now() - started);
    if (mapped) {
      this.counts.answers++;
      this.answered(mapped);
    } else {
      this.counts.lostRounds++;
      const reason = `no answer from ${this.opts.server} to ${this.opts.maxAttemptNum} probe(s) of ${this.attemptTimeoutMs} ms`;
      if (this.mapped === undefined) {
        next = this.backoffMs;
        this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs * 2);
        this.opts.onEvent({ type: 'connect-fail', reason, retryInMs: next });
      } else if (this.state === 'up') {
        this.state = 'down';
        this.opts.onEvent({ type: 'error', reason });
      }
    }
    this.timer = setTimeout(() => void this.round(), Math.max(0, next));
    this.timer.unref();
  }

  private answered(m: MappedAddress): void {
    const before = this.mapped;
    const byAddressOnly = this.freshSocket;
    this.freshSocket = false;
    this.mapped = m;
    this.backoffMs = 1_000;
    const moved = before !== undefined && (before.address !== m.address || (!byAddressOnly && before.port !== m.port));
    if (moved) {
      this.state = 'up';
      this.opts.onEvent({ type: 'addr-changed', from: formatMapped(before), to: formatMapped(m) });
    } else if (this.state !== 'up') {
      this.state = 'up';
      this.opts.onEvent({ type: 'ready', mapped: formatMapped(m) });
    }
  }
}
