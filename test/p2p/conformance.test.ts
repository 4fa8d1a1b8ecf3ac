/**
 * Protocol conformance: a third-party app (test/fixtures/raw-app: node-datachannel, mqtt
 * and hand-written msgpack, no project client code) against `ivgw run`, checking that
 * the gateway does what docs/PROTOCOL.md says, message by message. Serial: each test runs
 * its own gateway, and real-time behaviour must not starve.
 */
import test from 'ava';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from 'mqtt';
import { FlvDemuxer, type FlvTag } from '../../media/flv-demuxer.js';
import { startGateway, type Gateway } from '../helpers/gateway.js';
import { RemoteApps } from '../helpers/remote-apps.js';

const RAW_APP = fileURLToPath(new URL('../fixtures/raw-app.js', import.meta.url));

type Wire = unknown;
type Answer = { op: string; id?: unknown; code?: string; message?: string; stream?: number; label?: string; t?: number };

const m = (...pairs: [string, Wire][]): Wire => ({ map: pairs });

async function withGateway(t: { teardown(fn: () => Promise<void>): void }, extra: string[] = []): Promise<{ gw: Gateway; apps: RemoteApps }> {
  const gw = await startGateway(extra);
  const apps = new RemoteApps(RAW_APP);
  t.teardown(async () => {
    await apps.exit();
    await gw.stop();
  });
  return { gw, apps };
}

/** Connect the raw app; a connection that fails before it is up is retried with a new offer (PROTOCOL.md §3) unless `retry` is false. */
function connectRaw(apps: RemoteApps, gw: Gateway, name: string, token: string, peer = name, record = false, retry = true): Promise<unknown> {
  return apps.call('connect', { name, peer, device: gw.deviceId, broker: gw.url, token, record, retry }, 45_000);
}

function request(apps: RemoteApps, name: string, wire: Wire, expectId: unknown, timeoutMs = 5_000): Promise<Answer> {
  return apps.call<Answer>('request', { name, wire, expectId, timeoutMs }, timeoutMs + 5_000);
}

/** A token as the protocol defines it (HMAC key: the secret's UTF-8 bytes), with any rights, even none. */
function craftToken(gw: Gateway, peer: string, rights: string[], expiresS: number): string {
  const claims = Buffer.from(JSON.stringify({ d: gw.deviceId, p: peer, e: expiresS, r: rights, n: randomBytes(9).toString('base64url') })).toString('base64url');
  const signed = `iv1.${claims}`;
  return `${signed}.${createHmac('sha256', Buffer.from(gw.secret, 'utf8')).update(signed).digest('base64url')}`;
}

