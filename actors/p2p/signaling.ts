/**
 * signaling — the device side of docs/PROTOCOL.md §2: an MQTT client that receives app
 * offers, candidates, answers and byes on `iv/<deviceId>/peer/+/up`, checks them
 * (shape, size and topic/peer match in shared/protocol/signaling-messages.ts; access
 * token and replay here), and publishes answers, candidates, offers, refusals and byes
 * on `.../down`.
 *
 * Owns: the MQTT connection (reconnects by itself, or at once on reconnect()), the replay guard.
 * Must never: pass a request that failed a check to its handler (refusals go straight
 * back to the app), or throw on anything an app sends.
 */
import type { IClientOptions, MqttClient } from 'mqtt';
import { connectMqtt } from './mqtt-connection.js';
import type { IvErrorCode } from '../../runtime/errors.js';
import { RequestGuard, verifyToken, type TokenClaims } from '../../shared/protocol/access-token.js';
import { RIGHTS } from '../../shared/protocol/rights.js';
import { PEER_ID, downTopic, encodeSignal, parseAppSignal, peerTopicPrefix, type DeviceSignal } from '../../shared/protocol/signaling-messages.js';

export interface SignalingHandler {
  /** A verified offer. The handler answers with `sendAnswer` (or `refuse`). */
  offer(peer: string, msg: { requestId: string; sdp: string; claims: TokenClaims }): void;
  /** `requestId`: the connection the app says the candidate belongs to (undefined: a v1 app, its current one). */
  candidate(peer: string, candidate: string, mid: string, requestId: string | undefined): void;
  answer(peer: string, msg: { requestId: string; sdp: string }): void;
  /** `requestId`: the connection the app leaves (undefined: a v1 app, whichever it has). */
  bye(peer: string, requestId: string | undefined): void;
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

export class SignalingServer {
  private readonly client: MqttClient;
  private readonly guard = new RequestGuard();
  private readonly prefix: string;
  private ready: Promise<void>;

  constructor(private readonly opts: SignalingOptions) {
    this.prefix = peerTopicPrefix(opts.deviceId);
    this.client = connectMqtt(opts.url, { reconnectPeriod: 1_000, connectTimeout: 10_000, writeCache: false, ...opts.connectOptions, clientId: `ivgw-${opts.deviceId}`, clean: true });
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

  /**
   * Call `fn` on every change of the broker connection after this call: false when it is
   * lost (the MQTT keep-alive or the socket says so), true when it is back.
   */
  onLink(fn: (up: boolean) => void): void {
    let up = this.client.connected;
    const set = (now: boolean): void => {
      if (now !== up) {
        up = now;
        fn(now);
      }
    };
    this.client.on('connect', () => set(true));
    this.client.on('offline', () => set(false));
    this.client.on('close', () => set(false));
  }

  /** Connected to the broker right now. */
  get connected(): boolean {
    return this.client.connected;
  }

  /** Resolves once connected and subscribed. */
  whenReady(): Promise<void> {
    return this.ready;
  }

  private down(peer: string, msg: DeviceSignal): void {
    this.client.publish(downTopic(this.opts.deviceId, peer), encodeSignal(msg), { qos: 1 });
  }

  sendAnswer(peer: string, requestId: string, sdp: string): void {
    this.down(peer, { type: 'answer', requestId, sdp });
  }

  /** A local candidate of the connection made by request `requestId`. */
  sendCandidate(peer: string, requestId: string | undefined, candidate: string, mid: string): void {
    this.down(peer, requestId === undefined ? { type: 'candidate', candidate, mid } : { type: 'candidate', requestId, candidate, mid });
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

  /** The device ends the app's connection (the one made by `requestId` when given: a replaced one). */
  bye(peer: string, reason: string, requestId?: string): void {
    this.down(peer, requestId === undefined ? { type: 'bye', reason } : { type: 'bye', requestId, reason });
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

  private onMessage(topic: string, payload: Buffer): void {
    const peer = topic.slice(this.prefix.length, -'/up'.length);
    if (!PEER_ID.test(peer)) {
      this.opts.onRefused?.(peer, 'IV_ERR_INVALID_PARAM', 'peer id in the topic is not valid');
      return;
    }
    const parsed = parseAppSignal(payload, peer);
    if (!parsed.ok) {
      this.refuse(peer, parsed.requestId, 'IV_ERR_INVALID_PARAM', parsed.reason);
      return;
    }
    const { msg, requestId } = parsed;
    switch (msg.type) {
      case 'offer': {
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
        const verdict = this.verifyAny(msg.token, peer);
        if (!verdict.ok) {
          this.refuse(peer, requestId, verdict.code, verdict.reason);
          return;
        }
        this.opts.handler.answer(peer, { requestId: msg.requestId, sdp: msg.sdp });
        return;
      }
      case 'candidate':
        this.opts.handler.candidate(peer, msg.candidate, msg.mid, requestId);
        return;
      case 'bye':
        this.opts.handler.bye(peer, requestId);
        return;
    }
  }

  /** An offer needs a valid token granting at least one right. */
  private verifyAny(token: unknown, peer: string): ReturnType<typeof verifyToken> {
    let last: ReturnType<typeof verifyToken> | undefined;
    for (const right of RIGHTS) {
      last = verifyToken(this.opts.secret, token, { deviceId: this.opts.deviceId, peerId: peer, right });
      if (last.ok || last.code !== 'IV_ERR_AUTH_RIGHTS') {
        return last;
      }
    }
    return last as ReturnType<typeof verifyToken>;
  }
}
