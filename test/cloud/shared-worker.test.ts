/**
 * In a process that already runs the runtime (the P2P host: p2p and io workers), the
 * cloud module starts no worker of its own: its actor joins the io worker, records, and
 * comes back when that worker restarts.
 */
import test from 'ava';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { acquireP2pHost } from '../../actors/p2p/p2p-host.js';
import { LocalDirStore } from '../../actors/cloud/local-dir-store.js';
import { feedInto, localCloud, SAMPLE_FORMAT, sleep, writeLocalPlan } from '../helpers/cloud.js';
import { decodeErrors, SAMPLE, tempDir } from '../helpers/media.js';
import { threadCount } from '../../bench/proc-memory.js';

test.serial('with the P2P host running, cloud.init adds no thread, records on the io worker, and survives that worker\'s restart', async (t) => {
  const host = await acquireP2pHost();
  t.teardown(() => host.stop()); // no peer ever ran here: node-datachannel was never loaded, so the host may stop
  await readFile(SAMPLE.h264); // libuv's thread pool starts with the first async file read: not the module's
  const threads = threadCount(process.pid);
  const dir = tempDir(t);
  const { cloud, storeDir } = localCloud(t, dir);
  writeLocalPlan(storeDir, 'dev1', { fullTime: { enabled: true } });
  const log: string[] = [];
  await cloud.init({ maxGopSize: 1 << 20, avFormat: SAMPLE_FORMAT, onPushStart: () => log.push('start'), onPushStop: () => log.push('stop') });
  t.is(threadCount(process.pid), threads, 'no thread (worker) started for cloud storage');
  t.is(host.worker('cloud'), undefined);
  const feed = feedInto(cloud).start();
  await sleep(4_500);
  host.worker('io')?.kill(); // fault injection: the shared worker dies with the cloud actor in it
  await sleep(5_000);
  feed.stop();
  t.true(cloud.problems.some((p) => p.includes('the io worker restarted')), cloud.problems.join('; '));
  t.deepEqual(log, ['start'], 'the device saw no stop: recording went on');
  await cloud.exit();
  const playlists = (await new LocalDirStore(storeDir).list('dev1/0/')).filter((k) => k.endsWith('index.m3u8'));
  t.true(playlists.length >= 2, `a session before and one after the restart (${playlists.join(', ')})`);
  for (const p of playlists) {
    t.deepEqual(decodeErrors(join(storeDir, p)), [], p);
  }
  t.true(host.worker('io') !== undefined, 'the io worker is back for commands and voice');
});