async function signal(gw: Gateway, peer: string, msg: Record<string, unknown> | string): Promise<Record<string, unknown>[]> {
  // logged in as the peer with a valid token (the broker admits it; the request itself is what is tested)
  const client = connect(gw.url, { clientId: `sig-${peer}-${process.pid}`, username: peer, password: gw.token(peer) });
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  const got: Record<string, unknown>[] = [];
  client.on('message', (_t, payload) => got.push(JSON.parse(payload.toString()) as Record<string, unknown>));
  await client.subscribeAsync(`iv/${gw.deviceId}/peer/${peer}/down`, { qos: 1 });
  await client.publishAsync(`iv/${gw.deviceId}/peer/${peer}/up`, typeof msg === 'string' ? msg : JSON.stringify(msg), { qos: 1 });
  await new Promise((r) => setTimeout(r, 1_500));
  await client.endAsync();
  return got;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test.serial('200 open/close cycles on one connection all succeed: stream numbers never run out', async (t) => {
  const { gw, apps } = await withGateway(t);
  await connectRaw(apps, gw, 'cycler', gw.token('cycler', ['live']));
  const streams = new Set<number>();
  for (let i = 1; i <= 200; i++) {
    const ok = await request(apps, 'cycler', m(['op', 'open'], ['id', i * 2], ['params', 'action=live&channel=0']), i * 2);
    t.is(ok.op, 'ok', `open #${i}: ${JSON.stringify(ok)}`);
    streams.add(ok.stream as number);
    const closed = await request(apps, 'cycler', m(['op', 'close'], ['id', i * 2 + 1], ['stream', ok.stream]), i * 2 + 1);
    t.is(closed.op, 'ok', `close #${i}: ${JSON.stringify(closed)}`);
  }
  t.true(streams.size >= 1);
  t.true([...streams].every((s) => s >= 1 && s <= 255), `stream numbers ${[...streams].join(',')}`);
});

test.serial('the ninth stream of one app is refused with IV_ERR_BUSY and an admission: reason, and a closed stream frees its place', async (t) => {
  const { gw, apps } = await withGateway(t);
  await connectRaw(apps, gw, 'greedy', gw.token('greedy', ['live']));
  const opened: number[] = [];
  for (let i = 1; i <= 8; i++) {
    const ok = await request(apps, 'greedy', m(['op', 'open'], ['id', i], ['params', 'action=live&channel=0']), i);
    t.is(ok.op, 'ok');
    opened.push(ok.stream as number);
  }
  const ninth = await request(apps, 'greedy', m(['op', 'open'], ['id', 9], ['params', 'action=live&channel=0']), 9);
  t.like(ninth, { op: 'error', code: 'IV_ERR_BUSY' });
  t.regex(ninth.message ?? '', /^admission: at most 8 streams per app/);
  t.is((await request(apps, 'greedy', m(['op', 'close'], ['id', 10], ['stream', opened[0] as number]), 10)).op, 'ok');
  t.is((await request(apps, 'greedy', m(['op', 'open'], ['id', 11], ['params', 'action=live&channel=0']), 11)).op, 'ok');
});

test.serial('an open gets its ok and its s<n> channel (labelled as the ok says), and candidates on down carry the requestId of their connection', async (t) => {
  const { gw, apps } = await withGateway(t);
  await connectRaw(apps, gw, 'orderly', gw.token('orderly', ['live']));
  const ok = await request(apps, 'orderly', m(['op', 'open'], ['id', 1], ['params', 'action=live&channel=0']), 1);
  t.is(ok.label, `s${ok.stream as number}`);
  await sleep(500);
  const order = await apps.call<string[]>('order', { name: 'orderly' });
  // the two travel on different SCTP streams: PROTOCOL.md says either may be seen first
  t.true(order.includes('control ok 1') && order.includes(`channel ${ok.label as string}`), order.join(' | '));
  const down = await apps.call<{ msg: Record<string, unknown> }[]>('down', { name: 'orderly' });
  // one answer per offer (a connect retried after a failed attempt made two): each candidate names one of them
  const answers = down.filter((d) => d.msg.type === 'answer').map((d) => d.msg.requestId);
  const candidates = down.filter((d) => d.msg.type === 'candidate');
  t.true(candidates.length > 0);
  t.true(candidates.every((c) => typeof c.msg.requestId === 'string' && answers.includes(c.msg.requestId)), JSON.stringify(candidates.map((c) => c.msg)));
  t.true(candidates.every((c) => String(c.msg.candidate).startsWith('candidate:')), 'candidates are sent as candidate:…, as §2 shows');
});

test.serial('ack and ping with integers encoded as msgpack uint64 are accepted: no watermark pause, pong echoes the id', async (t) => {
  const { gw, apps } = await withGateway(t, ['--watermarks', '30000,60000,120000']);
  await connectRaw(apps, gw, 'wide', gw.token('wide', ['live']));
  const pong = await request(apps, 'wide', m(['op', 'ping'], ['id', { u64: 7 }], ['t', { u64: 123456 }]), 7);
  t.like(pong, { op: 'pong', id: 7, t: 123456 });
  const ok = await request(apps, 'wide', m(['op', 'open'], ['id', { u64: 8 }], ['params', 'action=live&channel=0']), 8);
  t.is(ok.op, 'ok');
  await apps.call('ack', { name: 'wide', stream: ok.stream, on: true, u64: true });
  await sleep(8_000);
  const control = await apps.call<{ msg: Answer & { event?: string; level?: string } }[]>('control', { name: 'wide' });
  const errors = control.filter((c) => c.msg.op === 'error');
  const highs = control.filter((c) => c.msg.op === 'event' && c.msg.event === 'watermark' && c.msg.level === 'high');
  t.deepEqual(errors, []);
  t.deepEqual(highs, [], 'uint64 acks count: the stream was never paused');
  const channels = await apps.call<{ label: string; bytes: number }[]>('channels', { name: 'wide' });
  t.true((channels.find((c) => c.label === `s${ok.stream as number}`)?.bytes ?? 0) > 120_000);
});

test.serial('an open whose params are not URL-encoded (a bare %) is refused naming params; the app, its next open and another app go on', async (t) => {
  const { gw, apps } = await withGateway(t);
  await connectRaw(apps, gw, 'percent', gw.token('percent', ['live']));
  await connectRaw(apps, gw, 'bystander', gw.token('bystander', ['live']));
  for (const [id, params] of [[5, 'action=live&channel=%'], [6, '%E0%A4%A=live'], [7, 'action=playback&channel=0&start=%zz']] as const) {
    const a = await request(apps, 'percent', m(['op', 'open'], ['id', id], ['params', params]), id);
    t.like(a, { op: 'error', id, code: 'IV_ERR_INVALID_PARAM' }, params);
    t.regex(a.message ?? '', /^params: not URL-encoded/);
  }
  t.like(await request(apps, 'percent', m(['op', 'ping'], ['id', 8], ['t', 1]), 8), { op: 'pong', id: 8 }, 'the same connection still answers');
  t.like(await request(apps, 'percent', m(['op', 'open'], ['id', 9], ['params', 'action=live&channel=0']), 9), { op: 'ok', id: 9 });
  t.like(await request(apps, 'bystander', m(['op', 'open'], ['id', 1], ['params', 'action=live&channel=0']), 1), { op: 'ok', id: 1 }, 'the worker (every app\'s) is still up');
  t.deepEqual(gw.log.filter((l) => /exit|fatal|FAULT/.test(l)), [], 'no actor or worker exited');
});

test.serial('requests with a bad id or over 64 KiB get the documented error; an oversized offer with a requestId is refused', async (t) => {
  const { gw, apps } = await withGateway(t);
  await connectRaw(apps, gw, 'sloppy', gw.token('sloppy', ['live', 'command']));
  // scalars come back as sent; a map (or array, bytes) as nil: every request with an id is answered
  for (const [id, expect] of [[{ str: 'abc' }, 'abc'], [{ i64: -1 }, -1], [{ f64: 1.5 }, 1.5], [{ u64: 2 ** 32 }, 2 ** 32], [{ bool: true }, true], [m(['n', 1]), null]] as const) {
    const a = await request(apps, 'sloppy', m(['op', 'ping'], ['id', id], ['t', 1]), expect);
    t.like(a, { op: 'error', code: 'IV_ERR_INVALID_PARAM' }, JSON.stringify(id));
    t.regex(a.message ?? '', /^id:/);
  }
  const big = await request(apps, 'sloppy', m(['op', 'command'], ['id', 77], ['data', { bin: Buffer.alloc(70_000, 1).toString('base64') }]), 77);
  t.like(big, { op: 'error', id: 77, code: 'IV_ERR_INVALID_PARAM' });
  const refused = await signal(gw, 'bigoffer', { type: 'offer', peer: 'bigoffer', token: gw.token('bigoffer'), requestId: 'r-bigoffer-1', ts: Date.now(), sdp: `v=0\r\n${'a=x-pad\r\n'.repeat(8_000)}` });
  t.like(refused.find((r) => r.type === 'refused'), { requestId: 'r-bigoffer-1', code: 'IV_ERR_INVALID_PARAM' });
});

test.serial('rights and reasons: voice_stop needs voice, an expired token says expired (open, channels; ping still answers), an empty rights list is refused by name, MAC padding bits matter', async (t) => {
  const { gw, apps } = await withGateway(t);
  await connectRaw(apps, gw, 'viewer', gw.token('viewer', ['live']));
  const stop = await request(apps, 'viewer', m(['op', 'voice_stop'], ['id', 1]), 1);
  t.like(stop, { op: 'error', code: 'IV_ERR_AUTH_RIGHTS' });

  await connectRaw(apps, gw, 'brief', craftToken(gw, 'brief', ['live'], Math.floor(Date.now() / 1000) + 4));
  await sleep(5_000);
  const late = await request(apps, 'brief', m(['op', 'open'], ['id', 2], ['params', 'action=live&channel=0']), 2);
  t.like(late, { op: 'error', code: 'IV_ERR_AUTH_EXPIRED' });
  const lateChannels = await request(apps, 'brief', m(['op', 'channels'], ['id', 3]), 3);
  t.like(lateChannels, { op: 'error', code: 'IV_ERR_AUTH_EXPIRED' }, 'what the device has is for a valid token only');
  const latePing = await request(apps, 'brief', m(['op', 'ping'], ['id', 4], ['t', 1]), 4);
  t.like(latePing, { op: 'pong', id: 4 }, 'the connection itself goes on');

  const none = await signal(gw, 'nobody', { type: 'offer', peer: 'nobody', token: craftToken(gw, 'nobody', [], Math.floor(Date.now() / 1000) + 600), requestId: 'r-nobody-01', ts: Date.now(), sdp: 'v=0\r\n' });
  const r = none.find((x) => x.type === 'refused');
  t.like(r, { code: 'IV_ERR_AUTH_RIGHTS' });
  t.regex(String(r?.reason), /grants no rights/);

  const good = gw.token('padder');
  const last = good.slice(-1);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const flipped = alphabet[alphabet.indexOf(last) ^ 1] as string; // the low bits of a 43-char MAC's last char are padding
  const padded = await signal(gw, 'padder', { type: 'offer', peer: 'padder', token: `${good.slice(0, -1)}${flipped}`, requestId: 'r-padder-01', ts: Date.now(), sdp: 'v=0\r\n' });
  t.like(padded.find((x) => x.type === 'refused'), { code: 'IV_ERR_AUTH_INVALID' });
});

test.serial('candidates name their connection: thirty naming another one, between an offer and its own candidates, are dropped; thirty without a requestId (v1) go in and crowd it out', async (t) => {
  const { gw, apps } = await withGateway(t);
  const token = gw.token('crowded', ['live']);
  // thirty: more remote candidates than an ICE agent holds (libjuice: 20)
  const connect = (name: string, fields: Record<string, unknown>): Promise<string> =>
    apps.call<{ requestId: string }>('connect', { name, peer: 'crowded', device: gw.deviceId, broker: gw.url, token, retry: false, ...fields }, 45_000).then((v) => `connected ${v.requestId}`, (e: Error) => e.message);
  const named = await connect('named', { strays: { count: 30, requestId: 'r-an-earlier-connection' } });
  t.regex(named, /^connected r-/, 'candidates naming another connection are not added to this one');
  const pong = await request(apps, 'named', m(['op', 'ping'], ['id', 7], ['t', 1]), 7);
  t.is(pong.op, 'pong');
  const v1 = await connect('v1', { v1: true, strays: { count: 30 } });
  t.log(`v1 app with thirty foreign candidates: ${v1}`);
  t.regex(v1, /control channel did not open|peer connection (failed|closed)/, 'a candidate without requestId goes to the peer\'s current connection');
});

test.serial('twenty offers under one peer id at once: one connects, every replaced one is told at once with a bye naming its requestId', async (t) => {
  const { gw, apps } = await withGateway(t);
  const token = gw.token('twin', ['live']);
  const started = Date.now();
  const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => connectRaw(apps, gw, `twin${i}`, token, 'twin', false, false))); // a retry would be one more offer under the peer id
  const elapsed = Date.now() - started;
  const connected = results.filter((r) => r.status === 'fulfilled');
  const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => String((r.reason as Error).message));
  // The newest admitted offer is the one that stays. A node-datachannel app can see exactly that connection fail
  // before it is up (PROTOCOL.md §3: its DTLS checks the device's certificate before libdatachannel has stored the
  // answer); as §3 says, it then offers again, here once the per-peer offer rate lets it.
  const failedBeforeUp = refused.filter((why) => /before the control channel opened|did not open in/.test(why));
  let again = 0;
  if (connected.length === 0 && failedBeforeUp.length === 1) {
    t.log(`the newest connection failed before it was up (${failedBeforeUp[0]}); the app offers again`);
    await sleep(2_500);
    await connectRaw(apps, gw, 'twin-again', token, 'twin');
    again = 1;
  }
  t.is(connected.length + again, 1, refused.join(' | '));
  t.is(refused.length, 19 + again);
  t.true(failedBeforeUp.length <= again, `only the newest connection may fail before it is up, and it connects when offered again: ${failedBeforeUp.join(' | ')}`);
  // each is told at once: replaced (bye with its requestId) or, past the per-peer offer rate, refused IV_ERR_BUSY
  t.true(refused.filter((why) => !failedBeforeUp.includes(why)).every((why) => /^bye r-[0-9a-f]+: .*replaced/.test(why) || /^refused IV_ERR_BUSY/.test(why)), refused.join(' | '));
  t.true(refused.some((why) => /replaced/.test(why)), 'at least one connection was replaced');
  t.true(elapsed < 10_000, `the replaced apps learnt it in ${elapsed} ms, not at their connect timeout`);
});

