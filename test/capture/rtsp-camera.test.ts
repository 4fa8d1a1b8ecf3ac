/**
 * Real cameras: `ivgw run --config` with rtsp:// cameras served by GStreamer's RTSP server
 * (H.264 + AAC copied, H.265 + G.711 copied, one sending B-frames). An app watches live;
 * the server is killed mid-stream and started again: the cameras show `retrying` with
 * ffmpeg's error, the app sees a pause then frames from a keyframe (never corrupt FLV),
 * and the recording goes on in new segments that decode. The B-frame camera is refused
 * with the hint, and `transcode: true` makes it work. The door camera's URL carries a
 * password from the environment: `ivgw token --config` works without that variable, and
 * the password is in no log line and no `/api/status` answer, ffmpeg's errors included.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IVGW } from '../helpers/gateway.js';
import { startIvgw } from '../helpers/ivgw-process.js';
import { decodeErrors, tempDir } from '../helpers/media.js';
import { RemoteApps } from '../helpers/remote-apps.js';
import { startRtspServer } from '../helpers/rtsp-server.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every media file under `dir` (recursively) with its mtime. */
function files(dir: string, re: RegExp): { path: string; mtime: number }[] {
  const out: { path: string; mtime: number }[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        walk(p);
      } else if (re.test(e.name)) {
        out.push({ path: p, mtime: statSync(p).mtimeMs });
      }
    }
  };
  walk(dir);
  return out;
}

test.serial('RTSP cameras are served live and recorded, survive the camera server restarting, and a B-frame camera is refused with a hint', async (t) => {
  const rtsp = await startRtspServer();
  t.teardown(() => rtsp.kill());
  const dir = tempDir(t);
  const config = join(dir, 'ivgw.yaml');
  writeFileSync(config, `device: { id: nvr-rtsp, data: data }
cameras:
  - { name: door, channel: 0, source: "${rtsp.url('h264').replace('rtsp://', 'rtsp://viewer:$' + '{DOOR_PASSWORD}@')}", recording: full-time }
  - { name: yard, channel: 1, source: "${rtsp.url('h265')}", recording: off }
  - { name: hall, channel: 2, source: "${rtsp.url('bframes')}", recording: off }
  - { name: hall-fixed, channel: 3, source: "${rtsp.url('bframes')}", transcode: true, recording: off }
`);
  const gw = await startIvgw(['--config', config, '--mqtt-port', '0', '--seconds', '600'], { env: { DOOR_PASSWORD: 'door-pw-not-for-logs' } });
  t.teardown(() => gw.stop('SIGKILL'));
  await gw.waitFor(/\[door\] source-up/);
  await gw.waitFor(/\[yard\] source-up/);
  const minted = spawnSync(process.execPath, [IVGW, 'token', '--config', config, '--peer', 'phone', '--json'], { encoding: 'utf8', env: { ...process.env, DOOR_PASSWORD: '' } });
  t.is(minted.status, 0, `ivgw token needs only device: of the config, not the cameras' variables: ${minted.stderr}`);
  const tok = JSON.parse(minted.stdout) as { token: string; fingerprint: string };
  const apps = new RemoteApps();
  t.teardown(() => apps.exit());
  await apps.connect('phone', { url: gw.url, deviceId: 'nvr-rtsp', peerId: 'phone', token: tok.token, bindAddress: '127.0.0.1', fingerprint: tok.fingerprint });
  const door = await apps.open('phone', 'action=live&channel=0', { record: true });
  const yard = await apps.open('phone', 'action=live&channel=1', { record: true });
  const fixed = await apps.open('phone', 'action=live&channel=3');
  await sleep(4_000);
  const before = { door: await apps.stats('phone', door), yard: await apps.stats('phone', yard) };
  t.true(before.door.videoFrames > 50 && before.door.audioFrames > 50, `door: ${before.door.videoFrames} video, ${before.door.audioFrames} audio frames`);
  t.true(before.yard.videoFrames > 50 && before.yard.audioFrames > 20, `yard: ${before.yard.videoFrames} video, ${before.yard.audioFrames} audio frames`);
  t.true((await apps.stats('phone', fixed)).videoFrames > 30, 'transcode: true serves the B-frame camera');
  const hint = await gw.waitFor(/\[hall\] rejected IV_ERR_AV_B_FRAME/);
  t.regex(hint, /transcode: true/, 'the refusal carries the hint');
  const segmentsBefore = files(join(dir, 'data', 'local'), /\.m4s$/).length;

  let mark = gw.lines.length;
  await rtsp.kill();
  await gw.waitFor(/\[door\] source-exit IV_ERR_AV_SOURCE_FAILED/, 20_000, mark);
  const retrying = await gw.waitFor(/\[door\] retrying .*last error: /, 15_000, mark);
  t.regex(retrying, /retrying/, 'the status line shows the camera retrying with ffmpeg\'s error');
  const status = await (await fetch(`${gw.http}/api/status`)).text();
  t.regex(status, /"lastError":"[^"]+"/, 'the status has the camera\'s last error');
  t.false(status.includes('door-pw-not-for-logs'), `no password in /api/status: ${status.slice(0, 400)}`);
  await sleep(2_000);
  const paused = await apps.stats('phone', door);
  mark = gw.lines.length;
  await rtsp.start();
  const downAt = Date.now();
  await gw.waitFor(/\[door\] source-up/, 30_000, mark);
  await gw.waitFor(/\[yard\] source-up/, 30_000, mark);
  t.log(`door back ${Date.now() - downAt} ms after the server restarted`);
  await sleep(5_000);
  const after = { door: await apps.stats('phone', door), yard: await apps.stats('phone', yard) };
  for (const [name, s] of Object.entries(after)) {
    t.deepEqual(s.violations, [], `${name}: the FLV stays whole, resuming on a keyframe`);
  }
  t.true(after.door.videoFrames - paused.videoFrames > 60, `door streams again: ${after.door.videoFrames - paused.videoFrames} frames after the restart`);
  t.true(after.yard.videoFrames - before.yard.videoFrames > 60, 'yard streams again');
  t.true(after.door.keyframes > before.door.keyframes);
  t.true(gw.lines.some((l) => /^\[hall\] /.test(l)) && gw.proc.exitCode === null, 'the refused camera never stopped the gateway');

  const flv = join(dir, 'door.flv');
  writeFileSync(flv, await apps.recorded('phone', door));
  t.deepEqual(decodeErrors(flv), [], 'what the app received across the outage decodes');
  t.deepEqual(await gw.stop('SIGTERM'), { code: 0, signal: null }, gw.lines.slice(-6).join('\n'));
  t.true(gw.raw.some((l) => l.includes('viewer:***@')), 'ffmpeg\'s errors quote the URL, its password masked');
  t.deepEqual(gw.raw.filter((l) => l.includes('door-pw-not-for-logs')), [], 'the camera password is in no log line');
  const segments = files(join(dir, 'data', 'local'), /\.m4s$/);
  t.true(segments.filter((x) => x.mtime > downAt).length >= 2, `the recording went on in new segments: ${segmentsBefore} before the outage, ${segments.length} at the end`);
  const playlists = files(join(dir, 'data', 'cloud'), /^index\.m3u8$/);
  t.true(playlists.length >= 1);
  for (const p of playlists) {
    const errors = decodeErrors(p.path);
    t.deepEqual(errors, [], `${p.path} (uploaded recording) decodes: ${errors.slice(0, 5).join(' | ')}\n${readFileSync(p.path, 'utf8')}`);
  }
});
