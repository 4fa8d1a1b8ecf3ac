/**
 * Network faults for real: `ivgw run` inside a network namespace the test creates (a
 * veth pair to the host), signaling through mosquitto and keep-alive probes to coturn
 * on the host end, an app in the host namespace. The gateway's address is changed
 * mid-stream and its link is cut; the app's streams must go on without the app
 * opening a new session, and what it recorded must decode in ffmpeg. A STUN outage on
 * loopback must leave healthy apps alone. (Needs root for `ip netns`; CI runs as root.)
 */
import test, { type ExecutionContext } from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCoturn } from '../helpers/coturn.js';
import { startGateway } from '../helpers/gateway.js';
import { decodeErrors, tempDir } from '../helpers/media.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { createNetNs } from '../helpers/netns.js';
import { waitFor } from '../helpers/probe-system.js';
import { RemoteApps } from '../helpers/remote-apps.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function gatewayInNamespace(t: ExecutionContext, name: string, extra: string[] = []) {
  const ns = createNetNs();
  t.teardown(() => ns.remove());
  const mq = await startMosquitto(tempDir(t), [ns.hostIp]);
  t.teardown(() => mq.stop());
  const turn = await startCoturn(ns.hostIp);
  t.teardown(() => turn.kill());
  const gw = await startGateway(['--broker', `mqtt://${ns.hostIp}:${mq.port}`, '--stun', turn.url, '--keepalive', '1,2', '--ice-bind', 'any', ...extra], `dev-${name}-${process.pid}`, ns.exec);
  t.teardown(() => gw.stop());
  await waitFor('PEER_READY', () => gw.log.some((l) => l.includes('[p2p] PEER_READY')), 10_000);
  const apps = new RemoteApps();
  t.teardown(() => apps.exit());
  return { ns, mq, turn, gw, apps };
}

const count = (log: string[], text: string): number => log.filter((l) => l.includes(text)).length;

test.serial('the gateway\'s address changes mid-stream: PEER_ADDR_CHANGED, the app\'s connection is ICE-restarted, both streams go on with no new session, commands still work, the recording decodes', async (t) => {
  const { ns, gw, apps, mq } = await gatewayInNamespace(t, 'move');
  const oldIp = ns.nsIp;
  await apps.connect('mover', { url: mq.url, deviceId: gw.deviceId, peerId: 'mover', token: gw.token('mover'), bindAddress: ns.hostIp });
  const s0 = await apps.open('mover', 'action=live&channel=0', { record: true });
  const s1 = await apps.open('mover', 'action=live&channel=1');
  await sleep(2_000);
  const before = [await apps.stats('mover', s0), await apps.stats('mover', s1)];
  const newIp = oldIp.replace(/\.2$/, '.3');
  ns.changeAddress(newIp);
  await waitFor('PEER_ADDR_CHANGED', () => gw.log.some((l) => l.includes('[p2p] PEER_ADDR_CHANGED')), 8_000);
  const changed = gw.log.find((l) => l.includes('PEER_ADDR_CHANGED')) ?? '';
  t.true(changed.includes(`from ${oldIp}:`) && changed.includes(`to ${newIp}:`), changed);
  t.regex(changed, /ICE restart of 1 app connection\(s\)/);
  await waitFor('[peer mover] restarting', () => count(gw.log, '[peer mover] restarting') === 1, 5_000);
  let restarts: { ms: number }[] = [];
  for (const until = Date.now() + 20_000; restarts.length === 0 && Date.now() < until; await sleep(200)) {
    restarts = (await apps.connection('mover')).restarts;
  }
  t.is(restarts.length, 1, 'the app answered one device restart offer');
  await waitFor('[peer mover] restarted', () => count(gw.log, '[peer mover] restarted') === 1, 10_000);
  t.log(gw.log.find((l) => l.includes('[peer mover] restarted')), `app side: ${restarts[0]?.ms} ms from the offer to the new control channel; offers ${(await apps.connection('mover')).restartOffers}`);
  await sleep(4_000); // live resumes at the camera's next keyframe (GOP 2 s)
  const after = [await apps.stats('mover', s0), await apps.stats('mover', s1)];
  for (const i of [0, 1]) {
    const b = before[i]!;
    const a = after[i]!;
    t.true(a.videoFrames > b.videoFrames + 30, `stream ${a.stream}: ${b.videoFrames} → ${a.videoFrames} frames across the move`);
    t.deepEqual(a.violations, [], `stream ${a.stream}: FLV integrity`);
    t.is(a.gaps, 0, `stream ${a.stream}: no unannounced gap`);
    t.is(a.channelRestarts, 1, `stream ${a.stream}: moved to one new channel`);
    t.true(a.pauseGaps <= 1);
  }
  t.regex(await apps.command('mover', 'ping after the move'), /ping after the move/, 'commands are answered on the new connection');
  await apps.call('voice', { client: 'mover', frames: 25 });
  await waitFor('the intercom summary', () => gw.log.some((l) => l.includes('[voice mover] ended: 25 frames')), 5_000);
  t.is(count(gw.log, '[peer mover] connected'), 1, 'no new session: one connect, then a restart');
  t.false((await apps.connection('mover')).closed);
  const file = join(tempDir(t), 'moved.flv');
  writeFileSync(file, await apps.recorded('mover', s0));
  t.deepEqual(decodeErrors(file), [], 'the stream recorded across the move decodes');
});

