/**
 * The SDK's P2P API (iv_av.h) with real user callbacks in a device process and a real
 * app in another: onSendInit/onSendGet/onSendStop, getSendBuf/getSendStatus,
 * setBufWatermark and the WATERMARK events, onCommand with its deadline and the
 * empty-reply rule, onRecvInit/onRecvVoice with the end marker, and input validation.
 * (Neither side runs in the test process: node-datachannel's native teardown is not
 * safe under the test runner.) Serial: each test starts a device and an app process, and
 * ten DTLS handshakes at once next to other suites starve the connect deadline.
 */
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { connect } from 'mqtt';
import { mintToken } from '../../shared/protocol/access-token.js';
import { IV_AVT_EVENT } from '../../actors/p2p/p2p-module.js';
import { startCoturn } from '../helpers/coturn.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { tempDir } from '../helpers/media.js';

const APP = fileURLToPath(new URL('../fixtures/app-scenario.js', import.meta.url));
const DEVICE = fileURLToPath(new URL('../fixtures/device-host.js', import.meta.url));
const SECRET = 'sdk-secret';

interface Report {
  log: unknown[];
  polls: number;
  statsAt60?: { buf: number; status: { instNetRate: number; aveSentRate: number; sumSentAcked: number } };
  validation?: Record<string, string>;
  sentBytes: number;
  sha?: string;
}

class Device {
  private readonly lines: string[] = [];
  private waiters: ((line: string) => void)[] = [];
  readonly proc: ChildProcess;

  constructor(readonly deviceId: string, scenario: string, stun?: string, broker?: string) {
    this.proc = spawn(process.execPath, [DEVICE, JSON.stringify({ deviceId, secret: SECRET, scenario, ...(stun ? { stun } : {}), ...(broker ? { broker } : {}) })], { stdio: ['pipe', 'pipe', 'inherit'] });
    createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      const w = this.waiters.shift();
      if (w) {
        w(line);
      } else {
        this.lines.push(line);
      }
    });
  }

  next(timeoutMs = 30_000): Promise<Record<string, unknown>> {
    const line = this.lines.shift();
    if (line !== undefined) {
      return Promise.resolve(JSON.parse(line) as Record<string, unknown>);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('device host did not answer')), timeoutMs);
      this.waiters.push((l) => {
        clearTimeout(timer);
        resolve(JSON.parse(l) as Record<string, unknown>);
      });
    });
  }

  async url(): Promise<string> {
    return (await this.next()).ready as string;
  }

  async report(len?: number): Promise<Report> {
    this.proc.stdin?.write(`${JSON.stringify({ op: 'report', len })}\n`);
    return await this.next() as unknown as Report;
  }

  stop(): void {
    this.proc.stdin?.write(`${JSON.stringify({ op: 'exit' })}\n`);
    setTimeout(() => this.proc.kill('SIGKILL'), 3_000).unref();
  }
}

