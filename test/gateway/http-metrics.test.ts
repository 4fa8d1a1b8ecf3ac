import test from 'ava';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { GatewayHttpServer } from '../../gateway/http-server.js';
import { GatewayMetrics, type P2pSnapshot } from '../../gateway/metrics.js';
import { createLogger, prettyLine } from '../../gateway/logger.js';
import { isIvError } from '../../runtime/errors.js';
import { freePort } from '../helpers/free-port.js';
import { startIvgw } from '../helpers/ivgw-process.js';

function fakeSources(p2p: P2pSnapshot) {
  return {
    cameras: async () => [{ camera: 'cam-a', channel: 0, fps: 25, videoKbps: 1800, audioKbps: 64, framesAccepted: 1000, rejected: { IV_ERR_AV_B_FRAME: 3 }, state: 'up', restarts: 1, ringResidentBytes: 2_500_000 }],
    p2p: () => p2p,
    cloud: async () => [{ camera: 'cam-a', segmentsAccepted: 10, uploaded: 9, pending: 1, uploadFailures: 0, spoolBytes: 12345 }],
    workers: () => [{ worker: 'p2p', heapUsed: 5_000_000 }],
    memoryLooks: () => ({ checks: 7, trims: 2, released: 2, codeDrops: 7, codeBytesDropped: 123_456_789 }),
    afterLeave: () => ({ trims: 3, released: 3, releases: 3, releaseMs: 45, lastReleaseMs: 15 }),
  };
}

test('/metrics serves every metric family in Prometheus text, read from the sources at scrape time', async (t) => {
  const p2p: P2pSnapshot = { appsConnected: 0, streamsOpen: 0, bytesSent: 0, bytesAcked: 0, backlogBytes: 0, keepAlive: 'up' };
  const metrics = new GatewayMetrics(fakeSources(p2p));
  metrics.watermark('high');
  metrics.offerRefused('IV_ERR_AUTH_EXPIRED');
  metrics.connected(55);
  metrics.supervisorEvent('restart', 'peer:abc');
  const http = await GatewayHttpServer.start({ listen: '127.0.0.1:0', metrics: async () => ({ contentType: metrics.contentType, text: await metrics.text() }), health: () => ({ ok: true, reasons: [] }), status: async () => ({}) });
  t.teardown(() => http.close());
  let text = await (await fetch(`${http.url}/metrics`)).text();
  for (const line of ['ivgw_camera_fps{camera="cam-a",channel="0"} 25', 'ivgw_camera_frames_refused{camera="cam-a",code="IV_ERR_AV_B_FRAME"} 3', 'ivgw_camera_source_state{camera="cam-a",state="up"} 1', 'ivgw_camera_ring_resident_bytes{camera="cam-a",channel="0"} 2500000',
    'ivgw_p2p_apps_connected 0', 'ivgw_p2p_keepalive_state{state="up"} 1', 'ivgw_p2p_watermark_events_total{level="high"} 1', 'ivgw_p2p_offers_refused_total{reason="IV_ERR_AUTH_EXPIRED"} 1',
    'ivgw_p2p_connect_seconds_count 1', 'ivgw_supervisor_events_total{type="restart",child="peer"} 1', 'ivgw_cloud_spool_bytes{camera="cam-a"} 12345', 'ivgw_worker_heap_used_bytes{worker="p2p"} 5000000',
    'ivgw_memory_looks_total 7', 'ivgw_memory_trims_total 2', 'ivgw_memory_code_drops_total 7', 'ivgw_memory_code_dropped_bytes_total 123456789',
    'ivgw_memory_after_leave_releases_total 3', 'ivgw_memory_after_leave_release_seconds_total 0.045', 'ivgw_memory_after_leave_trims_total 3']) {
    t.true(text.includes(line), line);
  }
  t.regex(text, /ivgw_process_resident_memory_bytes \d+/);
  t.regex(text, /ivgw_nodejs_eventloop_lag_seconds /);
  const inUse = Number(/ivgw_native_heap_in_use_bytes (\d+)/.exec(text)?.[1]);
  t.true(inUse > 1_000_000, `the C allocator's bytes in use are read (glibc): ${inUse}`);
  t.regex(text, /ivgw_native_heap_free_bytes \d+/);
  p2p.appsConnected = 1;
  text = await (await fetch(`${http.url}/metrics`)).text();
  t.true(text.includes('ivgw_p2p_apps_connected 1'), 'gauges follow the source');
  t.false(/peer:abc/.test(text), 'no peer id in a label');
});

