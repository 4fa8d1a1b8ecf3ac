/**
 * signaling-client — the app's end of the MQTT signaling (docs/PROTOCOL.md §2): connects
 * and subscribes to its `down` topic, publishes typed messages on `up`, and hands every
 * device message, parsed once by shared/protocol/signaling-messages.ts, to its handler.
 * Transport-neutral: Node uses mqtt.js over TCP/TLS, the browser client the same code
 * with mqtt.js's browser build over WebSocket (`ws://`, `wss://` URLs).
 * Owns: the app's MQTT connection (no reconnects). Must never: pass on a malformed
 * message, or throw on anything the device (or anyone on the topic) sends.
 */
import mqttjs, { type MqttClient } from 'mqtt';
import { IvError } from '../runtime/errors.js';
import { randomHex } from './signal-router.js';
import { tokenProblem } from '../shared/protocol/token-claims.js';
import { downTopic, encodeSignal, parseDeviceSignal, upTopic, type AppSignal, type DeviceSignal } from '../shared/protocol/signaling-messages.js';

export class SignalingClient {
  private constructor(private readonly mqtt: MqttClient, private readonly up: string, private readonly peerId: string) {}

  /** Connected and subscribed; a failure ends the MQTT connection and rejects. */
  static async connect(opts: { url: string; deviceId: string; peerId: string; token: string; timeoutMs: number }): Promise<SignalingClient> {
    // writeCache off: no 65,536-Buffer number cache (~7 MB) in every process or load worker for a few packets
    // credentials: the embedded broker (and a broker set up per docs/DEPLOY.md) admits an app by peer id + token
    const mqtt = mqttjs.connect(opts.url, { clientId: `app-${opts.peerId}-${randomHex(4)}`, writeCache: false, reconnectPeriod: 0, connectTimeout: opts.timeoutMs, username: opts.peerId, password: opts.token });
    try {
      await new Promise<void>((resolve, reject) => {
        mqtt.once('connect', () => resolve());
        // unreachable without an error event (a WebSocket that fails in a browser): the first of the two wins
        mqtt.once('close', () => reject(new IvError('IV_ERR_CLOSED', `no MQTT connection to ${opts.url} (the broker is unreachable or closed it)`)));
        mqtt.once('error', (err: Error & { code?: unknown }) => {
          if (err.code !== 4 && err.code !== 5) {
            reject(err);
            return;
          }
          // the broker gives no reason (the code stays the broker's refusal); the token's own claims often tell which it was
          const why = tokenProblem(opts.token, opts);
          reject(new IvError('IV_ERR_AUTH_INVALID', `the broker refused this app (user name = peer id ${opts.peerId}, password = its token): ${err.message}${why ? `; ${why.reason}` : ''}`));
        });
      });
      await mqtt.subscribeAsync(downTopic(opts.deviceId, opts.peerId), { qos: 1 });
    } catch (err) {
      mqtt.end(true);
      throw err;
    }
    return new SignalingClient(mqtt, upTopic(opts.deviceId, opts.peerId), opts.peerId);
  }

  /** Every well-formed message from the device, in arrival order. */
  onMessage(handler: (msg: DeviceSignal) => void): void {
    this.mqtt.on('message', (_topic, payload) => {
      const msg = parseDeviceSignal(payload);
      if (msg) {
        handler(msg);
      }
    });
  }

  publish(msg: AppSignal): void {
    this.mqtt.publish(this.up, encodeSignal(msg), { qos: 1 });
  }

  /**
   * Tell the device the app leaves the connection `requestId` names (at most once, no
   * retry); end() after it still delivers it.
   */
  bye(requestId: string | undefined): void {
    try {
      this.mqtt.publish(this.up, encodeSignal(requestId === undefined ? { type: 'bye', peer: this.peerId } : { type: 'bye', peer: this.peerId, requestId }), { qos: 0 });
    } catch {
      // broker gone
    }
  }

  /** Disconnect: what is already published (a bye) is flushed first, never waited on for long. */
  end(): void {
    const mqtt = this.mqtt;
    const force = setTimeout(() => mqtt.end(true), 1_000);
    (force as unknown as { unref?: () => void }).unref?.(); // Node; a browser's timer is a number
    mqtt.end(false, {}, () => clearTimeout(force));
  }
}
