/**
 * signaling — the device side of docs/PROTOCOL.md §2: an MQTT client that receives app
 * offers, candidates, answers and byes on `iv/<deviceId>/peer/+/up`, checks them
 * (shape, size, topic/peer match, access token, replay), and publishes answers,
 * candidates, offers, refusals and byes on `.../down`.
 *
 * Owns: the MQTT connection (reconnects by itself, or at once on reconnect()), the replay guard.
 * Must never: pass a request that failed a check to its handler (refusals go straight
 * back to the app), or throw on anything an app sends.
 */
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type { IvErrorCode } from '../../runtime/errors.js';
import { RequestGuard, verifyToken, type Right, type TokenClaims } from './access-token.js';

export const MAX_SIGNAL_BYTES = 64 * 1024;
const PEER_ID = /^[A-Za-z0-9_.:-]{1,64}$/;

export interface SignalingHandler {
  /** A verified offer. The handler answers with `sendAnswer` (or `refuse`). */
  offer(peer: string, msg: { requestId: string; sdp: string; claims: TokenClaims }): void;
  candidate(peer: string, candidate: string, mid: string): void;
  answer(peer: string, msg: { requestId: string; sdp: string }): void;
  bye(peer: string): void;
}

export interface SignalingOptions {
  url: string;
  deviceId: string;
  secret: string | Buffer;
  handler: SignalingHandler;
  /** Counted refusals are reported here (tests, metrics). */
  onRefused?: (peer: string, code: IvErrorCode, reason: string) => void;
  /** More MQTT options (credentials, TLS files) for an external broker. */
  connectOptions?: Omit<IClientOptions, 'clientId' | 'clean'>;
  /** Given: a broker that cannot be reached at start is retried (each failure reported here) instead of failing whenReady(). */
  onConnectError?: (err: Error) => void;
}

type Up = { type?: unknown; peer?: unknown; token?: unknown; requestId?: unknown; ts?: unknown; sdp?: unknown; candidate?: unknown; mid?: unknown };

export class SignalingServer {
  private readonly client: MqttClient;
  private readonly guard = new RequestGuard();
  private readonly prefix: string;
  private ready: Promise<void>;

  constructor(private readonly opts: SignalingOptions) {
    this.prefix = `iv/${opts.deviceId}/peer/`;
    this.client = connect(opts.url, { reconnectPeriod: 1_000, connectTimeout: 10_000, ...opts.connectOptions, clientId: `ivgw-${opts.deviceId}`, clean: true });
    this.ready = new Promise((resolve, reject) => {
      this.client.once('connect', () => {
        this.client.subscribe(`${this.prefix}+/up`, { qos: 1 }, (err) => (err ? reject(err) : resolve()));
      });
      const onError = opts.onConnectError;
      if (onError) {
        // retried with backoff (2, 4, 8, then every 10 s) until the broker appears
        const retry = (err: Error): void => {
          this.client.options.reconnectPeriod = Math.min(10_000, Math.max(1_000, (this.client.options.reconnectPeriod ?? 1_000) * 2));
          onError(err);
        };
        this.client.on('error', retry);
        this.client.once('connect', () => {
          this.client.off('error', retry);
          this.client.options.reconnectPeriod = 1_000;
        });
      } else {
        this.client.once('error', reject);
      }
    });
    this.client.on('message', (topic, payload) => this.onMessage(topic, payload));
  }

  /** Resolves once connected and subscribed. */
  whenReady(): Promise<void> {
    return this.ready;
  }

  private down(peer: string, msg: Record<string, unknown>): void {
    this.client.publish(`${this.prefix}${peer}/down`, JSON.stringify(msg), { qos: 1 });
  }

  sendAnswer(peer: string, requestId: string, sdp: string): void {
    this.down(peer, { type: 'answer', requestId, sdp });
  }

  sendCandidate(peer: string, candidate: string, mid: string): void {
    this.down(peer, { type: 'candidate', candidate, mid });
  }

  sendOffer(peer: string, requestId: string, sdp: string, iceRestart: boolean): void {
    this.down(peer, { type: 'offer', requestId, sdp, iceRestart });
  }

  refuse(peer: string, requestId: string | undefined, code: IvErrorCode, reason: string): void {
    this.opts.onRefused?.(peer, code, reason);
    if (requestId !== undefined) {
      this.down(peer, { type: 'refused', requestId, code, reason });
    }
  }

  bye(peer: string, reason: string): void {
    this.down(peer, { type: 'bye', reason });
  }