test('a bearer token guards every route; /healthz says 503 with the reasons; static files never leave their folder', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ivgw-http-'));
  await writeFile(join(dir, 'index.html'), '<h1>viewer</h1>');
  let health = { ok: false, reasons: ['signaling: disconnected'] };
  const http = await GatewayHttpServer.start({ listen: '127.0.0.1:0', bearerToken: 'op-token', metrics: async () => ({ contentType: 'text/plain', text: '' }), health: () => health, status: async () => ({ cameras: [] }), staticDir: dir });
  t.teardown(() => http.close());
  const auth = { headers: { Authorization: 'Bearer op-token' } };
  t.is((await fetch(`${http.url}/api/status`)).status, 401);
  t.is((await fetch(`${http.url}/api/status`, { headers: { Authorization: 'Bearer nope' } })).status, 401);
  t.deepEqual(await (await fetch(`${http.url}/api/status`, auth)).json(), { cameras: [] });
  const sick = await fetch(`${http.url}/healthz`, auth);
  t.is(sick.status, 503);
  t.deepEqual(await sick.json(), { ok: false, reasons: ['signaling: disconnected'] });
  health = { ok: true, reasons: [] };
  t.is((await fetch(`${http.url}/healthz`, auth)).status, 200);
  t.is(await (await fetch(`${http.url}/`, auth)).text(), '<h1>viewer</h1>');
  t.is((await fetch(`${http.url}/..%2f..%2fetc%2fpasswd`, auth)).status, 404);
  t.is((await fetch(`${http.url}/missing.js`, auth)).status, 404);
});

test('http.openHealth in the config: /healthz answers probes without the bearer token, every other route still needs it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ivgw-openhealth-'));
  const port = await freePort();
  await writeFile(join(dir, 'gw.yaml'), `device: { data: data }\ncameras:\n  - { name: door, source: push, video: h264, recording: off }\nhttp: { listen: "127.0.0.1:${port}", bearerToken: "a-token-of-16-chars-or-more", openHealth: true }\n`);
  const gw = await startIvgw(['--config', join(dir, 'gw.yaml'), '--mqtt-port', '0', '--seconds', '60'], { configHttp: true });
  t.teardown(() => gw.stop('SIGKILL'));
  const health = await fetch(`http://127.0.0.1:${port}/healthz`);
  t.is(health.status, 200, await health.text());
  t.is((await fetch(`http://127.0.0.1:${port}/metrics`)).status, 401);
  t.is((await fetch(`http://127.0.0.1:${port}/api/status`)).status, 401);
  t.is((await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { Authorization: 'Bearer a-token-of-16-chars-or-more' } })).status, 200);
});

test('a busy HTTP port is refused with a typed error naming http.listen', async (t) => {
  const a = await GatewayHttpServer.start({ listen: '127.0.0.1:0', metrics: async () => ({ contentType: 'text/plain', text: '' }), health: () => ({ ok: true, reasons: [] }), status: async () => ({}) });
  t.teardown(() => a.close());
  const err = await t.throwsAsync(GatewayHttpServer.start({ listen: a.url.replace('http://', ''), metrics: async () => ({ contentType: 'text/plain', text: '' }), health: () => ({ ok: true, reasons: [] }), status: async () => ({}) }));
  t.true(isIvError(err, 'IV_ERR_BUSY'));
  t.is((err as { field?: string }).field, 'http.listen');
  const bad = await t.throwsAsync(GatewayHttpServer.start({ listen: 'nonsense', metrics: async () => ({ contentType: 'text/plain', text: '' }), health: () => ({ ok: true, reasons: [] }), status: async () => ({}) }));
  t.true(isIvError(bad, 'IV_ERR_INVALID_PARAM'));
});

test('log records carry fields and never a token or secret, in JSON or readable lines', (t) => {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _e, done) { lines.push(...chunk.toString().split('\n').filter(Boolean)); done(); } });
  const log = createLogger({ destination: sink, pretty: false, level: 'debug' });
  log.info({ component: 'signaling', peer: 'app1', token: 'iv1.secret-token', detail: { secret: 's3cr3t', code: 'IV_ERR_AUTH_EXPIRED' } }, 'offer refused');
  const rec = JSON.parse(lines[0] as string) as Record<string, unknown>;
  t.like(rec, { level: 30, component: 'signaling', peer: 'app1', msg: 'offer refused', token: '[redacted]', detail: { secret: '[redacted]', code: 'IV_ERR_AUTH_EXPIRED' } });
  t.false(lines.join('\n').includes('s3cr3t') || lines.join('\n').includes('secret-token'));
  const pretty = prettyLine(lines[0] as string);
  t.regex(pretty, /^\d\d:\d\d:\d\d\.\d{3} INFO {2}\[signaling\] offer refused peer=app1 token=\[redacted\]/);
});
