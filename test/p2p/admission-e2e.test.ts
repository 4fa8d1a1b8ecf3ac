/**
 * Admission control end to end: `ivgw run --max-apps 2 --max-streams 3`. Apps and
 * streams beyond the limits are refused with IV_ERR_BUSY and a reason that says so;
 * the apps already admitted keep streaming; capacity freed by a closed stream or a
 * departed app is given to the next one.
 */
import test from 'ava';
import { isIvError } from '../../runtime/errors.js';
import type { Gateway } from '../helpers/gateway.js';
import { gatewayWithApps } from '../helpers/gateway-with-apps.js';
import type { RemoteApps } from '../helpers/remote-apps.js';

let gw: Gateway;
let apps: RemoteApps;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

gatewayWithApps(['--max-apps', '2', '--max-streams', '3'], (g, a) => {
  gw = g;
  apps = a;
});

/** Try `fn` until it succeeds or `ms` pass. */
async function retry(fn: () => Promise<unknown>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      await fn();
      return true;
    } catch {
      await sleep(200);
    }
  }
  return false;
}

const opts = (peer: string) => ({ url: gw.url, deviceId: gw.deviceId, peerId: peer, token: gw.token(peer), bindAddress: '127.0.0.1', timeoutMs: 30_000 });

test.serial('apps and streams beyond the limits are refused with a reason; freed capacity is reused', async (t) => {
  await apps.connect('a', opts('a'));
  await apps.connect('b', opts('b'));
  const a1 = await apps.open('a', 'action=live&channel=0');
  await apps.open('a', 'action=live&channel=1');
  const b1 = await apps.open('b', 'action=live&channel=0');
  const over = await t.throwsAsync(apps.open('b', 'action=live&channel=1'));
  t.true(isIvError(over, 'IV_ERR_BUSY') && /admission: the device already serves 3 streams/.test(over.message), over?.message);
  const third = await t.throwsAsync(apps.connect('c', opts('c')));
  t.true(isIvError(third, 'IV_ERR_BUSY') && /admission: the device already serves 2 apps/.test(third.message), third?.message);
  await sleep(1_000);
  t.true((await apps.stats('b', b1)).videoFrames > 10, 'admitted apps keep streaming');
  await apps.call('closeStream', { client: 'a', stream: a1 });
  t.true(await retry(() => apps.open('b', 'action=live&channel=1'), 5_000), 'a closed stream frees its place');
  await apps.call('close', { client: 'a' });
  t.true(await retry(() => apps.connect('c', opts('c')), 40_000), 'a departed app frees its place');
  const c1 = await apps.open('c', 'action=live&channel=0');
  await sleep(800);
  t.true((await apps.stats('c', c1)).videoFrames > 5, 'the app admitted after a departure streams');
});
