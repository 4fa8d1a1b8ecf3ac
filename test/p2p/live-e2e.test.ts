/**
 * End to end on one machine: `ivgw run` in a child process (embedded MQTT broker,
 * demo cameras, pinned p2p worker), apps in this process over real WebRTC data
 * channels bound to 127.0.0.1. What the apps receive is checked frame by frame and
 * decoded with ffmpeg.
 */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'mqtt';
import { AppClient } from '../../client/app-client.js';
import type { StreamReceiver } from '../../client/stream-receiver.js';
import { FlvDemuxer, configNalUnits } from '../../actors/media/flv-demuxer.js';
import { splitLengthPrefixed } from '../../actors/media/nal.js';
import { encodeControl } from '../../actors/p2p/control-protocol.js';
import { isIvError } from '../../runtime/errors.js';
import { startGateway, type Gateway } from '../helpers/gateway.js';
import { decodeErrors, ffprobe, tempDir } from '../helpers/media.js';
import { waitFor } from '../helpers/probe-system.js';

let gw: Gateway;
const clients: AppClient[] = [];

test.before(async () => {
  gw = await startGateway(['--watermarks', '30000,60000,120000']);
});

test.after.always(async () => {
  for (const c of clients) {
    c.close();
  }
  await gw?.stop();
  AppClient.shutdownTransport();
});