test.serial('a stalled live viewer resumes at the camera\'s latest keyframe, not where it paused, and loses no frame silently', async (t) => {
  const { gw, apps } = await withGateway(t, ['--watermarks', '30000,60000,120000']);
  await connectRaw(apps, gw, 'staller', gw.token('staller', ['live']), 'staller', true);
  const ok = await request(apps, 'staller', m(['op', 'open'], ['id', 1], ['params', 'action=live&channel=0']), 1);
  const stream = ok.stream as number;
  await apps.call('ack', { name: 'staller', stream, on: true });
  await sleep(3_000);
  await apps.call('ack', { name: 'staller', stream, on: false });
  const events = async (): Promise<{ at: number; msg: { op: string; event?: string; level?: string; originMs?: number } }[]> =>
    (await apps.call<{ at: number; msg: { op: string; event?: string; level?: string; originMs?: number } }[]>('control', { name: 'staller' })).filter((c) => c.msg.op === 'event');
  let until = Date.now() + 20_000;
  while (!(await events()).some((e) => e.msg.level === 'high') && Date.now() < until) {
    await sleep(200);
  }
  t.true((await events()).some((e) => e.msg.level === 'high'), 'the stall paused the stream');
  await sleep(6_000); // the camera goes on meanwhile: ~6 s of live the viewer must not get
  await apps.call('ack', { name: 'staller', stream, on: true });
  until = Date.now() + 10_000;
  while (!(await events()).some((e) => e.msg.level === 'low') && Date.now() < until) {
    await sleep(100);
  }
  const low = (await events()).find((e) => e.msg.level === 'low');
  t.truthy(low, 'recovered');
  await sleep(3_000);
  const origin = (await events()).find((e) => e.msg.event === 'stream_time')?.msg.originMs as number;
  const flv = Buffer.from(await apps.call<string>('recorded', { name: 'staller', label: `s${stream}` }), 'base64');
  const demux = new FlvDemuxer();
  const video = demux.push(new Uint8Array(flv)).filter((tag: FlvTag) => tag.kind === 'video' && !tag.config);
  t.deepEqual(demux.violations, []);
  const jumps = video.slice(1).map((tag, i) => ({ i: i + 1, dt: tag.timestamp - (video[i] as FlvTag).timestamp })).filter((j) => j.dt > 100);
  t.is(jumps.length, 1, `one pause gap, no other: ${JSON.stringify(jumps)}`);
  const resumed = video[jumps[0]?.i ?? 0] as FlvTag;
  t.true(resumed.keyframe, 'resumes on a keyframe');
  const behindMs = (low?.at ?? 0) - (origin + resumed.timestamp);
  t.true(behindMs < 2_500, `the resumed frame was captured ${behindMs} ms before the resume (at most about one GOP)`);
  // and after the resume the stream runs at the live edge without further gaps (checked by jumps above)
  const afterLow = Date.now() - (low?.at ?? 0);
  const lastTs = (video.at(-1) as FlvTag).timestamp;
  t.true(lastTs - resumed.timestamp > afterLow - 1_500, 'frames kept flowing after the resume');
});

