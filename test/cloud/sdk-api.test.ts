/**
 * The cloud SDK API's parameters and the plan query: blocking with timeout against a
 * control endpoint, the cache, _ext time rules, set_trans_time, typed refusals.
 * Serial: each test records in real time and decodes with ffmpeg; run together they would
 * starve the P2P tests that share the machine (DTLS handshakes with deadlines).
 */
import test from 'ava';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudModule, extTimes, IV_CM_STREAM_TYPE } from '../../actors/cloud/cloud-module.js';
import { isIvError } from '../../runtime/errors.js';
import { exitOnTeardown, feedInto, localCloud, SAMPLE_FORMAT, sleep, writeLocalPlan } from '../helpers/cloud.js';
import { decodeErrors, ffprobe, tempDir } from '../helpers/media.js';
import { join } from 'node:path';

/** A control endpoint answering the plan JSON; `hang` makes it never answer. */
async function planEndpoint(t: { teardown(fn: () => unknown): void }): Promise<{ url: string; state: { plan: unknown; hang: boolean; requests: number } }> {
  const state = { plan: { fullTime: { enabled: true }, storageDays: 7 } as unknown, hang: false, requests: 0 };
  const server: Server = createServer((_req, res) => {
    state.requests++;
    if (state.hang) {
      return; // never answers
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(state.plan));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/plan`, state };
}

test.serial('getBalanceInfo: blocking query, cached data with IV_ERR_CS_QUERY_SERVICE_TIMEOUT on timeout, timeout 0 answers from the cache', async (t) => {
  const dir = tempDir(t);
  const ep = await planEndpoint(t);
  const cloud = new CloudModule({ deviceId: 'dev1', store: { kind: 'local', dir }, planUrl: ep.url });
  exitOnTeardown(t, cloud);
  const fresh = await cloud.getBalanceInfo(2);
  t.is(fresh.code, 'IV_ERR_NONE');
  t.true(fresh.info.fullTime.enabled);
  t.is(fresh.info.storageDays, 7);
  t.true(fresh.info.fetchedAt > 0);
  ep.state.hang = true;
  const started = Date.now();
  const late = await cloud.getBalanceInfo(1);
  const waited = Date.now() - started;
  t.is(late.code, 'IV_ERR_CS_QUERY_SERVICE_TIMEOUT');
  t.true(waited >= 950 && waited < 3_000, `blocked ${waited} ms for a 1 s timeout`);
  t.deepEqual(late.info, fresh.info, 'the cached plan comes with the timeout');
  const requests = ep.state.requests;
  const cached = await cloud.getBalanceInfo(0);
  t.is(cached.code, 'IV_ERR_NONE');
  t.deepEqual(cached.info, fresh.info);
  t.is(ep.state.requests, requests, 'timeout 0 does not ask the endpoint');
  ep.state.hang = false;
  ep.state.plan = { fullTime: { enabled: 'yes' } };
  const bad = await cloud.getBalanceInfo(1);
  t.is(bad.code, 'IV_ERR_CS_QUERY_SERVICE_TIMEOUT', 'a malformed plan counts as no answer');
  t.true(cloud.problems.some((p) => p.includes('plan.fullTime.enabled')), 'and the problem names the field');
  for (const v of [-1, 1.5, 3601]) {
    t.true(isIvError(await t.throwsAsync(cloud.getBalanceInfo(v)), 'IV_ERR_INVALID_PARAM'));
  }
});

test.serial('the plan cache is refreshed at least hourly: planRefreshS above 3600 is refused, and refreshes follow a plan change', async (t) => {
  const dir = tempDir(t);
  t.true(isIvError(t.throws(() => new CloudModule({ deviceId: 'dev1', store: { kind: 'local', dir }, planRefreshS: 3_601 })), 'IV_ERR_INVALID_PARAM'));
  const ep = await planEndpoint(t);
  ep.state.plan = { event: { enabled: true } };
  const cloud = new CloudModule({ deviceId: 'dev1', store: { kind: 'local', dir }, planUrl: ep.url, spoolDir: `${dir}/spool`, planRefreshS: 1 });
  exitOnTeardown(t, cloud);
  const log: string[] = [];
  await cloud.init({ maxGopSize: 1 << 20, avFormat: SAMPLE_FORMAT, onPushStart: () => log.push('start'), onPushStop: () => log.push('stop') });
  t.deepEqual(log, []);
  ep.state.plan = { fullTime: { enabled: true } };
  await sleep(1_600);
  t.deepEqual(log, ['start'], 'the refreshed plan opened full-time recording');
  ep.state.plan = { fullTime: { enabled: false } };
  await sleep(1_300);
  t.deepEqual(log, ['start', 'stop']);
  t.true(ep.state.requests >= 3);
  await cloud.exit();
});

test.serial('_ext times: < 300 is relative, >= 300 absolute, mixing is refused naming the field', (t) => {
  const now = 1_800_000_000_000;
  t.deepEqual(extTimes(15, 20, 'eventStartS', 'streamStartS', now), [now - 15_000, now - 20_000]);
  t.deepEqual(extTimes(1_799_999_990, 1_799_999_980, 'eventStartS', 'streamStartS', now), [1_799_999_990_000, 1_799_999_980_000]);
  const mixed = t.throws(() => extTimes(15, 1_799_999_980, 'eventStartS', 'streamStartS', now));
  t.true(isIvError(mixed, 'IV_ERR_INVALID_PARAM') && mixed.field === 'streamStartS', mixed?.message);
  t.true(isIvError(t.throws(() => extTimes(-1, 5, 'eventStopS', 'streamStopS', now)), 'IV_ERR_INVALID_PARAM'));
  const future = t.throws(() => extTimes(1_800_000_600, 1_800_000_000, 'eventStartS', 'streamStartS', now));
  t.true(isIvError(future, 'IV_ERR_INVALID_PARAM') && future.field === 'eventStartS');
});

test.serial('eventStartExt: stream start 3 s back takes the recording from there; start and stop forms must pair', async (t) => {
  const dir = tempDir(t);
  const { cloud, storeDir } = localCloud(t, dir);
  writeLocalPlan(storeDir, 'dev1', { fullTime: { enabled: true }, event: { enabled: true } });
  await cloud.init({ maxGopSize: 1 << 20, avFormat: SAMPLE_FORMAT });
  const feed = feedInto(cloud).start();
  await sleep(4_500);
  await cloud.eventStartExt(9, 1, 3);
  const wrong = await t.throwsAsync(cloud.eventStop(9));
  t.true(isIvError(wrong, 'IV_ERR_INVALID_PARAM') && /eventStopExt/.test(wrong.message), wrong?.message);
  await sleep(1_000);
  await cloud.eventStopExt(9, 0, 0);
  await cloud.eventStart(10);
  t.true(isIvError(await t.throwsAsync(cloud.eventStopExt(10, 0, 0)), 'IV_ERR_INVALID_PARAM'));
  await cloud.eventStop(10);
  feed.stop();
  await cloud.exit();
  const { LocalDirStore } = await import('../../actors/cloud/local-dir-store.js');
  const store = new LocalDirStore(storeDir);
  const recKey = (await store.list('dev1/0/events/')).find((k) => k.includes('-e9.json')) as string;
  const rec = JSON.parse(new TextDecoder().decode(await store.get(recKey))) as { eventStart: string; streamStart: string; videoStart: string; durationS: number };
  t.is(Date.parse(rec.eventStart) - Date.parse(rec.streamStart), 2_000, 'times kept as given: event 1 s back, stream 3 s back');
  t.true(Date.parse(rec.videoStart) <= Date.parse(rec.streamStart), 'the video starts at or before the stream start (GOP aligned)');
  t.true(rec.durationS >= 4, `${rec.durationS} s recorded for a 4 s stream range`);
});

test.serial('bad parameters are refused with typed errors naming the field; nothing is initialised by a refused init', async (t) => {
  const dir = tempDir(t);
  const { cloud, storeDir } = localCloud(t, dir);
  writeLocalPlan(storeDir, 'dev1', { fullTime: { enabled: true } });
  const field = async (p: Promise<unknown>): Promise<string | undefined> => {
    const e = await t.throwsAsync(p);
    t.true(isIvError(e, 'IV_ERR_INVALID_PARAM'), e?.message);
    return (e as { field?: string }).field;
  };
  t.is(await field(cloud.init({ maxGopSize: 1 << 20, avFormat: {} })), 'avFormat');
  t.is(await field(cloud.init({ maxGopSize: 1 << 20, avFormat: { video: { codec: 'vp8' as 'h264' } } })), 'avFormat.video.codec');
  t.is(await field(cloud.init({ maxGopSize: 1 << 20, avFormat: { audio: { codec: 'aac', sampleRate: 16000, channels: 3 as 1 } } })), 'avFormat.audio.channels');
  t.is(await field(cloud.init({ maxGopSize: 1 << 20, avFormat: { audio: { codec: 'g711a', sampleRate: 8000, channels: 1, samplesPerFrame: 160 } } })), 'avFormat.audio.samplesPerFrame');
  t.false(cloud.initialized);
  t.true(isIvError(t.throws(() => cloud.pushStream('video', { data: new Uint8Array(4), pts: 0 })), 'IV_ERR_NOT_INITIALIZED'));
  t.true(isIvError(await t.throwsAsync(cloud.exit()), 'IV_ERR_NOT_INITIALIZED'));
  await cloud.init({ maxGopSize: 1 << 20, avFormat: { video: { codec: 'h264' }, audio: { codec: 'g711a', sampleRate: 8000, channels: 2, samplesPerFrame: 2048 } } });
  t.true(isIvError(await t.throwsAsync(cloud.init({ maxGopSize: 1 << 20, avFormat: SAMPLE_FORMAT })), 'IV_ERR_ALREADY_INITIALIZED'));
  t.is(await field(cloud.setTransTime(0, 1_000)), 'uploadTimeoutMs');
  t.is(await field(cloud.setTransTime(1_000, 0)), 'replyTimeoutMs');
  await cloud.setTransTime(2_000, 3_000);
  const pushField = (fn: () => void): string | undefined => {
    const e = t.throws(fn);
    return (e as { field?: string }).field;
  };
  t.is(pushField(() => cloud.pushStream(7, { data: new Uint8Array(4), pts: 0 })), 'type');
  t.is(pushField(() => cloud.pushStream('video', { data: 'x' as unknown as Uint8Array, pts: 0 })), 'pack.data');
  t.is(pushField(() => cloud.pushStream('video', { data: new Uint8Array(4), pts: Number.NaN })), 'pack.pts');
  const garbage = t.throws(() => cloud.pushStream('video', { data: new Uint8Array([0, 0, 0, 1, 0x65, 1, 2]), pts: 0 }));
  t.true(isIvError(garbage) && garbage.code.startsWith('IV_ERR_AV_'), garbage?.message);
  const audio = t.throws(() => cloud.pushStream('audio', { data: new Uint8Array(100), pts: 0 }));
  t.true(isIvError(audio, 'IV_ERR_AV_BAD_AUDIO_FRAME'), `stereo G.711 needs 2048 bytes: ${audio?.message}`);
  t.notThrows(() => cloud.pushStream('audio', { data: new Uint8Array(2048), pts: 0 }));
  // the SDK's numbers (iv_cm_stream_type_e): AUDIO 0, VIDEO 1; a G.711 frame as 0 is audio, as 1 it is checked as video
  t.is(IV_CM_STREAM_TYPE.AUDIO, 0);
  t.is(IV_CM_STREAM_TYPE.VIDEO, 1);
  t.notThrows(() => cloud.pushStream(0, { data: new Uint8Array(2048), pts: 40 }));
  const asVideo = t.throws(() => cloud.pushStream(1, { data: new Uint8Array(2048), pts: 40 }));
  t.true(isIvError(asVideo) && asVideo.code.startsWith('IV_ERR_AV_'), `2048 zero bytes are no H.264 frame: ${asVideo?.message}`);
  t.true(isIvError(t.throws(() => new CloudModule({ deviceId: 'dev/../x', store: { kind: 'local', dir } })), 'IV_ERR_INVALID_PARAM'));
  t.true(isIvError(t.throws(() => new CloudModule({ deviceId: 'dev1', store: { kind: 'ftp' } as never })), 'IV_ERR_INVALID_PARAM'));
  await cloud.exit();
});

test.serial('a crashed cloud worker is restarted and recording goes on: full time and a running event are restored', async (t) => {
  const dir = tempDir(t);
  const { cloud, storeDir } = localCloud(t, dir);
  writeLocalPlan(storeDir, 'dev1', { fullTime: { enabled: true }, event: { enabled: true } });
  const log: string[] = [];
  await cloud.init({ maxGopSize: 1 << 20, avFormat: SAMPLE_FORMAT, onPushStart: () => log.push('start'), onPushStop: () => log.push('stop') });
  const feed = feedInto(cloud).start();
  await sleep(2_500);
  await cloud.eventStart(3);
  await sleep(2_100); // the first segment (0-2 s) is accepted once the 4 s keyframe closes the second
  const worker = (cloud as unknown as { system: { worker(name: string): { kill(): void } | undefined } }).system.worker('cloud');
  t.truthy(worker);
  worker?.kill(); // fault injection: the whole cloud worker dies
  await sleep(5_000);
  await cloud.eventStop(3);
  feed.stop();
  t.true(cloud.problems.some((p) => p.includes('the cloud actor restarted')), cloud.problems.join('; '));
  t.deepEqual(log, ['start'], 'the device saw no stop: recording went on');
  await cloud.exit();
  const { LocalDirStore } = await import('../../actors/cloud/local-dir-store.js');
  const store = new LocalDirStore(storeDir);
  const playlists = (await store.list('dev1/0/')).filter((k) => k.endsWith('index.m3u8'));
  let recorded = 0;
  for (const p of playlists) {
    t.deepEqual(decodeErrors(join(storeDir, p)), [], p);
    recorded += Number(ffprobe(join(storeDir, p)).format?.duration);
  }
  // the restarted actor resumed at the first keyframe not yet in an accepted segment: nothing was lost
  const pushed = feed.positionMs / 1000;
  t.true(recorded >= pushed - 0.6, `${recorded.toFixed(2)} s recorded of ${pushed.toFixed(2)} s pushed: the segment being muxed at the crash was recorded again`);
  t.true(playlists.length >= 2, 'in a session before and one after the restart');
  const records = (await store.list('dev1/0/events/')).filter((k) => k.endsWith('.json'));
  const closed = await Promise.all(records.map(async (k) => JSON.parse(new TextDecoder().decode(await store.get(k))) as { status: string; playlists: string[] }));
  t.true(closed.some((r) => r.status === 'closed' && r.playlists.length > 0), 'the event continued after the restart and was closed');
});