  /**
   * Drop the broker connection now and reconnect (after the device's address changed:
   * the old TCP connection would otherwise linger until MQTT's keep-alive notices);
   * resolves once subscribed again, so that the apps' answers are not published into
   * the gap (the device's session is clean: the broker keeps nothing for it meanwhile).
   */
  async reconnect(timeoutMs = 10_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const connected = new Promise<void>((resolve, reject) => {
      this.client.once('connect', () => resolve());
      timer = setTimeout(() => reject(new Error(`signaling: no broker connection within ${timeoutMs} ms`)), timeoutMs);
    });
    this.client.stream?.destroy();
    try {
      await connected;
      await this.client.subscribeAsync(`${this.prefix}+/up`, { qos: 1 });
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.client.end(false, {}, () => resolve()));
  }

  /** Check a later request (open, voice, command) against the right it needs. */
  static allows(claims: TokenClaims, right: Right): boolean {
    return claims.rights.includes(right) && claims.expires > Date.now() / 1000;
  }

  private onMessage(topic: string, payload: Buffer): void {
    const peer = topic.slice(this.prefix.length, -'/up'.length);
    if (!PEER_ID.test(peer)) {
      this.opts.onRefused?.(peer, 'IV_ERR_INVALID_PARAM', 'peer id in the topic is not valid');
      return;
    }
    if (payload.length > MAX_SIGNAL_BYTES) {
      this.refuse(peer, undefined, 'IV_ERR_INVALID_PARAM', `message of ${payload.length} bytes exceeds ${MAX_SIGNAL_BYTES}`);
      return;
    }
    let msg: Up;
    try {
      msg = JSON.parse(payload.toString('utf8')) as Up;
    } catch {
      this.refuse(peer, undefined, 'IV_ERR_INVALID_PARAM', 'message is not JSON');
      return;
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
      this.refuse(peer, undefined, 'IV_ERR_INVALID_PARAM', 'message is not a JSON object');
      return;
    }
    const requestId = typeof msg.requestId === 'string' ? msg.requestId : undefined;
    const bad = (field: string, why: string): void => this.refuse(peer, requestId, 'IV_ERR_INVALID_PARAM', `${field}: ${why}`);
    if (msg.peer !== peer) {
      bad('peer', 'does not match the topic');
      return;
    }
    switch (msg.type) {
      case 'offer': {
        if (typeof msg.sdp !== 'string' || !msg.sdp.startsWith('v=0')) {
          bad('sdp', 'expected an SDP offer');
          return;
        }
        const replay = this.guard.check(msg.requestId, msg.ts);
        if (!replay.ok) {
          this.refuse(peer, requestId, replay.code, replay.reason);
          return;
        }
        const verdict = this.verifyAny(msg.token, peer);
        if (!verdict.ok) {
          this.refuse(peer, requestId, verdict.code, verdict.reason);
          return;
        }
        this.opts.handler.offer(peer, { requestId: requestId as string, sdp: msg.sdp, claims: verdict.claims });
        return;
      }
      case 'answer': {
        if (typeof msg.sdp !== 'string' || !msg.sdp.startsWith('v=0') || typeof msg.requestId !== 'string') {
          bad(typeof msg.requestId !== 'string' ? 'requestId' : 'sdp', typeof msg.requestId !== 'string' ? 'missing' : 'expected an SDP answer');
          return;
        }
        const verdict = this.verifyAny(msg.token, peer);
        if (!verdict.ok) {
          this.refuse(peer, requestId, verdict.code, verdict.reason);
          return;
        }
        this.opts.handler.answer(peer, { requestId: msg.requestId, sdp: msg.sdp });
        return;
      }
      case 'candidate':
        if (typeof msg.candidate !== 'string' || typeof msg.mid !== 'string') {
          bad(typeof msg.candidate !== 'string' ? 'candidate' : 'mid', 'expected a string');
          return;
        }
        this.opts.handler.candidate(peer, msg.candidate, msg.mid);
        return;
      case 'bye':
        this.opts.handler.bye(peer);
        return;
      default:
        bad('type', `unknown message type ${JSON.stringify(msg.type)}`);
    }
  }

  /** An offer needs a valid token granting at least one right. */
  private verifyAny(token: unknown, peer: string): ReturnType<typeof verifyToken> {
    let last: ReturnType<typeof verifyToken> | undefined;
    for (const right of ['live', 'playback', 'voice', 'command'] as const) {
      last = verifyToken(this.opts.secret, token, { deviceId: this.opts.deviceId, peerId: peer, right });
      if (last.ok || last.code !== 'IV_ERR_AUTH_RIGHTS') {
        return last;
      }
    }
    return last as ReturnType<typeof verifyToken>;
  }
}
