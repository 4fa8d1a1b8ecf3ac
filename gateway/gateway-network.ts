/**
 * gateway-network — the gateway's own network services, started before any worker so a
 * port in use fails the start first: the embedded MQTT broker (aedes, with the device's
 * ACL; TCP, TLS, WebSocket) unless an external broker is configured, and the built-in
 * STUN responder unless STUN servers are; plus the ICE bind address both derive from.
 * Owns: what it started until the `cleanup` it was given runs. Must never: log a secret,
 * or log more than a few of a flood of refusals a second.
 */
import { readFileSync } from 'node:fs';
import { startEmbeddedBroker, type EmbeddedBroker } from '../actors/p2p/embedded-broker.js';
import { startStunResponder, type StunResponder } from '../actors/p2p/stun-server.js';
import type { GatewayLogLevel, GatewayOptions } from './gateway-options.js';

export interface GatewayNetwork {
  /** The embedded broker, when the gateway runs its own. */
  broker: EmbeddedBroker | undefined;
  brokerUrl: string;
  /** The built-in STUN responder, when no STUN server is configured. */
  stunResponder: StunResponder | undefined;
  stunUrl: string;
  /** Where ICE binds: an address, or undefined for every interface. */
  iceBind: string | undefined;
}

export interface GatewayNetworkHooks {
  deviceId: string;
  secret: string | Buffer;
  log(level: GatewayLogLevel, component: string, msg: string, fields?: Record<string, unknown>): void;
  /** The broker refused a connect, publish or subscribe (counted in the metrics). */
  refused(what: string): void;
  /** Run at stop, in reverse order of registration by the gateway. */
  cleanup(fn: () => Promise<void> | void): void;
}

/** Refusals logged per second; the rest are only counted. */
const REFUSALS_LOGGED_PER_S = 5;

export async function startGatewayNetwork(o: GatewayOptions, hooks: GatewayNetworkHooks): Promise<GatewayNetwork> {
  let broker: EmbeddedBroker | undefined;
  if (!o.broker) {
    const listen = (o.brokerListen ?? [{ host: '127.0.0.1', port: 1883 }]).map((l, i) => (i === 0 && o.mqttPort !== undefined ? { ...l, port: o.mqttPort } : l));
    let refusals = 0;
    const refusalWindow = setInterval(() => (refusals = 0), 1_000);
    refusalWindow.unref();
    hooks.cleanup(() => clearInterval(refusalWindow));
    broker = await startEmbeddedBroker({
      listen,
      ...(o.brokerWebsocket ? { websocket: o.brokerWebsocket } : {}),
      ...(o.brokerTls ? { tls: { cert: readFileSync(o.brokerTls.cert), key: readFileSync(o.brokerTls.key), listen: o.brokerTls.listen } } : {}),
      acl: {
        deviceId: hooks.deviceId,
        secret: hooks.secret,
        onRefused: (what, who, detail) => {
          hooks.refused(what);
          if (++refusals <= REFUSALS_LOGGED_PER_S) {
            hooks.log('warn', 'broker', `refused ${what} of ${who}: ${detail}`, { what, who, detail });
          }
        },
      },
    });
    const b = broker;
    hooks.cleanup(() => b.close());
  }
  const brokerUrl = o.broker ?? (broker as EmbeddedBroker).url;
  const iceBind = o.iceBind === 'any' || o.iceBind === '0.0.0.0' ? undefined : o.iceBind ?? '127.0.0.1';
  let stunResponder: StunResponder | undefined;
  if (!o.stun) {
    const s = await startStunResponder({ host: iceBind ?? '0.0.0.0' });
    stunResponder = s;
    hooks.cleanup(() => s.close());
  }
  const stunUrl = o.stun ?? `stun:${iceBind ?? '127.0.0.1'}:${(stunResponder as StunResponder).port}`;
  return { broker, brokerUrl, stunResponder, stunUrl, iceBind };
}
