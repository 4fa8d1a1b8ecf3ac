/**
 * End to end on one machine: `ivgw run` in a child process (embedded MQTT broker,
 * demo cameras, pinned p2p worker) and apps in another child process (app-host), over
 * real WebRTC data channels bound to 127.0.0.1. What the apps receive is checked frame
 * by frame and decoded with ffmpeg.
 */
import test, { type ExecutionContext } from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'mqtt';
import { FlvDemuxer, configNalUnits } from '../../media/flv-demuxer.js';
import { splitLengthPrefixed } from '../../media/nal.js';
import { encodeControl } from '../../shared/protocol/control.js';
import type { ReceiverStats } from '../../client/stream-receiver.js';
import { isIvError } from '../../runtime/errors.js';
import type { Gateway } from '../helpers/gateway.js';
import { gatewayWithApps } from '../helpers/gateway-with-apps.js';
import { decodeErrors, ffprobe, tempDir } from '../helpers/media.js';
import { waitFor } from '../helpers/probe-system.js';
import type { RemoteApps } from '../helpers/remote-apps.js';

let gw: Gateway;
let apps: RemoteApps;

gatewayWithApps(['--watermarks', '30000,60000,120000'], (g, a) => {
  gw = g;
  apps = a;
});

async function app(peer: string, token = gw.token(peer)): Promise<{ connectMs: number }> {
  return apps.connect(peer, { url: gw.url, deviceId: gw.deviceId, peerId: peer, token, bindAddress: '127.0.0.1' });
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

function clean(t: ExecutionContext, s: ReceiverStats, what: string): void {
  t.deepEqual(s.violations, [], `${what}: FLV integrity`);
  t.is(s.gaps, 0, `${what}: no frame gaps`);
}

test.serial('one app opens two live streams at once; both arrive whole and decode in ffmpeg', async (t) => {
  await app('app-two'); // connect time is benchmarked (npm run bench -- ttff), not asserted
  const h264 = await apps.open('app-two', 'action=live&channel=0', { record: true });
  const h265 = await apps.open('app-two', 'action=live&channel=1', { record: true });
  await sleep(3_000);
  for (const [stream, what] of [[h264, 'h264'], [h265, 'h265']] as const) {
    const s = await apps.stats('app-two', stream);
    clean(t, s, what);
    t.true(s.videoFrames >= 70, `${what}: ${s.videoFrames} video frames in 3 s`);
    t.true(s.firstFrameMs >= 0 && s.firstFrameMs < 1_000, `${what}: first frame after ${s.firstFrameMs} ms`);
    t.true(s.audioFrames > 0, `${what}: audio arrives`);
  }
  const dir = tempDir(t);
  const f0 = join(dir, 'ch0.flv');
  writeFileSync(f0, await apps.recorded('app-two', h264));
  t.deepEqual(decodeErrors(f0), []);
  const info = ffprobe(f0);
  t.like(info.streams.find((s) => s.codec_type === 'video'), { codec_name: 'h264', width: 640, height: 360 });
  t.like(info.streams.find((s) => s.codec_type === 'audio'), { codec_name: 'aac' });
  const es = join(dir, 'ch1.h265');
  writeFileSync(es, h265FromFlv(await apps.recorded('app-two', h265)));
  t.deepEqual(decodeErrors(es), []);
  t.like(ffprobe(es).streams[0], { codec_name: 'hevc', width: 640 });
  const { rttMs } = await apps.call<{ rttMs: number }>('ping', { client: 'app-two' });
  t.true(rttMs < 100);
});

test.serial('several apps at once each get the live stream', async (t) => {
  const peers = ['multi-1', 'multi-2', 'multi-3', 'multi-4'];
  await Promise.all(peers.map((p) => app(p)));
  const streams = await Promise.all(peers.map((p) => apps.open(p, 'action=live&channel=0')));
  await sleep(2_000);
  for (const [i, p] of peers.entries()) {
    const s = await apps.stats(p, streams[i] as number);
    clean(t, s, p);
    t.true(s.videoFrames >= 45, `${p}: ${s.videoFrames} frames`);
  }
});

test.serial('an app that stops acknowledging hits the watermarks, is paused, and resumes at a keyframe; others are unaffected', async (t) => {
  await app('stalled');
  await app('healthy');
  const levels = async () => (await apps.events('stalled')).filter((e) => e.op === 'event' && e.event === 'watermark').map((e) => (e as { level: string }).level);
  const ss = await apps.open('stalled', 'action=live&channel=0', { ack: false });
  const hs = await apps.open('healthy', 'action=live&channel=0');
  let seen: string[] = [];
  for (const until = Date.now() + 20_000; !seen.includes('high') && Date.now() < until; await sleep(100)) {
    seen = await levels();
  }
  t.deepEqual(seen.slice(0, 2), ['warn', 'high'], 'WARN once, then HIGH');
  const pausedAt = (await apps.stats('stalled', ss)).videoFrames;
  await sleep(1_500);
  t.true((await apps.stats('stalled', ss)).videoFrames - pausedAt <= 3, 'no new frames are pulled while above high');
  await apps.call('setAcking', { client: 'stalled', stream: ss, on: true });
  for (const until = Date.now() + 10_000; !seen.includes('low') && Date.now() < until; await sleep(100)) {
    seen = await levels();
  }
  t.true(seen.includes('low'), 'LOW after the app caught up');
  let after = await apps.stats('stalled', ss);
  for (const until = Date.now() + 10_000; after.videoFrames <= pausedAt + 25 && Date.now() < until; await sleep(200)) {
    after = await apps.stats('stalled', ss); // resumes at the next keyframe: up to one GOP (2 s) later
  }
  t.true(after.videoFrames > pausedAt + 25, `frames flow again (${after.videoFrames - pausedAt} since the pause)`);
  t.deepEqual(after.violations, [], 'resumed on a keyframe: no GOP started mid-way');
  t.true(after.resumes >= 1, 'the receiver saw the announced pause end on a keyframe (a jump in timestamps unless it began just before that keyframe)');
  t.is(after.gaps, 0, 'no gap the device did not announce');
  const h1 = (await apps.stats('healthy', hs)).videoFrames;
  await sleep(2_000);
  const h2 = await apps.stats('healthy', hs);
  t.true(h2.videoFrames - h1 >= 30, `the healthy app kept streaming (${h2.videoFrames - h1} frames in 2 s)`);
  clean(t, h2, 'healthy app');
});

test.serial('bad control messages are refused with reasons, nothing crashes, other apps keep streaming', async (t) => {
  await app('watcher');
  const ws = await apps.open('watcher', 'action=live&channel=0');
  await app('bad-actor', gw.token('bad-actor', ['command']));
  const expectError = async (p: Promise<unknown>, code: string, message?: RegExp) => {
    const err = await t.throwsAsync(p);
    t.true(isIvError(err, code as 'IV_ERR_INVALID_PARAM'), `${code}: got ${(err as { code?: string }).code} ${(err).message}`);
    if (message) {
      t.regex((err).message, message);
    }
  };
  await expectError(apps.open('bad-actor', 'action=live&channel=0'), 'IV_ERR_AUTH_RIGHTS');
  await app('bad-actor-2');
  await expectError(apps.open('bad-actor-2', 'action=stream&channel=0'), 'IV_ERR_INVALID_PARAM', /params\.action/);
  await expectError(apps.open('bad-actor-2', 'action=live&channel=9'), 'IV_ERR_INVALID_PARAM', /params\.channel/);
  await expectError(apps.call('request', { client: 'bad-actor-2', msg: { op: 'close', stream: 77 } }), 'IV_ERR_INVALID_PARAM', /stream/);
  await expectError(apps.call('request', { client: 'bad-actor-2', msg: { op: 'frobnicate' } }), 'IV_ERR_UNKNOWN_METHOD');
  for (const raw of [Buffer.from([0xc1, 0xff, 0x00]), Buffer.from(encodeControl({ op: 'open', id: 999_999 } as never)), Buffer.alloc(70_000)]) {
    await apps.call('sendRaw', { client: 'bad-actor-2', base64: raw.toString('base64') });
  }
  const { rttMs } = await apps.call<{ rttMs: number }>('ping', { client: 'bad-actor-2' });
  t.true(rttMs >= 0, 'the peer connection survived the garbage');
  const before = (await apps.stats('watcher', ws)).videoFrames;
  await sleep(1_000);
  const after = await apps.stats('watcher', ws);
  t.true(after.videoFrames - before >= 20, 'the watcher kept streaming');
  clean(t, after, 'watcher');
});

test.serial('bad tokens and garbage offers are refused at signaling and never reach a peer actor', async (t) => {
  const opts = (peer: string, token: string) => ({ url: gw.url, deviceId: gw.deviceId, peerId: peer, token, bindAddress: '127.0.0.1', timeoutMs: 5_000 });
  // the embedded broker already refuses them (user name = peer id, password = token)
  t.true(isIvError(await t.throwsAsync(apps.connect('late', opts('late', gw.token('late', ['live'], -10)))), 'IV_ERR_AUTH_INVALID'));
  t.true(isIvError(await t.throwsAsync(apps.connect('thief', opts('thief', gw.token('owner')))), 'IV_ERR_AUTH_INVALID'));
  const mqtt = connect(gw.url, { username: 'garbage', password: gw.token('garbage') });
  await new Promise((r) => mqtt.once('connect', r));
  const down: Record<string, unknown>[] = [];
  await mqtt.subscribeAsync(`iv/${gw.deviceId}/peer/garbage/down`);
  mqtt.on('message', (_t, p) => down.push(JSON.parse(p.toString()) as Record<string, unknown>));
  mqtt.publish(`iv/${gw.deviceId}/peer/garbage/up`, JSON.stringify({ type: 'offer', peer: 'garbage', token: gw.token('garbage'), requestId: 'req-garbage-sdp-1', ts: Date.now(), sdp: 'v=0\r\nthis is not sdp\r\n' }));
  await waitFor('refusal', () => down.length > 0, 10_000);
  t.like(down[0], { type: 'refused', requestId: 'req-garbage-sdp-1' });
  await mqtt.endAsync();
  await app('after-garbage');
  const s = await apps.open('after-garbage', 'action=live&channel=1');
  await sleep(800);
  t.true((await apps.stats('after-garbage', s)).videoFrames > 5);
});

test.serial('an app that vanishes without a word is cleaned up when its connection drops', async (t) => {
  await app('ghost');
  await apps.open('ghost', 'action=live&channel=0');
  await sleep(300);
  const closedBefore = gw.log.filter((l) => l.includes('[peer ghost] closed')).length;
  await apps.call('dropConnection', { client: 'ghost' });
  await waitFor('the gateway noticing', () => gw.log.filter((l) => l.includes('[peer ghost] closed')).length > closedBefore, 20_000);
  await app('ghost-2');
  t.true(await apps.open('ghost-2', 'action=live&channel=0') > 0, 'new apps still connect');
});

test.serial('ivgw view, run as a user would against ivgw run, saves a stream that decodes and reports timings', async (t) => {
  const { spawnSync } = await import('node:child_process');
  const { IVGW } = await import('../helpers/gateway.js');
  const out = join(tempDir(t), 'view.flv');
  const r = spawnSync(process.execPath, [IVGW, 'view', '--broker', gw.url, '--device', gw.deviceId, '--peer', 'viewer', '--token', gw.token('viewer', ['live']), '--seconds', '2', '--out', out, '--json'], { encoding: 'utf8', timeout: 60_000 });
  t.is(r.status, 0, `${r.stdout}${r.stderr}`);
  const report = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as { videoFrames: number; violations: string[]; gaps: number; timeToFirstFrameMs: number };
  t.true(report.videoFrames >= 45, `${report.videoFrames} frames`);
  t.deepEqual(report.violations, []);
  t.is(report.gaps, 0);
  t.true(report.timeToFirstFrameMs < 5_000);
  t.deepEqual(decodeErrors(out), []);
  t.like(ffprobe(out).streams.find((s) => s.codec_type === 'video'), { codec_name: 'h264' });
  t.false(gw.log.some((l) => l.includes('FATAL')), 'the gateway stayed healthy');
});
