/**
 * Signaling against real brokers (the embedded aedes and Debian's mosquitto): verified
 * offers reach the handler; every bad request is refused with its reason and never does.
 */
import test, { type ExecutionContext } from 'ava';
import { connect, type MqttClient } from 'mqtt';
import { mintToken } from '../../shared/protocol/access-token.js';
import { startEmbeddedBroker } from '../../actors/p2p/embedded-broker.js';
import { SignalingServer } from '../../actors/p2p/signaling.js';
import { tempDir } from '../helpers/media.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/probe-system.js';

const SECRET = 'signal-secret';
const DEVICE = 'dev-sig';
const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n';

interface Harness {
  offers: { peer: string; requestId: string; rights: string[] }[];
  byes: string[];
  refused: string[];
  app(peer: string): Promise<{ client: MqttClient; down: Record<string, unknown>[]; send(msg: unknown): void }>;
}

async function harness(t: { teardown(fn: () => unknown): void }, url: string): Promise<Harness> {
  const h: Harness = { offers: [], byes: [], refused: [], app: undefined as never };
  const server = new SignalingServer({
    url,
    deviceId: DEVICE,
    secret: SECRET,
    handler: {
      offer: (peer, m) => {
        h.offers.push({ peer, requestId: m.requestId, rights: m.claims.rights });
        server.sendAnswer(peer, m.requestId, 'v=0 answer');
      },
      candidate: () => undefined,
      answer: () => undefined,
      bye: (peer) => h.byes.push(peer),
    },
    onRefused: (_peer, code) => h.refused.push(code),
  });
  await server.whenReady();
  t.teardown(() => server.close());
  h.app = async (peer) => {
    const client = connect(url, { clientId: `app-${peer}-${Math.random()}` });
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    const down: Record<string, unknown>[] = [];
    await client.subscribeAsync(`iv/${DEVICE}/peer/${peer}/down`, { qos: 1 });
    client.on('message', (_t, p) => down.push(JSON.parse(p.toString()) as Record<string, unknown>));
    t.teardown(() => client.endAsync());
    return { client, down, send: (msg) => client.publish(`iv/${DEVICE}/peer/${peer}/up`, typeof msg === 'string' ? msg : JSON.stringify(msg), { qos: 1 }) };
  };
  return h;
}

let seq = 0;
const offer = (peer: string, token: unknown, over: Record<string, unknown> = {}) => ({ type: 'offer', peer, token, requestId: `req-${Date.now()}-${seq++}`, ts: Date.now(), sdp: SDP, ...over });
const token = (peer: string, rights: ('live' | 'voice')[] = ['live'], ttl = 60) => mintToken(SECRET, { deviceId: DEVICE, peerId: peer, expires: Math.floor(Date.now() / 1000) + ttl, rights });

async function exercise(t: ExecutionContext, url: string): Promise<void> {
  const h = await harness(t, url);
  const app = await h.app('app1');
  const good = offer('app1', token('app1'));
  app.send(good);
  await waitFor('answer', () => app.down.some((m) => m.type === 'answer'));
  t.like(app.down.find((m) => m.type === 'answer'), { requestId: good.requestId, sdp: 'v=0 answer' });
  t.deepEqual(h.offers, [{ peer: 'app1', requestId: good.requestId, rights: ['live'] }]);

  const cases: [string, unknown, string][] = [
    ['missing token', offer('app1', undefined), 'IV_ERR_AUTH_MISSING'],
    ['forged token', offer('app1', mintToken('wrong', { deviceId: DEVICE, peerId: 'app1', expires: Math.floor(Date.now() / 1000) + 60, rights: ['live'] })), 'IV_ERR_AUTH_INVALID'],
    ['expired token', offer('app1', token('app1', ['live'], -5)), 'IV_ERR_AUTH_EXPIRED'],
    ['token for another peer', offer('app1', token('app2')), 'IV_ERR_AUTH_WRONG_PEER'],
    ['replayed request', { ...good }, 'IV_ERR_AUTH_REPLAYED'],
    ['stale request', offer('app1', token('app1'), { ts: Date.now() - 600_000 }), 'IV_ERR_AUTH_REPLAYED'],
    ['peer mismatch', offer('app2', token('app2')), 'IV_ERR_INVALID_PARAM'],
    ['garbage sdp', offer('app1', token('app1'), { sdp: 'hello' }), 'IV_ERR_INVALID_PARAM'],
    ['unknown type', { type: 'reboot', peer: 'app1', requestId: 'req-unknown-1' }, 'IV_ERR_INVALID_PARAM'],
  ];
  for (const [what, msg, code] of cases) {
    const before = app.down.length;
    app.send(msg);
    await waitFor(what, () => app.down.length > before);
    t.like(app.down.at(-1), { type: 'refused', code }, what);
  }
  const refusedBefore = h.refused.length;
  app.send('{not json');
  app.send(Buffer.alloc(70_000, 0x20).toString());
  await waitFor('two silent refusals', () => h.refused.length === refusedBefore + 2);
  t.is(h.offers.length, 1, 'no refused request reached the handler');
  app.send({ type: 'bye', peer: 'app1' });
  await waitFor('bye', () => h.byes.length === 1);
}

test('signaling through the embedded broker verifies offers and refuses every bad request with its reason', async (t) => {
  const broker = await startEmbeddedBroker();
  t.teardown(() => broker.close());
  await exercise(t, broker.url);
});

test('signaling works the same through mosquitto', async (t) => {
  const mosq = await startMosquitto(tempDir(t));
  t.teardown(() => mosq.stop());
  await exercise(t, mosq.url);
});