test.serial('playback of a window still being recorded follows the recording until the window ends', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ivgw-follow-'));
  const { gw, apps } = await withGateway(t, ['--record', dir]);
  await sleep(5_000); // a few 2 s segments exist
  await connectRaw(apps, gw, 'rewinder', gw.token('rewinder', ['playback']), 'rewinder', true);
  const nowS = Math.floor(Date.now() / 1000);
  const ok = await request(apps, 'rewinder', m(['op', 'open'], ['id', 1], ['params', `action=playback&channel=0&start=${nowS - 4}&end=${nowS + 8}`]), 1);
  t.is(ok.op, 'ok', JSON.stringify(ok));
  const closedEvent = async (): Promise<{ at: number; msg: { event?: string; reason?: string } } | undefined> =>
    (await apps.call<{ at: number; msg: { op: string; event?: string; reason?: string; stream?: number } }[]>('control', { name: 'rewinder' }))
      .find((c) => c.msg.op === 'event' && c.msg.event === 'stream_closed' && c.msg.stream === ok.stream);
  const until = Date.now() + 40_000;
  while (!(await closedEvent()) && Date.now() < until) {
    await sleep(500);
  }
  const closed = await closedEvent();
  t.is(closed?.msg.reason, 'end of recording');
  t.true((closed?.at ?? 0) >= (nowS + 8) * 1000, 'the stream ended after the window did, not when the recording known at open ran out');
  const flv = Buffer.from(await apps.call<string>('recorded', { name: 'rewinder', label: `s${ok.stream as number}` }), 'base64');
  const demux = new FlvDemuxer();
  const video = demux.push(new Uint8Array(flv)).filter((tag: FlvTag) => tag.kind === 'video' && !tag.config);
  t.deepEqual(demux.violations, []);
  const spanMs = (video.at(-1)?.timestamp ?? 0) - (video[0]?.timestamp ?? 0);
  t.true(spanMs >= 9_000, `played ${spanMs} ms of a 12 s window of which ~4 s were recorded when it opened`);
});
