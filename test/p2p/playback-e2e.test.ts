/**
 * Playback end to end: `ivgw run --record` records both demo cameras; an app opens
 * `action=playback` for a past window and receives the recording as FLV over WebRTC,
 * paced in real time, closed with `stream_closed` "end of recording"; it decodes in ffmpeg.
 */
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeviceToApp } from '../../shared/protocol/control.js';
import { isIvError } from '../../runtime/errors.js';
import type { Gateway } from '../helpers/gateway.js';
import { gatewayWithApps } from '../helpers/gateway-with-apps.js';
import { decodeErrors, ffprobe, tempDir } from '../helpers/media.js';
import type { RemoteApps } from '../helpers/remote-apps.js';

let gw: Gateway;
let apps: RemoteApps;
let recordedAt = 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const recordDir = mkdtempSync(join(tmpdir(), 'ivgw-pb-'));

gatewayWithApps(['--record', recordDir], async (g, a) => {
  gw = g;
  apps = a;
  recordedAt = Math.floor(Date.now() / 1000);
  await sleep(8_500); // four 2 s segments per camera
}, () => rmSync(recordDir, { recursive: true, force: true }));

async function closedEvent(peer: string, stream: number, ms: number): Promise<DeviceToApp | undefined> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const e = (await apps.events(peer)).find((x) => x.op === 'event' && x.event === 'stream_closed' && x.stream === stream);
    if (e) {return e;}
    await sleep(100);
  }
  return undefined;
}

test.serial('an app plays back a recorded window of both cameras; H.264 + AAC decodes in ffmpeg', async (t) => {
  await apps.connect('pb', { url: gw.url, deviceId: gw.deviceId, peerId: 'pb', token: gw.token('pb', ['playback']), bindAddress: '127.0.0.1' });
  const window = `start=${recordedAt + 1}&end=${recordedAt + 5}`;
  const started = Date.now();
  const s0 = await apps.open('pb', `action=playback&channel=0&${window}`, { record: true });
  const s1 = await apps.open('pb', `action=playback&channel=1&${window}`, { record: true });
  const closed = await closedEvent('pb', s0, 15_000);
  t.is((closed as { reason?: string } | undefined)?.reason, 'end of recording');
  const took = Date.now() - started;
  t.true(took >= 3_000, `played in real time: ${took} ms for a 4-6 s window (0.5 s lead)`);
  t.truthy(await closedEvent('pb', s1, 5_000), 'channel 1 ends too');
  for (const s of [s0, s1]) {
    const st = await apps.stats('pb', s);
    t.deepEqual(st.violations, [], `stream ${s}: FLV integrity`);
    t.is(st.gaps, 0);
    t.true(st.videoFrames >= 100, `stream ${s}: ${st.videoFrames} video frames (GOP-aligned window of >= 4 s)`);
    t.true(st.audioFrames > 0, `stream ${s}: audio (channel 1: G.711 re-encoded from the recording)`);
    t.true(st.firstFrameMs >= 0 && st.firstFrameMs < 1_000, `stream ${s}: first frame after ${st.firstFrameMs} ms`);
  }
  const file = join(tempDir(t), 'playback.flv');
  writeFileSync(file, await apps.recorded('pb', s0));
  t.deepEqual(decodeErrors(file), []);
  const probe = ffprobe(file);
  t.deepEqual(probe.streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
  const duration = Number(probe.format?.duration);
  t.true(duration >= 3.9 && duration <= 6.2, `${duration} s played back`);
});

test.serial('playback requests are checked: rights, start, window, recording', async (t) => {
  await apps.connect('live-only', { url: gw.url, deviceId: gw.deviceId, peerId: 'live-only', token: gw.token('live-only', ['live']), bindAddress: '127.0.0.1' });
  const refused = async (peer: string, params: string): Promise<string | undefined> => {
    const err = await t.throwsAsync(apps.open(peer, params));
    t.true(isIvError(err), err?.message);
    return `${(err as { code?: string }).code}: ${err?.message}`;
  };
  t.regex((await refused('live-only', `action=playback&channel=0&start=${recordedAt}`)) ?? '', /IV_ERR_AUTH_RIGHTS/);
  t.regex((await refused('pb', 'action=playback&channel=0')) ?? '', /IV_ERR_INVALID_PARAM: params.start/);
  t.regex((await refused('pb', `action=playback&channel=0&start=${recordedAt}&end=${recordedAt - 5}`)) ?? '', /IV_ERR_INVALID_PARAM: params.end/);
  t.regex((await refused('pb', `action=playback&channel=0&start=${recordedAt - 7200}&end=${recordedAt - 3600}`)) ?? '', /IV_ERR_INVALID_PARAM: params.start: channel 0 has no recording/);
  t.regex((await refused('pb', `action=playback&channel=9&start=${recordedAt}`)) ?? '', /IV_ERR_INVALID_PARAM: params.channel/);
});

test.serial('channels lists each camera with codec, size and rate, and the recorded ranges only to a token with playback', async (t) => {
  await apps.connect('lister', { url: gw.url, deviceId: gw.deviceId, peerId: 'lister', token: gw.token('lister', ['playback', 'live']), bindAddress: '127.0.0.1' });
  const r = await apps.call<Extract<DeviceToApp, { op: 'channels' }>>('request', { client: 'lister', msg: { op: 'channels' } });
  t.is(r.op, 'channels');
  const [c0, c1] = r.channels;
  t.like(c0, { channel: 0, video: { codec: 'h264', width: 640, height: 360, fps: 25 }, audio: { codec: 'aac' } });
  t.like(c1, { channel: 1, video: { codec: 'h265', width: 640, height: 360, fps: 25 }, audio: { codec: 'g711a', sampleRate: 8000, channels: 1 } });
  for (const c of r.channels) {
    const ranges = c.recorded ?? [];
    t.true(ranges.length >= 1, `channel ${c.channel} has recorded ranges`);
    const [start, end] = ranges[0] as [number, number];
    t.true(start >= recordedAt * 1000 - 3_000 && start <= recordedAt * 1000 + 3_000, `channel ${c.channel} recording starts with the run (${start} vs ${recordedAt * 1000})`);
    t.true(end - start >= 6_000, `channel ${c.channel}: ${end - start} ms recorded in one range`);
  }
  await apps.call('close', { client: 'lister' });
  await apps.connect('liveonly', { url: gw.url, deviceId: gw.deviceId, peerId: 'liveonly', token: gw.token('liveonly', ['live']), bindAddress: '127.0.0.1' });
  const live = await apps.call<Extract<DeviceToApp, { op: 'channels' }>>('request', { client: 'liveonly', msg: { op: 'channels' } });
  t.is(live.channels.length, 2);
  t.true(live.channels.every((c) => c.recorded === undefined && c.video !== undefined), 'no recording ranges without the playback right');
  await apps.call('close', { client: 'liveonly' });
});
