/**
 * MQTT costs signaling only what it uses: the embedded broker, the device's signaling and
 * the app's client write packets without mqtt-packet's number cache (65,536 two-byte
 * Buffers it makes on the first packet by default: ~7 MB of heap in the gateway's main
 * thread and in every `ivgw load` worker).
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('../fixtures/mqtt-heap-child.js', import.meta.url));

test('a signaling round trip through the embedded broker builds no MQTT number cache', (t) => {
  const r = spawnSync(process.execPath, ['--expose-gc', CHILD], { encoding: 'utf8', timeout: 30_000 });
  t.is(r.status, 0, r.stderr);
  const m = JSON.parse(r.stdout) as { offers: string[]; cached: number; heapGrowthMB: number; cacheMB: number };
  t.log(`heap growth over the round trip ${m.heapGrowthMB.toFixed(2)} MB; the cache would add ${m.cacheMB.toFixed(1)} MB`);
  t.deepEqual(m.offers, ['app1'], 'the offer went through the broker to the device');
  t.is(m.cached, 0, 'no cached number Buffers');
  t.true(m.cacheMB > 3, 'the cache avoided is megabytes of heap');
});
