/**
 * signaling-client — the app's end of the MQTT signaling (docs/PROTOCOL.md §2): connects
 * and subscribes to its `down` topic, publishes typed messages on `up`, and hands every
 * device message, parsed once by shared/protocol/signaling-messages.ts, to its handler.
 * Owns: the app's MQTT connection (no reconnects). Must never: pass on a malformed
 * message, or throw on anything the device (or anyone on the topic) sends.
 */
import { randomBytes } from 'node:crypto';
import { connect, type MqttClient } from 'mqtt';
import { IvError } from '../runtime/errors.js';
import { downTopic, encodeSignal, parseDeviceSignal, upTopic, type AppSignal, type DeviceSignal } from '../shared/protocol/signaling-messages.js';

export class SignalingClient {
  private constructor(private readonly mqtt: MqttClient, private readonly up: string, private readonly peerId: string) {}

  /** Connected and subscribed; a failure ends the MQTT connection and rejects. */
  static async connect(opts: { url: string; deviceId: string; peerId: string; token: string; timeoutMs: number }): Promise<SignalingClient> {
    // credentials: the embedded broker (and a broker set up per docs/DEPLOY.md) admits an app by peer id + token
    const mqtt = connect(opts.url, { clientId: `app-${opts.peerId}-${randomBytes(4).toString('hex')}`, reconnectPeriod: 0, connectTimeout: opts.timeoutMs, username: opts.peerId, password: opts.token });
    try {
      await new Promise<void>((resolve, reject) => {
        mqtt.once('connect', () => resolve());
        mqtt.once('error', (err: Error & { code?: unknown }) => reject(err.code === 4 || err.code === 5
          ? new IvError('IV_ERR_AUTH_INVALID', `the broker refused this app (user name = peer id ${opts.peerId}, password = its token): ${err.message}`) : err));
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

  /** Tell the device the app leaves (at most once, no retry). */
  bye(): void {
    try {
      this.mqtt.publish(this.up, encodeSignal({ type: 'bye', peer: this.peerId }), { qos: 0 });
    } catch {
      // broker gone
    }
  }

  end(): void {
    this.mqtt.end(true);
  }
}
