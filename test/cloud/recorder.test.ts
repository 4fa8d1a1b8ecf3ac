/**
 * The recorder on a manual clock (no worker): the spec's 120 s no-data pause, hourly
 * session rotation, event bookkeeping, and what reaches the segment store.
 */
import test from 'ava';
import { Ingest } from '../../actors/capture/ingest.js';
import { Recorder } from '../../actors/cloud/recorder.js';
import { RecordingStore } from '../../recording/recording-store.js';
import { FrameRing, type Frame } from '../../runtime/frame-ring.js';
import { isIvError } from '../../runtime/errors.js';
import { sampleFrames } from '../helpers/cloud.js';
import { tempDir } from '../helpers/media.js';

/** Ring frames (length-prefixed video) of the sample, `seconds` long, timestamps from `fromMs`. */
function ringFrames(seconds: number, fromMs = 0): Frame[] {
  const ring = FrameRing.create({ dataBytes: 8 << 20, slots: 4096 });
  const ingest = new Ingest(ring, { video: { codec: 'h264' }, audio: { codec: 'aac', sampleRate: 16000, channels: 1 } });
  const s = sampleFrames();
  const frames: { pts: number; video: boolean; i: number }[] = [];
  for (let i = 0; i < seconds * 25; i++) {frames.push({ pts: fromMs + i * 40, video: true, i });}
  for (let i = 0; i < (seconds * 16000) / 1024; i++) {frames.push({ pts: fromMs + (i * 1024 * 1000) / 16000, video: false, i });}
  frames.sort((a, b) => a.pts - b.pts);
  for (const f of frames) {
    const r = f.video ? ingest.pushVideo(s.video[f.i % s.video.length] as Uint8Array, f.pts * 1000) : ingest.pushAudio(s.audio[f.i % s.audio.length] as Uint8Array, f.pts * 1000);
    if (!r.ok) {throw r.error;}
  }
  const reader = ring.reader('oldest');
  const out: Frame[] = [];
  for (let f = reader.read(); f; f = reader.read()) {out.push(f);}
  return out;
}

async function setup(t: Parameters<typeof tempDir>[0]) {
  const spool = await RecordingStore.open(tempDir(t));
  let now = Date.parse('2026-11-21T10:00:00Z');
  const sessions: string[] = [];
  const rec = new Recorder({
    device: 'dev1',
    channel: 0,
    video: { codec: 'h264', fps: 25 },
    audio: { codec: 'aac', sampleRate: 16000, channels: 1 },
    segmentS: 2,
    sessionMaxS: 3600,
    noDataPauseMs: 120_000,
    now: () => now,
    accept: (key, bytes) => spool.accept(key, bytes),
    create: (key) => spool.create(key),
    onSession: (what, dir) => sessions.push(`${what} ${dir}`),
  });
  /** Feed frames in media time, advancing the clock with them. */
  const play = async (frames: Frame[]): Promise<void> => {
    let last = frames[0]?.pts ?? 0;
    for (const f of frames) {
      now += (f.pts - last) / 1000;
      last = f.pts;
      await rec.feed(f);
    }
  };
  return { spool, rec, sessions, play, advance: (ms: number) => (now += ms), now: () => now };
}

const text = async (spool: RecordingStore, key: string): Promise<string> => new TextDecoder().decode(await spool.read(key));

test('note 4: 120 s without frames pauses recording; the next keyframe starts a new session', async (t) => {
  const { spool, rec, sessions, play, advance } = await setup(t);
  rec.setFullTime(true);
  await play(ringFrames(5));
  t.true(rec.recording);
  advance(119_000);
  await rec.tick();
  t.true(rec.recording, 'still recording at 119 s without data');
  advance(1_500);
  await rec.tick();
  t.false(rec.recording, 'paused after 120 s without data');
  t.true(rec.isPaused);
  t.is(rec.stats.pauses, 1);
  const first = sessions[0]?.split(' ')[1] as string;
  t.deepEqual(sessions, [`start ${first}`, `pause ${first}`]);
  const playlist = await text(spool, `${first}/index.m3u8`);
  t.true(playlist.includes('#EXT-X-ENDLIST'), 'the paused session is closed');
  t.is((playlist.match(/\.m4s/g) ?? []).length, 3, 'its 5 s are in 3 segments (2 + 2 + 1 s)');

  await play(ringFrames(3, 200_000));
  t.true(rec.recording, 'data again: recording resumes');
  t.false(rec.isPaused);
  t.is(sessions.length, 3);
  t.not(sessions[2], `start ${first}`, 'in a new session');
  await rec.close();
  t.true((await text(spool, `${sessions[2]?.split(' ')[1]}/index.m3u8`)).includes('#EXT-X-ENDLIST'));
});

test('a full-time session is rotated at the first keyframe after sessionMaxS (hourly files)', async (t) => {
  const { rec, sessions, play } = await setup(t);
  (rec as unknown as { opts: { sessionMaxS: number } }).opts.sessionMaxS = 3; // an hour, scaled down
  rec.setFullTime(true);
  await play(ringFrames(7));
  await rec.close();
  const starts = sessions.filter((s) => s.startsWith('start'));
  t.is(starts.length, 2, 'rotated once: at the keyframe at 4 s');
});

test('events: same id twice refused, unknown stop refused, record and playlists written', async (t) => {
  const { spool, rec, play } = await setup(t);
  const frames = ringFrames(6);
  await play(frames.slice(0, 10)); // not recording: nothing wanted
  t.false(rec.recording);
  const t0 = Date.parse('2026-11-21T10:00:00Z');
  const { uid } = await rec.eventStart(5, { eventStartMs: t0, streamStartMs: t0 }, undefined);
  const dup = await t.throwsAsync(rec.eventStart(5, { eventStartMs: t0, streamStartMs: t0 }, undefined));
  t.true(isIvError(dup, 'IV_ERR_CS_EVENT_RUNNING'));
  t.true(isIvError(await t.throwsAsync(rec.eventStop(6, t0, t0)), 'IV_ERR_CS_EVENT_NOT_RUNNING'));
  const keys = await spool.list('dev1/0/events/');
  t.deepEqual(keys, [`dev1/0/events/2026-11-21/${uid}.json`], 'the trigger record goes out at once');
  t.is(JSON.parse(await text(spool, keys[0] as string)).status, 'running');
  await play(frames.slice(10));
  await rec.eventStop(5, t0 + 5_000, t0 + 5_000);
  const record = JSON.parse(await text(spool, keys[0] as string)) as { status: string; playlists: string[]; picture: null };
  t.is(record.status, 'closed');
  t.is(record.picture, null);
  t.is(record.playlists.length, 1);
  const pl = await text(spool, record.playlists[0] as string);
  t.true(pl.includes('#EXT-X-ENDLIST'));
  t.true(pl.includes('#EXT-X-MAP:URI="init.mp4"'));
});
