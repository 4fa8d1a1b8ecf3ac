/**
 * broker-acl — who may do what on the embedded broker (aedes `authenticate`,
 * `authorizePublish`, `authorizeSubscribe`), docs/PROTOCOL.md §2.1:
 *  - the device: username `device:<deviceId>`, password = the device secret; publishes on
 *    `iv/<deviceId>/peer/<any>/down`, subscribes to `iv/<deviceId>/peer/+/up`;
 *  - an app: username = its peer id, password = its access token (signed by this device
 *    for that peer, not expired); publishes only on its own `.../peer/<peerId>/up`,
 *    subscribes only to its own `.../peer/<peerId>/down`.
 * Anything else is refused: a connect without valid credentials (CONNACK "bad user name
 * or password"), a publish elsewhere (the client is disconnected), a subscription
 * elsewhere (refused in the SUBACK: the client receives nothing).
 * Owns: those rules and the identity of each connected client. Must never: log a
 * password or a token, or let a client read another peer's topics.
 */
import { timingSafeEqual } from 'node:crypto';
import { verifyToken } from '../../shared/protocol/access-token.js';
import { PEER_ID, peerTopicPrefix } from '../../shared/protocol/signaling-messages.js';

export interface BrokerAclOptions {
  deviceId: string;
  secret: string | Buffer;
  /** A refusal, for logs and tests (never carries credentials). */
  onRefused?: (what: 'connect' | 'publish' | 'subscribe', who: string, detail: string) => void;
}

type Identity = { role: 'device' } | { role: 'app'; peer: string; expires: number };
type Client = { id: string };
type Done = (error: (Error & { returnCode: number }) | null, success: boolean | null) => void;

export interface BrokerAcl {
  authenticate(client: Client, username: string | undefined, password: Buffer | undefined, done: Done): void;
  authorizePublish(client: Client | null, packet: { topic: string }, callback: (error?: Error | null) => void): void;
  authorizeSubscribe(client: Client, sub: { topic: string; qos: number }, callback: (error: Error | null, sub?: { topic: string; qos: number } | null) => void): void;
}

export function brokerAcl(opts: BrokerAclOptions): BrokerAcl {
  const who = new WeakMap<Client, Identity>();
  const secret = Buffer.from(opts.secret);
  const prefix = peerTopicPrefix(opts.deviceId);
  const refused = (what: 'connect' | 'publish' | 'subscribe', c: Client | null, detail: string): void => {
    const id = c ? who.get(c) : undefined;
    opts.onRefused?.(what, id?.role === 'app' ? `app ${id.peer}` : id?.role === 'device' ? 'device' : `client ${c?.id ?? '?'}`, detail);
  };
  const peerOf = (topic: string, suffix: 'up' | 'down'): string | undefined => {
    if (!topic.startsWith(prefix) || !topic.endsWith(`/${suffix}`)) {
      return undefined;
    }
    const peer = topic.slice(prefix.length, -suffix.length - 1);
    return PEER_ID.test(peer) ? peer : undefined;
  };
  return {
    authenticate(client, username, password, done) {
      const bad = (detail: string): void => {
        refused('connect', client, detail);
        done(Object.assign(new Error('bad user name or password'), { returnCode: 4 }), false);
      };
      if (username === undefined || password === undefined) {
        bad('no credentials');
        return;
      }
      if (username === `device:${opts.deviceId}`) {
        if (password.length === secret.length && timingSafeEqual(password, secret)) {
          who.set(client, { role: 'device' });
          done(null, true);
        } else {
          bad('wrong device secret');
        }
        return;
      }
      if (!PEER_ID.test(username)) {
        bad('the user name is not a peer id');
        return;
      }
      const v = verifyToken(secret, password.toString('utf8'), { deviceId: opts.deviceId, peerId: username, right: 'live' });
      const claims = v.ok ? v.claims : v.code === 'IV_ERR_AUTH_RIGHTS' ? v.claims : undefined;
      if (claims) {
        // without `live` the device still answers its requests (a typed refusal); it may publish until the token expires
        who.set(client, { role: 'app', peer: username, expires: claims.expires });
        done(null, true);
      } else if (!v.ok) {
        bad(`${v.code}: ${v.reason}`);
      }
    },
    authorizePublish(client, packet, callback) {
      if (client === null) {
        callback(null); // the broker's own messages
        return;
      }
      const id = who.get(client);
      const ok = id?.role === 'device' ? peerOf(packet.topic, 'down') !== undefined
        : id?.role === 'app' ? packet.topic === `${prefix}${id.peer}/up` && id.expires > Date.now() / 1000 : false;
      if (ok) {
        callback(null);
      } else {
        refused('publish', client, `not allowed to publish on ${packet.topic}`);
        callback(new Error(`not allowed to publish on ${packet.topic}`));
      }
    },
    authorizeSubscribe(client, sub, callback) {
      const id = who.get(client);
      const ok = id?.role === 'device' ? sub.topic === `${prefix}+/up` : id?.role === 'app' ? sub.topic === `${prefix}${id.peer}/down` : false;
      if (ok) {
        callback(null, sub);
      } else {
        refused('subscribe', client, `not allowed to subscribe to ${sub.topic}`);
        callback(null, null);
      }
    },
  };
}
