/**
 * One peer id used by two apps at once (two tabs, a phone and a tablet on one account),
 * end to end with the project's AppClient: the newer offer replaces the older connection
 * (PROTOCOL.md §2.2), the older app is told and closes, and its `bye` — naming its own,
 * already replaced connection — must not end the newer app's session.
 */
import test from 'ava';
import type { Gateway } from '../helpers/gateway.js';
import { gatewayWithApps } from '../helpers/gateway-with-apps.js';
import type { RemoteApps } from '../helpers/remote-apps.js';

let gw: Gateway;
let apps: RemoteApps;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

gatewayWithApps([], (g, a) => {
  gw = g;
  apps = a;
});

const opts = (peer: string) => ({ url: gw.url, deviceId: gw.deviceId, peerId: peer, token: gw.token(peer), bindAddress: '127.0.0.1', timeoutMs: 30_000 });

test.serial('the newer app under a peer id takes over; the replaced app closes and its bye leaves the newer one streaming', async (t) => {
  await apps.connect('first', opts('shared'));
  const s1 = await apps.open('first', 'action=live&channel=0');
  await sleep(500);
  t.true((await apps.stats('first', s1)).videoFrames > 0, 'the first app streams');
  await apps.connect('second', opts('shared'));
  const s2 = await apps.open('second', 'action=live&channel=0');
  const until = Date.now() + 5_000;
  while (!(await apps.connection('first')).closed && Date.now() < until) {
    await sleep(100);
  }
  t.true((await apps.connection('first')).closed, 'the replaced app was told and closed (sending its bye)');
  const before = (await apps.stats('second', s2)).videoFrames;
  await sleep(2_500); // the replaced app's bye has long arrived
  const after = (await apps.stats('second', s2)).videoFrames;
  t.log(gw.log.filter((l) => /shared/.test(l)).join('\n'));
  t.log(`second app: ${before} → ${after} frames in 2.5 s after the first one left`);
  t.false((await apps.connection('second')).closed, 'the newer app is still connected');
  t.true(after - before >= 40, `the newer app goes on streaming: ${after - before} frames in 2.5 s at 25 fps`);
  t.regex(await apps.command('second', 'still here'), /still here/, 'and its commands are answered');
});
