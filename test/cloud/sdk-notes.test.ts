/**
 * The cloud storage SDK API against the spec's notes (one test per numbered note),
 * with the sample media pushed in real time, a real local or S3 (s3rver) store, and
 * ffmpeg/ffprobe checking what was recorded.
 * Serial: each test records in real time and decodes with ffmpeg; run together they would
 * starve the P2P tests that share the machine (DTLS handshakes with deadlines).
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CloudModule } from '../../actors/cloud/cloud-module.js';
import { LocalDirStore } from '../../actors/cloud/local-dir-store.js';
import { isIvError, type IvErrorCode } from '../../runtime/errors.js';
import { exitOnTeardown, fakeJpeg, feedInto, localCloud, SAMPLE_FORMAT, sampleFrames, sleep, until, writeLocalPlan } from '../helpers/cloud.js';
import { decodeErrors, encodeClip, accessUnits, ffprobe, tempDir } from '../helpers/media.js';
import { startS3 } from '../helpers/s3.js';

const MB = 1024 * 1024;

interface EventRecordJson {
  status: string;
  eventStart: string;
  streamStart: string;
  videoStart: string | null;
  picture: string | null;
  playlists: string[];
  durationS: number;
}

async function records(storeDir: string): Promise<EventRecordJson[]> {
  const store = new LocalDirStore(storeDir);
  const keys = (await store.list('')).filter((k) => k.includes('/events/') && k.endsWith('.json'));
  return Promise.all(keys.map(async (k) => JSON.parse(new TextDecoder().decode(await store.get(k))) as EventRecordJson));
}

function callbacks() {
  const log: string[] = [];
  const results: { pic: Uint8Array; code: IvErrorCode }[] = [];
  return {
    log,
    results,
    params: {
      onPushStart: () => log.push('start'),
      onPushStop: () => log.push('stop'),
      onPictureResult: (pic: Uint8Array, code: IvErrorCode) => results.push({ pic, code }),
    },
  };
}

test.serial('note 1: uploads survive a store outage (S3): segments wait in the spool and arrive once the store is back', async (t) => {
  const s3 = await startS3();
  t.teardown(() => s3.close());
  const dir = tempDir(t);
  const cloud = new CloudModule({ deviceId: 'dev1', store: s3.config, spoolDir: join(dir, 'spool') });
  exitOnTeardown(t, cloud);
  const { S3Store } = await import('../../actors/cloud/s3-store.js');
  const store = new S3Store(s3.config);
  await store.put('dev1/plan.json', new TextEncoder().encode(JSON.stringify({ fullTime: { enabled: true } })), 'application/json', 5_000);
  const cb = callbacks();
  await cloud.init({ maxGopSize: MB, avFormat: SAMPLE_FORMAT, ...cb.params });
  t.deepEqual(cb.log, ['start'], 'a valid full-time plan starts the push');
  await cloud.setTransTime(1_000, 2_000);
  const feed = feedInto(cloud).start();
  await sleep(2_500);
  await s3.stop();
  await sleep(4_500);
  const during = (await cloud.stats()) as { upload: { pending: number; failures: number } };
  t.true(during.upload.pending >= 2, `segments wait in the spool while the store is down (${during.upload.pending} pending)`);
  t.true(during.upload.failures >= 1);
  await s3.start();
  feed.stop();
  t.truthy(await until(async () => ((await cloud.stats()) as { upload: { pending: number } }).upload.pending === 0, 15_000), 'the spool drains once the store is back');
  await cloud.exit();
  t.deepEqual(cb.log, ['start', 'stop']);
  const keys = await store.list('dev1/0/', 5_000);
  const segs = keys.filter((k) => k.endsWith('.m4s'));
  t.true(segs.length >= 4, `${segs.length} segments in the store`);
  const playlist = keys.find((k) => k.endsWith('index.m3u8')) as string;
  const text = new TextDecoder().decode(await store.get(playlist, 5_000));
  t.true(text.includes('#EXT-X-ENDLIST'));
  t.is((text.match(/\.m4s/g) ?? []).length, segs.length, 'the playlist lists every stored segment');
  // the bytes in the store are the spooled bytes
  for (const k of segs) {
    t.deepEqual(new Uint8Array((await store.get(k, 5_000)) as Uint8Array), new Uint8Array(readFileSync(join(dir, 'spool', 'objects', k))));
  }
});

test.serial('note 2 / note 9: the pre-record (last GOP, within maxGopSize) is recorded ahead of the event and the HLS decodes', async (t) => {
  const dir = tempDir(t);
  const { cloud, storeDir } = localCloud(t, dir);
  writeLocalPlan(storeDir, 'dev1', { event: { enabled: true } });
  const cb = callbacks();
  await cloud.init({ maxGopSize: 800 * 1024, avFormat: SAMPLE_FORMAT, ...cb.params, onCapturePicture: () => fakeJpeg() });
  t.deepEqual(cb.log, [], 'an event plan alone starts nothing (note 10)');
  const feed = feedInto(cloud).start();
  await until(() => feed.positionMs >= 3_600, 10_000, 10); // GOP starts at 2 s: 1.6 s into it
  const startedAt = Date.now();
  await cloud.eventStart(2);
  t.deepEqual(cb.log, ['start']);
  const store = new LocalDirStore(storeDir);
  // catching up: the pre-record's init segment and the trigger record reach the store quickly
  t.truthy(await until(async () => (await store.list('dev1/0/')).some((k) => k.endsWith('init.mp4')), 1_500), 'the init segment is in the store within 1.5 s');
  await until(() => Date.now() - startedAt >= 3_000, 5_000);
  await cloud.eventStop(2);
  feed.stop();
  await cloud.exit();
  const [rec] = await records(storeDir);
  t.truthy(rec);
  const r = rec as EventRecordJson;
  t.is(r.status, 'closed');
  const preRecordMs = Date.parse(r.eventStart) - Date.parse(r.videoStart as string);
  t.true(preRecordMs >= 1_300 && preRecordMs <= 2_100, `video starts ${preRecordMs} ms before the event (the GOP's keyframe)`);
  const playlist = join(storeDir, r.playlists[0] as string);
  t.deepEqual(decodeErrors(playlist), []);
  const duration = Number(ffprobe(playlist).format?.duration);
  t.true(duration >= 4.2 && duration <= 5.2, `playlist lasts ${duration} s: 3 s event + ~1.6 s pre-record`);
  t.is(r.durationS, Math.round(duration * 1000) / 1000);
});

test.serial('note 3: maxGopSize must be a multiple of 4 KB and hold an I-frame', async (t) => {
  const dir = tempDir(t);
  const { cloud, storeDir } = localCloud(t, dir);
  writeLocalPlan(storeDir, 'dev1', { fullTime: { enabled: true } });
  for (const bad of [0, 1000, 4097, 800 * 1000]) {
    const err = await t.throwsAsync(cloud.init({ maxGopSize: bad, avFormat: SAMPLE_FORMAT }));
    t.true(isIvError(err, 'IV_ERR_INVALID_PARAM') && err.field === 'maxGopSize', `maxGopSize ${bad}`);
  }
  const big = join(dir, 'big.h264');
  encodeClip(big, 'h264', ['-g', '25', '-bf', '0', '-crf', '2', '-x264-params', 'repeat-headers=1'], 1);
  const iframe = accessUnits(big, 'h264')[0] as Uint8Array;
  await cloud.init({ maxGopSize: 8192, avFormat: { video: { codec: 'h264' } } });
  t.true(iframe.length > 8192, `the I-frame is ${iframe.length} bytes`);
  const err = t.throws(() => cloud.pushStream('video', { data: iframe, pts: 0 }));
  t.true(isIvError(err, 'IV_ERR_AV_FRAME_TOO_LARGE'), `${err?.message}`);
  await cloud.exit();
});

test.serial('note 4: the device may stop pushing without onPushStop; recording ends cleanly and resumes', async (t) => {
  // the 120 s pause itself runs on a manual clock in recorder.test.ts
  const dir = tempDir(t);
  const { cloud, storeDir } = localCloud(t, dir);
  writeLocalPlan(storeDir, 'dev1', { fullTime: { enabled: true } });
  await cloud.init({ maxGopSize: MB, avFormat: SAMPLE_FORMAT });
  const feed = feedInto(cloud).start();
  await sleep(2_500);
  feed.stop();
  await sleep(1_000);
  feed.start();
  await sleep(2_500);
  feed.stop();
  await cloud.exit();
  const playlist = (await new LocalDirStore(storeDir).list('dev1/0/')).find((k) => k.endsWith('index.m3u8')) as string;
  t.deepEqual(decodeErrors(join(storeDir, playlist)), []);
});

test.serial('note 5: a format change without exit/init is refused; after exit/init the new format is accepted', async (t) => {
  const dir = tempDir(t);
  const { cloud, storeDir } = localCloud(t, dir);
  writeLocalPlan(storeDir, 'dev1', { fullTime: { enabled: true } });
  const small = join(dir, 'small.h264');
  encodeClip(small, 'h264', ['-g', '25', '-bf', '0', '-x264-params', 'repeat-headers=1'], 1);
  const smallKey = accessUnits(small, 'h264')[0] as Uint8Array;
  await cloud.init({ maxGopSize: MB, avFormat: SAMPLE_FORMAT });
  cloud.pushStream('video', { data: sampleFrames().video[0] as Uint8Array, pts: 0 });
  const err = t.throws(() => cloud.pushStream('video', { data: smallKey, pts: 40 }));
  t.true(isIvError(err, 'IV_ERR_AV_FORMAT_CHANGED'), err?.message);
  t.notThrows(() => cloud.pushStream('audio', { data: sampleFrames().audio[0] as Uint8Array, pts: 0 }), 'AAC 16 kHz accepted as declared');
  await cloud.exit();
  await cloud.init({ maxGopSize: MB, avFormat: { video: { codec: 'h264' }, audio: { codec: 'aac', sampleRate: 44100, channels: 1 } } });
  t.notThrows(() => cloud.pushStream('video', { data: smallKey, pts: 0 }), 'the new size after exit/init');
  const aac = t.throws(() => cloud.pushStream('audio', { data: sampleFrames().audio[0] as Uint8Array, pts: 0 }));
  t.true(isIvError(aac, 'IV_ERR_AV_FORMAT_CHANGED'), '16 kHz ADTS into a 44.1 kHz declaration');
  await cloud.exit();
});

test.serial('note 6: buffered media stays within maxGopSize while nothing records (the ring is the pre-record buffer)', async (t) => {
  const dir = tempDir(t);
  const { cloud, storeDir } = localCloud(t, dir);
  writeLocalPlan(storeDir, 'dev1', { event: { enabled: true } });
  const maxGopSize = 64 * 1024;
  await cloud.init({ maxGopSize, avFormat: SAMPLE_FORMAT });
  const errors: unknown[] = [];
  const feed = feedInto(cloud, errors).start();
  await sleep(4_000);
  feed.stop();
  const s = (await cloud.stats()) as { ingest: { ringOldest: number; ringHead: number; videoKbps: number }; frames: number; recording: boolean };
  t.deepEqual(errors, []);
  t.false(s.recording);
  t.is(s.frames, 0, 'nothing is read while nothing records');
  t.true(s.ingest.ringOldest > 0, 'older frames were overwritten: ~100 KB pushed into a 64 KB buffer');
  await cloud.exit();
});

test.serial('note 7: an event shorter than 3 s still uploads its record, picture and video', async (t) => {
  const dir = tempDir(t);
  const { cloud, storeDir } = localCloud(t, dir);
  writeLocalPlan(storeDir, 'dev1', { event: { enabled: true } });
  const cb = callbacks();
  const pic = fakeJpeg(3_000);
  await cloud.init({ maxGopSize: MB, avFormat: SAMPLE_FORMAT, ...cb.params, onCapturePicture: () => pic });
  const feed = feedInto(cloud).start();
  await sleep(2_500);
  await cloud.eventStart(7);
  await sleep(800);
  await cloud.eventStop(7);
  t.deepEqual(cb.log, ['start', 'stop']);
  await until(() => cb.results.length > 0, 5_000);
  t.is(cb.results.length, 1);
  t.is(cb.results[0]?.pic, pic, 'the same picture object comes back');
  t.is(cb.results[0]?.code, 'IV_ERR_NONE');
  feed.stop();
  await cloud.exit();
  const [r] = await records(storeDir);
  t.is(r?.status, 'closed');
  t.deepEqual(new Uint8Array(readFileSync(join(storeDir, r?.picture as string))), pic);
  const playlist = join(storeDir, r?.playlists[0] as string);
  t.deepEqual(decodeErrors(playlist), []);
  t.true(Number(ffprobe(playlist).format?.duration) >= 0.8, 'its video (pre-record included) is there');
});

test.serial('note 8: distinct events run in parallel; the same event twice is refused', async (t) => {
  const dir = tempDir(t);
  const { cloud, storeDir } = localCloud(t, dir);
  writeLocalPlan(storeDir, 'dev1', { event: { enabled: true } });
  const cb = callbacks();
  await cloud.init({ maxGopSize: MB, avFormat: SAMPLE_FORMAT, ...cb.params });
  const feed = feedInto(cloud).start();
  await sleep(1_000);
  await cloud.eventStart(1);
  await sleep(1_000);
  await cloud.eventStart(2);
  const dup = await t.throwsAsync(cloud.eventStart(1));
  t.true(isIvError(dup, 'IV_ERR_CS_EVENT_RUNNING') && dup.field === 'eventId');
  await sleep(1_500);
  await cloud.eventStop(1);
  t.deepEqual(cb.log, ['start'], 'event 2 still runs: no stop yet');
  await sleep(1_000);
  await cloud.eventStop(2);
  t.deepEqual(cb.log, ['start', 'stop']);
  t.true(isIvError(await t.throwsAsync(cloud.eventStop(2)), 'IV_ERR_CS_EVENT_NOT_RUNNING'));
  for (const bad of [0, 17, 1.5]) {
    t.true(isIvError(await t.throwsAsync(cloud.eventStart(bad)), 'IV_ERR_INVALID_PARAM'), `event id ${bad}`);
  }
  feed.stop();
  await cloud.exit();
  const recs = await records(storeDir);
  t.is(recs.length, 2);
  for (const r of recs) {
    t.is(r.status, 'closed');
    t.deepEqual(decodeErrors(join(storeDir, r.playlists[0] as string)), []);
  }
  t.is(recs[0]?.playlists[0]?.split('/').slice(0, -1).join('/'), recs[1]?.playlists[0]?.split('/').slice(0, -1).join('/'), 'both events point into one shared session');
});

test.serial('note 10: no plan: no push start, pushes and events refused; a full-time plan starts and, when it lapses, stops the push', async (t) => {
  const dir = tempDir(t);
  const { cloud, storeDir } = localCloud(t, dir);
  const cb = callbacks();
  await cloud.init({ maxGopSize: MB, avFormat: SAMPLE_FORMAT, ...cb.params });
  t.deepEqual(cb.log, []);
  const frame = sampleFrames().video[0] as Uint8Array;
  t.true(isIvError(t.throws(() => cloud.pushStream('video', { data: frame, pts: 0 })), 'IV_ERR_CS_APPLY_NO_SERVICE'));
  t.true(isIvError(await t.throwsAsync(cloud.eventStart(1)), 'IV_ERR_CS_APPLY_NO_SERVICE'));
  writeLocalPlan(storeDir, 'dev1', { fullTime: { enabled: true, expiresAt: Date.now() + 3_500 } });
  const r = await cloud.getBalanceInfo(2);
  t.is(r.code, 'IV_ERR_NONE');
  t.true(r.info.fullTime.enabled);
  t.deepEqual(cb.log, ['start'], 'the full-time plan became valid: push start');
  const feed = feedInto(cloud).start();
  await until(() => cb.log.length === 2, 6_000);
  t.deepEqual(cb.log, ['start', 'stop'], 'the plan lapsed: push stop');
  feed.stop();
  const s = (await cloud.stats()) as { recording: boolean; sessions: number };
  t.false(s.recording);
  t.is(s.sessions, 1);
  t.true(isIvError(t.throws(() => cloud.pushStream('video', { data: frame, pts: 99_000 })), 'IV_ERR_CS_APPLY_NO_SERVICE'));
  await cloud.exit();
  const playlist = (await new LocalDirStore(storeDir).list('dev1/0/')).find((k) => k.endsWith('index.m3u8')) as string;
  t.true(readFileSync(join(storeDir, playlist), 'utf8').includes('#EXT-X-ENDLIST'));
});

test.serial('note 10: an event plan that lapses while an event runs stops the push (the spec: 云存服务到期); the event can still be stopped', async (t) => {
  const dir = tempDir(t);
  const { cloud, storeDir } = localCloud(t, dir);
  const cb = callbacks();
  writeLocalPlan(storeDir, 'dev1', { event: { enabled: true, expiresAt: Date.now() + 3_000 } });
  await cloud.init({ maxGopSize: MB, avFormat: SAMPLE_FORMAT, ...cb.params });
  const feed = feedInto(cloud).start();
  await cloud.eventStart(2);
  t.deepEqual(cb.log, ['start']);
  await until(() => cb.log.length === 2, 6_000);
  t.deepEqual(cb.log, ['start', 'stop'], 'the plan lapsed mid-event: push stop');
  feed.stop();
  await cloud.eventStop(2);
  t.deepEqual(cb.log, ['start', 'stop'], 'no second stop');
  await cloud.exit();
});

test.serial('note 11: an event without picture never calls onPictureResult; a picture that is not JPEG, or comes after the reply deadline, is handed back with an error, once', async (t) => {
  const dir = tempDir(t);
  const { cloud, storeDir } = localCloud(t, dir);
  writeLocalPlan(storeDir, 'dev1', { event: { enabled: true } });
  const cb = callbacks();
  const notJpeg = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3, 4]);
  const pics: (Uint8Array | null)[] = [null, notJpeg];
  let slowPicture: (() => Promise<Uint8Array>) | undefined = undefined;
  await cloud.init({ maxGopSize: MB, avFormat: SAMPLE_FORMAT, ...cb.params, onCapturePicture: () => slowPicture?.() ?? pics.shift() ?? null });
  const feed = feedInto(cloud).start();
  await cloud.eventStart(4);
  await sleep(500);
  await cloud.eventStop(4);
  await sleep(1_000);
  t.deepEqual(cb.results, [], 'no picture: no result callback');
  await cloud.eventStart(4);
  await sleep(300);
  await cloud.eventStop(4);
  await until(() => cb.results.length > 0, 2_000);
  t.is(cb.results.length, 1);
  t.is(cb.results[0]?.pic, notJpeg);
  t.is(cb.results[0]?.code, 'IV_ERR_INVALID_PARAM');
  t.true(cloud.problems.some((p) => p.includes('not a JPEG')));
  // a picture that comes after the reply deadline: the event goes on without it, the picture is handed back once
  await cloud.setTransTime(30_000, 200);
  const late = new Uint8Array([0xff, 0xd8, 0xff, 0xd9]);
  slowPicture = async () => {
    await sleep(600);
    return late;
  };
  await cloud.eventStart(4);
  await sleep(300);
  await cloud.eventStop(4);
  await until(() => cb.results.length > 1, 3_000);
  t.like(cb.results[1], { pic: late, code: 'IV_ERR_TIMEOUT' });
  await sleep(500);
  t.is(cb.results.length, 2, 'handed back exactly once');
  t.true(cloud.problems.some((p) => p.includes('onCapturePicture(4)')));
  feed.stop();
  await cloud.exit();
  const recs = await records(storeDir);
  t.is(recs.length, 3);
  t.true(recs.every((r) => r.picture === null && r.status === 'closed'));
});