function runApp(url: string, deviceId: string, scenario: string, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const peerId = `app-${scenario}`;
  const token = mintToken(SECRET, { deviceId, peerId, expires: Math.floor(Date.now() / 1000) + 600, rights: ['live', 'playback', 'voice', 'command'] });
  const child = spawn(process.execPath, [APP, JSON.stringify({ url, deviceId, peerId, token, scenario, ...extra })], { stdio: ['ignore', 'pipe', 'pipe'] });
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

/** The device's onEvent log (network events: no handle), and a wait for a condition on it that fails naming `what`. */
function networkEvents(t: { is(a: unknown, b: unknown, m?: string): void }, device: Device) {
  const events = async (): Promise<number[]> => ((await device.report()).log.filter((e) => (e as unknown[])[0] === 'event') as [string, number, unknown][])
    .map(([, e, h]) => {
      t.is(h, null, 'network events carry no handle');
      return e;
    });
  const until = async (what: string, pred: (e: number[]) => boolean, ms: number): Promise<number[]> => {
    for (const end = Date.now() + ms; ; await new Promise((r) => setTimeout(r, 200))) {
      const e = await events();
      if (pred(e)) {
        return e;
      }
      if (Date.now() > end) {
        throw new Error(`${what}: events ${JSON.stringify(e)}`);
      }
    }
  };
  return { events, until };
}

async function withDevice(t: { teardown(fn: () => void): void }, scenario: string): Promise<{ device: Device; url: string }> {
  const device = new Device(`dev-${scenario}`, scenario);
  t.teardown(() => device.stop());
  return { device, url: await device.url() };
}

test.serial('init validates its parameters and refuses a second init', async (t) => {
  const { device } = await withDevice(t, 'validate');
  const v = (await device.report()).validation;
  t.like(v, {
    badKeepAlive: 'IV_ERR_INVALID_PARAM@keepAlive.maxAttemptNum',
    keepAliveNoServer: 'IV_ERR_INVALID_PARAM@keepAlive',
    keepAliveOff: 'no error',
    nothingToSend: 'IV_ERR_INVALID_PARAM@onSendGet',
    secondInit: 'IV_ERR_ALREADY_INITIALIZED@undefined',
    badMarks: 'IV_ERR_INVALID_PARAM@warn_mark',
    zeroMarks: 'no error',
    goodMarks: 'no error',
    unknownHandle: 'IV_ERR_INVALID_PARAM@handle',
  });
});

test.serial('a custom stream (live, then playback): onSendInit gets the params and peer, onSendGet is polled every 10 ms, its bytes arrive unchanged, onSendStop ends it', async (t) => {
  const { device, url } = await withDevice(t, 'custom');
  const started = Date.now();
  const app = await runApp(url, 'dev-custom', 'custom-stream', { ms: 1_500 });
  const streamMs = Date.now() - started;
  const r = await device.report(app.length as number);
  t.deepEqual(r.log.filter((e) => (e as string[])[0] !== 'event'), [['init', 'action=live&channel=0', 'app-custom-stream'], ['stop', 42], ['init', 'action=playback&channel=0&start=1700000000', 'app-custom-stream'], ['stop', 42]], 'live and playback both reach onSendInit with the app\'s params');
  t.true((app.playbackLength as number) > 0, 'the playback stream carries the onSendGet bytes');
  t.true(r.polls > 60, `${r.polls} polls`);
  t.true(r.polls < (streamMs / 10) * 1.3, `polled about every 10 ms (${r.polls} in ${streamMs} ms)`);
  t.true((app.length as number) > 0);
  t.is(r.sha, app.sha256 as string, 'the app received exactly the onSendGet bytes, in order');
  t.truthy(r.statsAt60);
  t.true(r.statsAt60!.status.instNetRate > 0, 'inst_net_rate > 0 while streaming');
  // the module's embedded broker admits only the device and apps with a token, each on its own topics
  for (const [who, opts] of [['anonymous', {}], ['a forged token', { username: 'intruder', password: 'iv1.e30.AAAA' }]] as const) {
    const c = connect(url, { ...opts, reconnectPeriod: 0, connectTimeout: 5_000 });
    const refused = await new Promise<boolean>((resolve) => {
      c.once('connect', () => resolve(false));
      c.once('error', () => resolve(true));
      c.once('close', () => resolve(true));
    });
    c.end(true);
    t.true(refused, `${who} MQTT client refused by the SDK's broker`);
  }
  t.true(r.statsAt60!.status.sumSentAcked > 0 && r.statsAt60!.status.sumSentAcked <= r.sentBytes, 'sum_sent_acked counts acknowledged bytes');
  t.true(r.statsAt60!.buf >= 0);
});

test.serial('commands reach onCommand and its reply comes back; oversized ones are refused; the deadline holds; an empty reply closes the channel', async (t) => {
  const { device, url } = await withDevice(t, 'commands');
  const app = await runApp(url, 'dev-commands', 'commands') as Record<string, { ok: boolean; value?: unknown; code?: string }>;
  t.like(app.small, { ok: true, value: 'ok: ptz left' });
  t.like(app.big, { ok: false, code: 'IV_ERR_INVALID_PARAM' });
  t.like(app.slow, { ok: false, code: 'IV_ERR_TIMEOUT' });
  t.like(app.close, { ok: true, value: '' }, 'an empty reply is delivered, then the channel closes');
  t.like(app.afterClose, { ok: false });
  const seen = (await device.report()).log.filter((e) => (e as string[])[0] === 'command');
  t.deepEqual(seen.map((e) => (e as string[])[1]), ['ptz left', 'slow', 'bye'], 'the oversized command never reached onCommand');
  t.deepEqual(seen[0], ['command', 'ptz left', 8, 'app-commands']);
});

test.serial('voice frames reach onRecvVoice in order, then (handle, null, 0); a device without onCommand refuses commands with IV_ERR_NOT_SUPPORTED', async (t) => {
  const { device, url } = await withDevice(t, 'voice');
  const app = await runApp(url, 'dev-voice', 'voice') as Record<string, { ok: boolean; code?: string }>;
  t.like(app.command, { ok: false, code: 'IV_ERR_NOT_SUPPORTED' });
  let events: unknown[] = [];
  for (const until = Date.now() + 10_000; !events.some((e) => (e as unknown[])[0] === 'voice-end') && Date.now() < until; await new Promise((r) => setTimeout(r, 100))) {
    events = (await device.report()).log.filter((e) => String((e as unknown[])[0]).startsWith('voice'));
  }
  t.deepEqual(events[0], ['voice-init', 'action=voice&format=g711a', 'app-voice']);
  t.deepEqual(events.slice(1, 21), Array.from({ length: 20 }, (_, i) => ['voice', 'v1', i, 160]));
  t.deepEqual(events[21], ['voice-end', 'v1', 0]);
  t.is(events.length, 22);
});

test.serial('a stalled app raises WATERMARK_WARN and _HIGH with its handle, the device stops pulling data, and _LOW follows when it catches up', async (t) => {
  const { device, url } = await withDevice(t, 'stall');
  const app = await runApp(url, 'dev-stall', 'stall');
  const r = await device.report();
  const events = r.log.filter((e) => (e as unknown[])[0] === 'event') as [string, number, unknown][];
  t.deepEqual(events[0], ['event', IV_AVT_EVENT.P2P_PEER_READY, null]);
  const wm = events.filter(([, e]) => e >= 4).map(([, e, h]) => [e, h]);
  t.deepEqual(wm.slice(0, 3), [[IV_AVT_EVENT.P2P_WATERMARK_WARN, 'h-stall'], [IV_AVT_EVENT.P2P_WATERMARK_HIGH, 'h-stall'], [IV_AVT_EVENT.P2P_WATERMARK_LOW, 'h-stall']]);
  t.deepEqual((app.levels as string[]).slice(0, 3), ['warn', 'high', 'low']);
});

test.serial('without watermarks (0/0/0) a stalled app still bounds what the device pulls: onSendGet is not polled above 1 MiB of backlog, and polling resumes when the app catches up', async (t) => {
  const { device, url } = await withDevice(t, 'stall-nomarks');
  const app = await runApp(url, 'dev-stall-nomarks', 'stall-nomarks');
  t.like(app.mark, { ok: true });
  const r = await device.report();
  const mark = (r.log.find((e) => (e as unknown[])[0] === 'mark') as [string, number] | undefined)?.[1] ?? 0;
  t.true(mark * 20_000 >= 1 << 20, `pulled up to the bound while stalled: ${mark} chunks of 20 KB`);
  t.true(mark * 20_000 < 1.5 * (1 << 20), `and no more: ${mark} chunks of 20 KB in 3 s of stall (unbounded: ~300)`);
  t.true(r.polls > mark + 20, `polling resumed once the app acked again (${r.polls} after ${mark})`);
  t.false(r.log.some((e) => (e as unknown[])[0] === 'event' && ((e as unknown[])[1] as number) >= 4), 'no watermark events: there are none');
});

test.serial('keep-alive events reach onEvent with no handle: CONNECT_FAIL while the STUN server is down at start, READY when it answers, ERROR when it goes away, READY when it is back', async (t) => {
  const turn = await startCoturn();
  await turn.kill();
  const device = new Device('dev-keepalive', 'keepalive', turn.url);
  t.teardown(async () => {
    device.stop();
    await turn.kill();
  });
  await device.url();
  const { events, until } = networkEvents(t, device);
  const E = IV_AVT_EVENT;
  let e = await until('CONNECT_FAIL', (x) => x.includes(E.P2P_PEER_CONNECT_FAIL), 5_000);
  t.false(e.includes(E.P2P_PEER_READY), 'not ready while the server cannot be reached');
  await turn.restart();
  e = await until('READY after the server came up', (x) => x.includes(E.P2P_PEER_READY), 10_000);
  t.is(e.filter((x) => x === E.P2P_PEER_READY).length, 1);
  await turn.kill();
  e = await until('ERROR once the probes are lost', (x) => x.includes(E.P2P_PEER_ERROR), 6_000);
  await new Promise((r) => setTimeout(r, 2_500));
  e = await events();
  t.is(e.filter((x) => x === E.P2P_PEER_ERROR).length, 1, 'one PEER_ERROR per outage');
  await turn.restart();
  e = await until('READY again', (x) => x.filter((y) => y === E.P2P_PEER_READY).length === 2, 6_000);
  t.deepEqual(e.filter((x) => x <= E.P2P_PEER_ADDR_CHANGED).slice(-3), [E.P2P_PEER_READY, E.P2P_PEER_ERROR, E.P2P_PEER_READY]);
});

test.serial('keep-alive off: the broker connection judges the network, as the SDK\'s MQTT keep-alive does: PEER_ERROR when the broker goes away, PEER_READY when it is back', async (t) => {
  const dir = tempDir(t);
  let broker = await startMosquitto(dir);
  t.teardown(() => broker.stop());
  const device = new Device('dev-mqtt-judged', 'keepalive-off', undefined, broker.url);
  t.teardown(() => device.stop());
  await device.url();
  const { events, until } = networkEvents(t, device);
  t.deepEqual(await events(), [IV_AVT_EVENT.P2P_PEER_READY], 'READY at init');
  broker.stop();
  await until('PEER_ERROR after the broker went away', (e) => e.includes(IV_AVT_EVENT.P2P_PEER_ERROR), 10_000);
  broker = await startMosquitto(dir, [], undefined, { port: broker.port });
  const e = await until('PEER_READY once the broker is back', (ev) => ev.lastIndexOf(IV_AVT_EVENT.P2P_PEER_READY) > ev.indexOf(IV_AVT_EVENT.P2P_PEER_ERROR), 15_000);
  t.is(e.filter((x) => x === IV_AVT_EVENT.P2P_PEER_ERROR).length, 1, 'one PEER_ERROR per outage');
});