async function app(peer: string, token = gw.token(peer)): Promise<AppClient> {
  const c = await AppClient.connect({ url: gw.url, deviceId: gw.deviceId, peerId: peer, token, bindAddress: '127.0.0.1' });
  clients.push(c);
  return c;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function h265FromFlv(flv: Uint8Array): Buffer {
  const d = new FlvDemuxer();
  const sc = Buffer.from([0, 0, 0, 1]);
  const parts: Buffer[] = [];
  let ps: Uint8Array[] = [];
  for (const tag of d.push(flv)) {
    if (tag.kind !== 'video') {
      continue;
    }
    if (tag.config) {
      ps = configNalUnits('h265', tag.payload);
      continue;
    }
    for (const n of [...(tag.keyframe ? ps : []), ...splitLengthPrefixed(tag.payload)]) {
      parts.push(sc, Buffer.from(n));
    }
  }
  return Buffer.concat(parts);
}

function clean(t: { deepEqual(a: unknown, b: unknown, m?: string): void; is(a: unknown, b: unknown, m?: string): void }, r: StreamReceiver, what: string): void {
  t.deepEqual(r.stats.violations, [], `${what}: FLV integrity`);
  t.is(r.stats.gaps, 0, `${what}: no frame gaps`);
}

test.serial('one app opens two live streams at once; both arrive whole and decode in ffmpeg', async (t) => {
  const c = await app('app-two');
  t.true(c.connectMs < 2_000, `connected in ${c.connectMs} ms`);
  const h264 = await c.open('action=live&channel=0', { record: true });
  const h265 = await c.open('action=live&channel=1', { record: true });
  await sleep(3_000);
  for (const [r, what] of [[h264, 'h264'], [h265, 'h265']] as const) {
    clean(t, r, what);
    t.true(r.stats.videoFrames >= 70, `${what}: ${r.stats.videoFrames} video frames in 3 s`);
    t.true(r.stats.firstFrameMs >= 0 && r.stats.firstFrameMs < 1_000, `${what}: first frame after ${r.stats.firstFrameMs} ms`);
    t.true(r.stats.audioFrames > 0, `${what}: audio arrives`);
  }
  const dir = tempDir(t);
  const f0 = join(dir, 'ch0.flv');
  writeFileSync(f0, h264.recorded());
  t.deepEqual(decodeErrors(f0), []);
  const info = ffprobe(f0);
  t.like(info.streams.find((s) => s.codec_type === 'video'), { codec_name: 'h264', width: 640, height: 360 });
  t.like(info.streams.find((s) => s.codec_type === 'audio'), { codec_name: 'aac' });
  const es = join(dir, 'ch1.h265');
  writeFileSync(es, h265FromFlv(h265.recorded()));
  t.deepEqual(decodeErrors(es), []);
  t.like(ffprobe(es).streams[0], { codec_name: 'hevc', width: 640 });
  const { rttMs } = await c.ping();
  t.true(rttMs < 100);
});

test.serial('several apps at once each get the live stream', async (t) => {
  const apps = await Promise.all(['multi-1', 'multi-2', 'multi-3', 'multi-4'].map((p) => app(p)));
  const streams = await Promise.all(apps.map((a) => a.open('action=live&channel=0')));
  await sleep(2_000);
  for (const [i, r] of streams.entries()) {
    clean(t, r, `app ${i}`);
    t.true(r.stats.videoFrames >= 45, `app ${i}: ${r.stats.videoFrames} frames`);
  }
});

test.serial('an app that stops acknowledging hits the watermarks, is paused, and resumes at a keyframe; others are unaffected', async (t) => {
  const stalled = await app('stalled');
  const healthy = await app('healthy');
  const levels: string[] = [];
  stalled.onEvent = (e) => {
    if (e.op === 'event' && e.event === 'watermark') {
      levels.push(e.level);
    }
  };
  const sr = await stalled.open('action=live&channel=0', { ack: false });
  const hr = await healthy.open('action=live&channel=0');
  await waitFor('HIGH watermark', () => levels.includes('high'), 20_000);
  t.deepEqual(levels.slice(0, 2), ['warn', 'high'], 'WARN once, then HIGH');
  const pausedAt = sr.stats.videoFrames;
  await sleep(1_500);
  t.true(sr.stats.videoFrames - pausedAt <= 3, 'no new frames are pulled while above high');
  const healthyBefore = hr.stats.videoFrames;
  stalled.setAcking(sr.stream, true);
  await waitFor('LOW watermark', () => levels.includes('low'), 10_000);
  await waitFor('frames again', () => sr.stats.videoFrames > pausedAt + 25, 10_000);
  t.deepEqual(sr.stats.violations, [], 'resumed on a keyframe: no GOP started mid-way');
  t.true(sr.stats.gaps >= 1, 'the pause shows as a gap in timestamps');
  t.true(hr.stats.videoFrames - healthyBefore >= 25, 'the healthy app kept streaming');
  clean(t, hr, 'healthy app');
});

test.serial('bad control messages are refused with reasons, nothing crashes, other apps keep streaming', async (t) => {
  const watcher = await app('watcher');
  const wr = await watcher.open('action=live&channel=0');
  const bad = await app('bad-actor', gw.token('bad-actor', ['command']));
  const expectError = async (p: Promise<unknown>, code: string, field?: RegExp) => {
    const err = await t.throwsAsync(p);
    t.true(isIvError(err, code as 'IV_ERR_INVALID_PARAM'), `${code}: got ${(err as { code?: string }).code} ${(err as Error).message}`);
    if (field) {
      t.regex((err as Error).message, field);
    }
  };
  await expectError(bad.open('action=live&channel=0'), 'IV_ERR_AUTH_RIGHTS');
  const good = await app('bad-actor-2');
  await expectError(good.open('action=stream&channel=0'), 'IV_ERR_INVALID_PARAM', /params\.action/);
  await expectError(good.open('action=live&channel=9'), 'IV_ERR_INVALID_PARAM', /params\.channel/);
  await expectError(good.request({ op: 'close', stream: 77 }), 'IV_ERR_INVALID_PARAM', /stream/);
  await expectError(good.request({ op: 'frobnicate', id: 0 } as never), 'IV_ERR_UNKNOWN_METHOD');
  good.sendRaw(new Uint8Array([0xc1, 0xff, 0x00]));
  good.sendRaw(encodeControl({ op: 'open', id: 999_999 } as never));
  good.sendRaw(new Uint8Array(70_000));
  const { rttMs } = await good.ping();
  t.true(rttMs >= 0, 'the peer connection survived the garbage');
  const before = wr.stats.videoFrames;
  await sleep(1_000);
  t.true(wr.stats.videoFrames - before >= 20, 'the watcher kept streaming');
  clean(t, wr, 'watcher');
});

test.serial('bad tokens and garbage offers are refused at signaling and never reach a peer actor', async (t) => {
  const expired = await t.throwsAsync(AppClient.connect({ url: gw.url, deviceId: gw.deviceId, peerId: 'late', token: gw.token('late', ['live'], -10), bindAddress: '127.0.0.1', timeoutMs: 5_000 }));
  t.true(isIvError(expired, 'IV_ERR_AUTH_EXPIRED'));
  const stolen = await t.throwsAsync(AppClient.connect({ url: gw.url, deviceId: gw.deviceId, peerId: 'thief', token: gw.token('owner'), bindAddress: '127.0.0.1', timeoutMs: 5_000 }));
  t.true(isIvError(stolen, 'IV_ERR_AUTH_WRONG_PEER'));
  const mqtt = await connect(gw.url).once('connect', () => undefined);
  await new Promise((r) => mqtt.once('connect', r));
  const down: Record<string, unknown>[] = [];
  await mqtt.subscribeAsync(`iv/${gw.deviceId}/peer/garbage/down`);
  mqtt.on('message', (_t, p) => down.push(JSON.parse(p.toString()) as Record<string, unknown>));
  mqtt.publish(`iv/${gw.deviceId}/peer/garbage/up`, JSON.stringify({ type: 'offer', peer: 'garbage', token: gw.token('garbage'), requestId: 'req-garbage-sdp-1', ts: Date.now(), sdp: 'v=0\r\nthis is not sdp\r\n' }));
  await waitFor('refusal', () => down.length > 0, 10_000);
  t.like(down[0], { type: 'refused', requestId: 'req-garbage-sdp-1' });
  await mqtt.endAsync();
  const still = await app('after-garbage');
  const r = await still.open('action=live&channel=1');
  await sleep(800);
  t.true(r.stats.videoFrames > 5);
});

test.serial('an app that vanishes without a word is cleaned up when its connection drops', async (t) => {
  const ghost = await app('ghost');
  await ghost.open('action=live&channel=0');
  await sleep(300);
  const closedBefore = gw.log.filter((l) => l.includes('[peer ghost] closed')).length;
  (ghost as unknown as { pc: { close(): void } }).pc.close();
  await waitFor('the gateway noticing', () => gw.log.filter((l) => l.includes('[peer ghost] closed')).length > closedBefore, 20_000);
  const back = await app('ghost-2');
  t.true((await back.open('action=live&channel=0')).stream > 0, 'new apps still connect');
});
