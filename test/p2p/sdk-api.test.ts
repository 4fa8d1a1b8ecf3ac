/**
 * The SDK's P2P API (iv_av.h) with real user callbacks on this thread and a real app
 * in another process: onSendInit/onSendGet/onSendStop, getSendBuf/getSendStatus,
 * setBufWatermark and the WATERMARK events, onCommand with its deadline and the
 * empty-reply rule, onRecvInit/onRecvVoice with the end marker, and input validation.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { mintToken } from '../../actors/p2p/access-token.js';
import { IV_AVT_EVENT, P2pModule, type P2pInitParams } from '../../actors/p2p/p2p-module.js';
import { isIvError } from '../../runtime/errors.js';
import { shutdownP2pHost } from '../../actors/p2p/p2p-host.js';

test.after.always(() => shutdownP2pHost());

const SCENARIO = fileURLToPath(new URL('../fixtures/app-scenario.js', import.meta.url));
const SECRET = 'sdk-secret';

async function device(t: { teardown(fn: () => unknown): void }, params: P2pInitParams, deviceId: string): Promise<P2pModule> {
  const p2p = new P2pModule({ deviceId, secret: SECRET, mqttPort: 0 });
  await p2p.init(params);
  t.teardown(() => p2p.exit());
  return p2p;
}

function runApp(p2p: P2pModule, deviceId: string, scenario: string, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const peerId = `app-${scenario}`;
  const token = mintToken(SECRET, { deviceId, peerId, expires: Math.floor(Date.now() / 1000) + 600, rights: ['live', 'voice', 'command'] });
  const child = spawn(process.execPath, [SCENARIO, JSON.stringify({ url: p2p.brokerUrl, deviceId, peerId, token, scenario, ...extra })], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`app ${scenario} timed out: ${stderr}`));
    }, 60_000);
    // the result line is the app's last word; its exit (node-datachannel teardown) may lag
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (line) {
        clearTimeout(timer);
        setTimeout(() => child.kill('SIGKILL'), 3_000).unref();
        resolve(JSON.parse(line) as Record<string, unknown>);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (!stdout.includes('{')) {
        reject(new Error(`app ${scenario} exited ${code}: ${stdout}\n${stderr}`));
      }
    });
  });
}

test('init validates its parameters and refuses a second init', async (t) => {
  const p2p = new P2pModule({ deviceId: 'dev-validate', secret: SECRET, mqttPort: 0 });
  t.is((await t.throwsAsync(p2p.init({ onSendGet: () => null, keepAlive: { timeInterS: 5, maxAttemptNum: 11 } })) as { field?: string }).field, 'keepAlive.maxAttemptNum');
  t.is((await t.throwsAsync(p2p.init({})) as { field?: string }).field, 'onSendGet', 'no cameras and no onSendGet: nothing to send');
  await p2p.init({ onSendGet: () => null });
  t.teardown(() => p2p.exit());
  t.true(isIvError(await t.throwsAsync(p2p.init({ onSendGet: () => null })), 'IV_ERR_ALREADY_INITIALIZED'));
  t.is((await t.throwsAsync(p2p.setBufWatermark(500, 400, 300)) as { field?: string }).field, 'warn_mark');
  await p2p.setBufWatermark(0, 0, 0);
  await p2p.setBufWatermark(200 * 1024, 400 * 1024, 500 * 1024);
  t.true(isIvError(t.throws(() => p2p.getSendBuf('nope')), 'IV_ERR_INVALID_PARAM'));
});

test('a custom stream: onSendInit gets the params and peer, onSendGet is polled every 10 ms, its bytes arrive unchanged, onSendStop ends it', async (t) => {
  const calls: string[] = [];
  let polls = 0;
  const sentChunks: Buffer[] = [];
  let statsSeen: { buf: number; status: { instNetRate: number; aveSentRate: number; sumSentAcked: number } } | undefined;
  let p2pRef: P2pModule | undefined;
  const p2p = await device(t, {
    onSendInit: (params, peer) => {
      calls.push(`init ${params} ${peer}`);
      return { myHandle: 42 };
    },
    onSendGet: (handle) => {
      polls++;
      if ((handle as { myHandle: number }).myHandle !== 42) {
        throw new Error('wrong handle');
      }
      if (polls === 60 && p2pRef) {
        statsSeen = { buf: p2pRef.getSendBuf(handle), status: p2pRef.getSendStatus(handle) };
      }
      const chunk = Buffer.alloc(500, polls & 0xff);
      sentChunks.push(chunk);
      return chunk;
    },
    onSendStop: (handle) => {
      calls.push(`stop ${(handle as { myHandle: number }).myHandle}`);
    },
  }, 'dev-custom');
  p2pRef = p2p;
  const started = Date.now();
  const result = await runApp(p2p, 'dev-custom', 'custom-stream', { ms: 1_500 });
  const streamMs = Date.now() - started;
  t.deepEqual(calls, ['init action=live&channel=0 app-custom-stream', 'stop 42']);
  void p2p;
  t.true(polls > 60, `${polls} polls`);
  t.true(polls < (streamMs / 10) * 1.3, `polled about every 10 ms (${polls} in ${streamMs} ms)`);
  const all = Buffer.concat(sentChunks);
  const received = result.length as number;
  t.true(received > 0);
  t.is(createHash('sha256').update(all.subarray(0, received)).digest('hex'), result.sha256 as string, 'the app received exactly the onSendGet bytes, in order');
  t.truthy(statsSeen);
  t.true(statsSeen!.status.instNetRate > 0, 'inst_net_rate > 0 while streaming');
  t.true(statsSeen!.status.sumSentAcked > 0 && statsSeen!.status.sumSentAcked <= all.length, 'sum_sent_acked counts acknowledged bytes');
  t.true(statsSeen!.buf >= 0);
});

test('commands reach onCommand and its reply comes back; oversized ones are refused; the deadline holds; an empty reply closes the channel', async (t) => {
  const seen: string[] = [];
  const p2p = await device(t, {
    onSendGet: () => null,
    onCommand: (data, len, peer) => {
      const text = Buffer.from(data).toString();
      seen.push(`${text}/${len}/${peer}`);
      if (text === 'slow') {
        return new Promise((r) => setTimeout(() => r('too late'), 4_000)) as unknown as string;
      }
      return text === 'bye' ? null : `ok: ${text}`;
    },
  }, 'dev-cmd');
  const r = await runApp(p2p, 'dev-cmd', 'commands') as Record<string, { ok: boolean; value?: unknown; code?: string }>;
  t.like(r.small, { ok: true, value: 'ok: ptz left' });
  t.like(r.big, { ok: false, code: 'IV_ERR_INVALID_PARAM' });
  t.like(r.slow, { ok: false, code: 'IV_ERR_TIMEOUT' });
  t.like(r.close, { ok: true, value: '' }, 'an empty reply is delivered, then the channel closes');
  t.like(r.afterClose, { ok: false });
  t.deepEqual(seen.map((s) => s.split('/')[0]), ['ptz left', 'slow', 'bye'], 'the oversized command never reached onCommand');
  t.is(seen[0], 'ptz left/8/app-commands');
});

test('voice frames reach onRecvVoice in order, then (handle, null, 0)', async (t) => {
  const events: string[] = [];
  const p2p = await device(t, {
    onSendGet: () => null,
    onRecvInit: (params, peer) => {
      events.push(`init ${params} ${peer}`);
      return { voiceHandle: 'v1' };
    },
    onRecvVoice: (handle, data, len) => {
      const h = (handle as { voiceHandle: string }).voiceHandle;
      events.push(data === null ? `end ${h} ${len}` : `frame ${h} ${data[0]} ${len}`);
    },
  }, 'dev-voice');
  await runApp(p2p, 'dev-voice', 'voice');
  t.is(events[0], 'init action=voice&format=g711a app-voice');
  t.deepEqual(events.slice(1, 21), Array.from({ length: 20 }, (_, i) => `frame v1 ${i} 160`));
  t.is(events[21], 'end v1 0');
  t.is(events.length, 22);
});

test('a stalled app raises WATERMARK_WARN and _HIGH with its handle, the device stops pulling data, and _LOW follows when it catches up', async (t) => {
  const events: [number, unknown][] = [];
  let pulls = 0;
  let pullsAtHigh = -1;
  const p2p = await device(t, {
    onSendInit: () => 'h-stall',
    onSendGet: () => {
      pulls++;
      return Buffer.alloc(20_000, 1);
    },
    onEvent: (event, handle) => {
      events.push([event, handle]);
      if (event === IV_AVT_EVENT.P2P_WATERMARK_HIGH) {
        pullsAtHigh = pulls;
      }
    },
  }, 'dev-stall');
  await p2p.setBufWatermark(100_000, 200_000, 400_000);
  const r = await runApp(p2p, 'dev-stall', 'stall');
  t.deepEqual(events[0], [IV_AVT_EVENT.P2P_PEER_READY, null]);
  const wm = events.filter(([e]) => e >= 4);
  t.deepEqual(wm.slice(0, 3), [[IV_AVT_EVENT.P2P_WATERMARK_WARN, 'h-stall'], [IV_AVT_EVENT.P2P_WATERMARK_HIGH, 'h-stall'], [IV_AVT_EVENT.P2P_WATERMARK_LOW, 'h-stall']]);
  t.deepEqual((r.levels as string[]).slice(0, 3), ['warn', 'high', 'low']);
  t.true(pullsAtHigh > 0);
});
