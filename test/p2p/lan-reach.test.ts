/**
 * Reachable from the LAN: the gateway runs in its own network namespace (a box on the
 * LAN) with the embedded broker on 0.0.0.0 and ICE on every interface, from a config
 * file; a phone-like app in another namespace (the host) reaches it over the veth
 * addresses only — signaling to the gateway's LAN address, ICE bound to its own — and
 * streams live with the device certificate pinned: the demo pattern and a real RTSP camera
 * (GStreamer's rtsp-server) on the LAN, which the gateway pulls over its veth address.
 * (Needs root for `ip netns`.)
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IVGW } from '../helpers/gateway.js';
import { startIvgw } from '../helpers/ivgw-process.js';
import { tempDir } from '../helpers/media.js';
import { createNetNs } from '../helpers/netns.js';
import { RemoteApps } from '../helpers/remote-apps.js';
import { startRtspServer } from '../helpers/rtsp-server.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('an app on another host of the LAN connects over the LAN addresses and streams live', async (t) => {
  const ns = createNetNs();
  t.teardown(() => ns.remove());
  const dir = tempDir(t);
  // a camera on the LAN: the host end of the veth (the gateway's namespace reaches it there)
  const camera = await startRtspServer({ address: ns.hostIp, host: ns.hostIp });
  t.teardown(() => camera.kill());
  const config = join(dir, 'ivgw.yaml');
  writeFileSync(config, `device: { id: lan-nvr, data: data }
cameras:
  - { name: cam, channel: 0, source: test:testsrc2, recording: off }
  - { name: door, channel: 1, source: "${camera.url('h264')}", video: h264, audio: { codec: aac, sampleRate: 16000, channels: 1 }, recording: off }
signaling: { embedded: { listen: ["0.0.0.0:1883"] } }
ice: { bind: 0.0.0.0 }
`);
  const gw = await startIvgw(['--config', config, '--seconds', '120'], { prefix: ns.exec });
  t.teardown(() => gw.stop('SIGKILL'));
  // formats declared: a camera server slow to answer the probe (CI saw > 8 s) still serves audio
  await gw.waitFor(/\[cam\] source-up/, 30_000);
  await gw.waitFor(/\[door\] source-up/, 30_000);
  const tok = JSON.parse(spawnSync(process.execPath, [IVGW, 'token', '--config', config, '--peer', 'phone', '--json'], { encoding: 'utf8' }).stdout) as { token: string; fingerprint: string };
  const apps = new RemoteApps();
  t.teardown(() => apps.exit());
  const url = `mqtt://${ns.nsIp}:1883`;
  const { connectMs } = await apps.connect('phone', { url, deviceId: 'lan-nvr', peerId: 'phone', token: tok.token, bindAddress: ns.hostIp, fingerprint: tok.fingerprint });
  t.log(`connected over the LAN in ${Math.round(connectMs)} ms`);
  const s = await apps.open('phone', 'action=live&channel=0');
  await sleep(3_000);
  const stats = await apps.stats('phone', s);
  t.deepEqual(stats.violations, []);
  t.true(stats.videoFrames > 40, `${stats.videoFrames} video frames over the LAN`);
  t.true(stats.audioFrames > 40);
  const door = await apps.open('phone', 'action=live&channel=1');
  await sleep(3_000);
  const rtsp = await apps.stats('phone', door);
  t.deepEqual(rtsp.violations, [], 'the RTSP camera streams clean FLV over the LAN');
  t.true(rtsp.videoFrames > 40 && rtsp.audioFrames > 40, `${rtsp.videoFrames} video and ${rtsp.audioFrames} audio frames of the RTSP camera`);
  await apps.call('close', { client: 'phone' });
  t.deepEqual(await gw.stop('SIGTERM'), { code: 0, signal: null });
});