test.serial('the gateway\'s link is cut for 4 s: PEER_ERROR, the lost connection\'s actor is restarted by the supervisor, and once the link is back the live stream goes on in the same session; the playback one is told stream_closed', async (t) => {
  const { ns, gw, apps, mq } = await gatewayInNamespace(t, 'cut', ['--record', tempDir(t)]);
  await apps.connect('cut', { url: mq.url, deviceId: gw.deviceId, peerId: 'cut', token: gw.token('cut'), bindAddress: ns.hostIp });
  const s = await apps.open('cut', 'action=live&channel=0', { record: true });
  let replay: number | undefined;
  for (const until = Date.now() + 15_000; replay === undefined && Date.now() < until;) {
    // the recording has its first segment a GOP or two after the start
    replay = await apps.open('cut', `action=playback&channel=0&start=${Math.floor(Date.now() / 1000) - 60}`).catch(async () => {
      await sleep(500);
      return undefined;
    });
  }
  t.not(replay, undefined, 'a playback stream is open too');
  await sleep(1_500);
  const before = await apps.stats('cut', s);
  ns.setLink(false);
  await waitFor('PEER_ERROR', () => gw.log.some((l) => l.includes('[p2p] PEER_ERROR')), 8_000);
  await waitFor('the silent app\'s actor restarted by the supervisor', () => count(gw.log, '[peer cut] respawned') === 1, 5_000);
  t.regex(gw.log.find((l) => l.includes('[peer cut] respawned')) ?? '', /"streams":1/, 'its live stream resumed under the new actor');
  await sleep(4_000);
  ns.setLink(true);
  await waitFor('PEER_READY again', () => count(gw.log, '[p2p] PEER_READY') === 2, 10_000);
  let restarts: { ms: number }[] = [];
  for (const until = Date.now() + 30_000; restarts.length === 0 && Date.now() < until; await sleep(250)) {
    restarts = (await apps.connection('cut')).restarts;
  }
  t.true(restarts.length >= 1, 'the app took the restarted actor\'s offer');
  t.log(gw.log.find((l) => l.includes('[peer cut] respawned')));
  await sleep(2_000);
  const closed = (await apps.events('cut')).filter((e) => e.op === 'event' && e.event === 'stream_closed').map((e) => (e as { stream: number; reason: string }));
  t.like(closed.find((e) => e.stream === replay), { reason: 'the device restarted the connection: open the stream again' }, `the playback stream ends with a reason: ${JSON.stringify(closed)}`);
  const after = await apps.stats('cut', s);
  t.true(after.videoFrames > before.videoFrames + 30, `${before.videoFrames} → ${after.videoFrames} frames`);
  t.deepEqual(after.violations, []);
  t.is(after.gaps, 0);
  t.is(count(gw.log, '[peer cut] connected'), 1, 'the same session: no new connect');
  const file = join(tempDir(t), 'cut.flv');
  writeFileSync(file, await apps.recorded('cut', s));
  t.deepEqual(decodeErrors(file), []);
});

test.serial('a STUN outage (coturn on 127.0.0.1 killed, then back): PEER_ERROR, healthy apps are left alone and keep streaming, PEER_READY when it answers again', async (t) => {
  const turn = await startCoturn();
  t.teardown(() => turn.kill());
  const gw = await startGateway(['--stun', turn.url, '--keepalive', '1,2']);
  t.teardown(() => gw.stop());
  await waitFor('PEER_READY', () => gw.log.some((l) => l.includes('[p2p] PEER_READY')), 10_000);
  const apps = new RemoteApps();
  t.teardown(() => apps.exit());
  await apps.connect('steady', { url: gw.url, deviceId: gw.deviceId, peerId: 'steady', token: gw.token('steady'), bindAddress: '127.0.0.1' });
  const s = await apps.open('steady', 'action=live&channel=1');
  await sleep(1_000);
  await turn.kill();
  await waitFor('PEER_ERROR', () => gw.log.some((l) => l.includes('[p2p] PEER_ERROR')), 6_000);
  const error = gw.log.find((l) => l.includes('[p2p] PEER_ERROR')) ?? '';
  t.regex(error, /restarting the app connections that are gone/);
  await sleep(2_500);
  t.is(count(gw.log, '[peer steady] respawned') + count(gw.log, '[peer steady] restarting'), 0, 'the healthy app was left alone');
  await turn.restart();
  await waitFor('PEER_READY again', () => count(gw.log, '[p2p] PEER_READY') === 2, 6_000);
  const st = await apps.stats('steady', s);
  t.is(st.gaps, 0);
  t.is(st.pauseGaps, 0);
  t.is(st.channelRestarts, 0);
  t.deepEqual(st.violations, []);
  t.is(count(gw.log, 'PEER_ERROR'), 1);
});

test.serial('PEER_CONNECT_FAIL while the STUN server is unreachable at start, retried with backoff; apps on the host path connect meanwhile; PEER_READY once it answers', async (t) => {
  const turn = await startCoturn();
  t.teardown(() => turn.kill());
  await turn.kill();
  const gw = await startGateway(['--stun', turn.url, '--keepalive', '1,1']);
  t.teardown(() => gw.stop());
  await waitFor('two CONNECT_FAIL', () => count(gw.log, '[p2p] PEER_CONNECT_FAIL') >= 2, 8_000);
  t.deepEqual(gw.log.filter((l) => l.includes('PEER_CONNECT_FAIL')).slice(0, 2).map((l) => /retry in (\d+) ms/.exec(l)?.[1]), ['1000', '2000']);
  const apps = new RemoteApps();
  t.teardown(() => apps.exit());
  await apps.connect('early', { url: gw.url, deviceId: gw.deviceId, peerId: 'early', token: gw.token('early'), bindAddress: '127.0.0.1' });
  t.true(await apps.open('early', 'action=live&channel=0') > 0);
  await turn.restart();
  await waitFor('PEER_READY', () => gw.log.some((l) => l.includes('[p2p] PEER_READY')), 10_000);
  t.pass();
});
