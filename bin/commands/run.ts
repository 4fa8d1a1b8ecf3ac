/**
 * run — `ivgw run`: the gateway on embedded defaults.
 *  - capture worker: the demo cameras (sample media looped in real time: channel 0
 *    H.264+AAC, channel 1 H.265+G.711) publishing into FrameRings;
 *  - p2p worker (pinned): one PeerActor per app, serving live FLV over WebRTC;
 *  - io worker: the command and voice actors with the built-in handlers (commands get a
 *    JSON reply, intercom audio is counted; actors/p2p/builtin-handlers.ts);
 *  - an embedded MQTT broker (aedes) for signaling, or --broker URL;
 *  - a built-in STUN responder (or --stun URL) for ICE and the P2P keep-alive probes
 *    (--keepalive SECONDS,PROBES; default 5,3): address changes ICE-restart every app,
 *    lost probes restart the app connections that are gone;
 *  - cloud worker (unless --no-record): one CloudActor per camera recording full time
 *    into the local recording (`<dir>/local/ch<N>`, 1 day / 1 GiB retention) and
 *    uploading to the store (`<dir>/cloud` or S3);
 * and prints the device id, the broker URL and an app token, then each camera's fps,
 * bitrate and GOP every few seconds until Ctrl-C (or --seconds).
 */
import { randomBytes } from 'node:crypto';
import { ActorSystem } from '../../runtime/actor-system.js';
import { FrameRing } from '../../runtime/frame-ring.js';
import { CAPTURE_ACTOR, demoCameras } from '../../actors/capture/index.js';
import type { IngestStats } from '../../actors/capture/ingest.js';
import { RIGHTS, mintToken } from '../../actors/p2p/access-token.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../actors/p2p/embedded-broker.js';
import { P2pService } from '../../actors/p2p/p2p-service.js';
import type { Watermarks } from '../../actors/p2p/watermark.js';
import type { AdmissionLimits } from '../../actors/p2p/admission.js';
import { basename, join } from 'node:path';
import type { CloudArgs } from '../../actors/cloud/CloudActor.js';
import { CLOUD_ACTOR } from '../../actors/cloud/index.js';
import { COMMAND_ACTOR, VOICE_ACTOR } from '../../actors/p2p/index.js';
import { registerBuiltinHandlers } from '../../actors/p2p/builtin-handlers.js';
import { startStunResponder, type StunResponder } from '../../actors/p2p/stun-server.js';
import type { StoreConfig } from '../../actors/cloud/object-store.js';

export interface RunOptions {
  seconds: number | undefined;
  statsEverySeconds?: number;
  deviceId?: string;
  secret?: string;
  /** Data directory: device.json, default recording dir (default ./ivgw-data). */
  dataDir?: string;
  /** Set when the options come from a config file (no implicit recording then). */
  fromConfig?: boolean;
  /** Embedded broker port (0: any free port). Ignored with `broker`. */
  mqttPort?: number;
  broker?: string;
  /** ICE bind address (default 127.0.0.1); `any` binds every interface. */
  iceBind?: string;
  /** STUN server for ICE and the keep-alive (`stun:host:port`); default: the built-in responder. */
  stun?: string;
  /** p2p_keep_alive_cfg; default 5 s × 3 probes (the spec's recommendation); 0 turns it off. */
  keepAlive?: { timeInterS: number; maxAttemptNum: number };
  /** Default RUN_WATERMARKS; all zero disables. */
  watermarks?: Watermarks;
  admission?: AdmissionLimits;
  /** Channel 0 plays this H.264/H.265 elementary stream file (looped, no audio) instead of the demo camera. */
  video?: { file: string; codec: 'h264' | 'h265'; fps: number };
  /** Record every camera (full time) and upload; absent: no recording. */
  record?: { dir: string; store: StoreConfig };
}

/** ≈ 1, 2 and 4 s of a 2 Mbit/s stream: a stalled app costs at most ~1 MiB plus the SCTP buffer. */
export const RUN_WATERMARKS: Watermarks = { low: 256 * 1024, warn: 512 * 1024, high: 1024 * 1024 };

export async function runCommand(opts: RunOptions): Promise<number> {
  const deviceId = opts.deviceId ?? process.env.IVGW_DEVICE_ID ?? 'ivgw-demo';
  const givenSecret = opts.secret ?? process.env.IVGW_DEVICE_SECRET;
  const secret = givenSecret ?? randomBytes(32).toString('base64url');
  const demo = demoCameras();
  if (opts.video) {
    demo[0] = { camera: `file-${basename(opts.video.file)}`, video: { codec: opts.video.codec }, source: { kind: 'file', video: opts.video.file, fps: opts.video.fps } };
  }
  const cameras = demo.map((c, channel) => ({ ...c, channel, ring: FrameRing.create({ dataBytes: 8 * 1024 * 1024, slots: 2048, keys: 64 }).buffer }));
  const system = new ActorSystem({
    workers: [
      { name: 'capture', actors: cameras.map(({ channel: _channel, ...args }) => ({ id: `capture:${args.camera}`, module: CAPTURE_ACTOR, args })) },
      { name: 'p2p', pinned: true, actors: [] },
      { name: 'io', actors: [{ id: 'command', module: COMMAND_ACTOR, handlerTimeoutMs: 60_000 }, { id: 'voice', module: VOICE_ACTOR, handlerTimeoutMs: 60_000 }] },
      ...(opts.record ? [{ name: 'cloud', resourceLimits: { maxYoungGenerationSizeMb: 4 }, actors: cameras.map((c) => ({ id: `cloud:${c.camera}`, module: CLOUD_ACTOR, handlerTimeoutMs: 120_000, args: cloudArgs(deviceId, c, opts.record as NonNullable<RunOptions['record']>) })) }] : []),
    ],
  });
  system.on('event', (e) => {
    if (e.type !== 'start' && e.type !== 'stop' && !e.child.startsWith('peer:')) {
      process.stdout.write(`[supervisor] ${e.type} ${e.supervisor}/${e.child}${e.reason ? ` (${e.reason})` : ''}${e.error ? `: ${e.error.code} ${e.error.message}` : ''}\n`);
    }
  });
  let fatal = false;
  system.on('fatal', (err) => {
    fatal = true;
    process.stderr.write(`[supervisor] fatal: ${err.code} ${err.message}\n`);
  });
  await system.start();
  for (const c of cameras) {
    system.ref(`capture:${c.camera}`).onNotification('CAPTURE_EVENT', (body) => {
      const e = body as { camera: string; type: string; code?: string; message?: string };
      if (e.type !== 'format') {
        process.stdout.write(`[${e.camera}] ${e.type}${e.code ? ` ${e.code}` : ''}${e.message ? ` ${e.message}` : ''}\n`);
      }
    });
  }
  for (const c of opts.record ? cameras : []) {
    const ref = system.ref(`cloud:${c.camera}`);
    ref.onNotification('CLOUD_NOTICE', (body) => {
      const n = body as { type: string; what?: string; key?: string; message?: string };
      process.stdout.write(`[cloud ${c.camera}] ${n.type}${n.what ? ` ${n.what}` : ''}${n.key ? ` ${n.key}` : ''}${n.message ? ` ${n.message}` : ''}\n`);
    });
    await ref.call('CLOUD_FULL_TIME', { on: true });
  }
  let broker: EmbeddedBroker | undefined;
  if (!opts.broker) {
    broker = await startEmbeddedBroker({ port: opts.mqttPort ?? 1883 });
  }
  const brokerUrl = opts.broker ?? (broker as EmbeddedBroker).url;
  const iceBind = opts.iceBind === 'any' ? undefined : opts.iceBind ?? '127.0.0.1';
  let stunResponder: StunResponder | undefined;
  if (!opts.stun) {
    stunResponder = await startStunResponder({ host: iceBind ?? '0.0.0.0' });
  }
  const stunUrl = opts.stun ?? `stun:${iceBind ?? '127.0.0.1'}:${(stunResponder as StunResponder).port}`;
  const keepAlive = opts.keepAlive ?? { timeInterS: 5, maxAttemptNum: 3 };
  const handlers = registerBuiltinHandlers(system, deviceId, (v) => {
    process.stdout.write(`[voice ${v.peer}] ended: ${v.frames} frames, ${v.bytes} bytes (${v.params})\n`);
  });
  const p2pRef: { service?: P2pService } = {};
  const p2p = await P2pService.start({
    system,
    worker: 'p2p',
    deviceId,
    secret,
    brokerUrl,
    cameras: cameras.map((c) => ({ channel: c.channel, ring: c.ring, ...(c.video ? { video: c.video } : {}), ...(c.audio ? { audio: c.audio } : {}), ...(opts.record ? { recording: { spoolDir: join(opts.record.dir, 'local', `ch${c.channel}`), device: deviceId } } : {}) })),
    ice: { ...(iceBind ? { bindAddress: iceBind } : {}), iceServers: [stunUrl] },
    ...(keepAlive.timeInterS > 0 && keepAlive.maxAttemptNum > 0 ? { keepAlive: { server: stunUrl, ...keepAlive } } : {}),
    onNetworkEvent: (e) => {
      const what = e.type === 'ready' ? `PEER_READY (mapped address ${e.mapped})`
        : e.type === 'connect-fail' ? `PEER_CONNECT_FAIL: ${e.reason}; retry in ${e.retryInMs} ms`
          : e.type === 'error' ? `PEER_ERROR: ${e.reason}`
            : `PEER_ADDR_CHANGED from ${e.from} to ${e.to}`;
      const then = e.type === 'addr-changed' ? `; ICE restart of ${p2pRef.service?.peerIds.length ?? 0} app connection(s)` : e.type === 'error' ? '; restarting the app connections that are gone' : '';
      process.stdout.write(`[p2p] ${what}${then}\n`);
    },
    watermarks: opts.watermarks ?? RUN_WATERMARKS,
    commandActor: 'command',
    voiceActor: 'voice',
    ...(opts.admission ? { admission: opts.admission } : {}),
    onPeerEvent: (peer, e) => {
      if (e.type !== 'watermark' && e.type !== 'stream-origin') {
        const d = e.type === 'closed' ? (e.detail as { state?: string } | undefined)?.state : undefined;
        process.stdout.write(`[peer ${peer}] ${e.type}${e.stream !== undefined ? ` stream ${e.stream}` : ''}${d ? ` (${d})` : ''}${e.detail && ['restarting', 'restarted', 'respawned'].includes(e.type) ? ` ${JSON.stringify(e.detail)}` : ''}\n`);
      }
    },
  });
  p2pRef.service = p2p;
  const token = mintToken(secret, { deviceId, peerId: 'app1', expires: Math.floor(Date.now() / 1000) + 24 * 3600, rights: [...RIGHTS] });
  process.stdout.write(`ivgw: STUN ${stunUrl}${stunResponder ? ' (built-in)' : ''}; keep-alive ${keepAlive.timeInterS > 0 && keepAlive.maxAttemptNum > 0 ? `every ${keepAlive.timeInterS} s, ${keepAlive.maxAttemptNum} probes` : 'off'}\n`);
  process.stdout.write(`ivgw: device ${deviceId} up; signaling ${brokerUrl}; channels ${cameras.map((c) => `${c.channel}=${c.camera}`).join(', ')}\n`);
  process.stdout.write(`ivgw: app token (peer app1, 24 h): ${token}\n`);
  process.stdout.write(`ivgw: view it with: npx ivgw view --broker ${brokerUrl} --device ${deviceId} --peer app1 --token ${token} --seconds 5 --out live.flv\n`);
  // the secret is printed only when it is this run's throw-away one
  process.stdout.write(`ivgw: load-test it with: npx ivgw load --broker ${brokerUrl} --device ${deviceId} --secret ${givenSecret === undefined ? secret : '"$IVGW_DEVICE_SECRET"'} --peers 100 --seconds 30 --html load-report.html\n`);
  if (opts.record) {
    process.stdout.write(`ivgw: recording every camera to ${opts.record.dir}/local, uploading to ${opts.record.store.kind === 'local' ? opts.record.store.dir : `${opts.record.store.endpoint}/${opts.record.store.bucket}`}\n`);
  }
  process.stdout.write(`ivgw: ready${opts.seconds ? ` for ${opts.seconds} s` : '; Ctrl-C stops'}\n`);
  const printStats = async (): Promise<void> => {
    for (const c of cameras) {
      const s = await system.ref(`capture:${c.camera}`).call('CAPTURE_STATS', {}).catch(() => undefined) as IngestStats | undefined;
      if (s) {
        const v = s.video ? `${s.video.codec} ${s.video.width}x${s.video.height}` : 'no video';
        const rejected = Object.values(s.rejected).reduce((a, b) => a + (b ?? 0), 0);
        process.stdout.write(`[${c.camera}] ${v} ${s.fps} fps, video ${s.videoKbps} kbit/s, audio ${s.audioKbps} kbit/s, GOP ${s.gopFrames} (${s.keyframeIntervalMs} ms), frames ${s.videoFrames}+${s.audioFrames}, refused ${rejected}, reader laps ${s.laps}\n`);
      }
    }
    const net = p2p.network;
    process.stdout.write(`[p2p] apps connected: ${p2p.peerIds.length}, streams open: ${p2p.streamBudget.used}/${p2p.streamBudget.limit}, commands answered: ${handlers.commands}, intercom sessions ended: ${handlers.voiceSessions}${net ? `, keep-alive ${net.status}${net.address ? ` (mapped ${net.address})` : ''}` : ''}\n`);
    for (const c of opts.record ? cameras : []) {
      const s = (await system.ref(`cloud:${c.camera}`).call('CLOUD_STATS', {}).catch(() => undefined)) as { segments: number; segmentBytes: number; upload: { uploadedObjects: number; pending: number; failures: number } } | undefined;
      if (s) {
        process.stdout.write(`[cloud ${c.camera}] segments ${s.segments} (${Math.round(s.segmentBytes / 1024)} KiB), uploaded ${s.upload.uploadedObjects}, pending ${s.upload.pending}, upload failures ${s.upload.failures}\n`);
      }
    }
  };
  const ticker = setInterval(() => void printStats(), (opts.statsEverySeconds ?? 5) * 1000);
  await new Promise<void>((resolve) => {
    const timer = opts.seconds ? setTimeout(resolve, opts.seconds * 1000) : undefined;
    const stop = (): void => {
      clearTimeout(timer);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  clearInterval(ticker);
  await printStats();
  await p2p.close();
  handlers.unregister();
  for (const c of opts.record ? cameras : []) {
    const r = (await system.ref(`cloud:${c.camera}`).call('CLOUD_CLOSE', { drainMs: 3_000 }, { timeoutMs: 60_000 }).catch(() => undefined)) as { pending: number } | undefined;
    process.stdout.write(`[cloud ${c.camera}] closed; ${r ? `${r.pending} objects left in the spool for the next run` : 'close failed'}\n`);
  }
  await system.stop();
  await broker?.close();
  await stunResponder?.close();
  process.stdout.write('ivgw: stopped\n');
  return fatal ? 1 : 0;
}

function cloudArgs(device: string, c: { camera: string; channel: number; ring: SharedArrayBuffer; video?: { codec: 'h264' | 'h265' }; audio?: CloudArgs['audio'] }, record: NonNullable<RunOptions['record']>): CloudArgs {
  return {
    device,
    channel: c.channel,
    ring: c.ring,
    ...(c.video ? { video: { codec: c.video.codec, fps: 25 } } : {}),
    ...(c.audio ? { audio: c.audio } : {}),
    store: record.store,
    spoolDir: join(record.dir, 'local', `ch${c.channel}`),
    retention: { maxAgeS: 86_400, maxBytes: 1 << 30 },
    segmentS: 2,
    sessionMaxS: 3_600,
    noDataPauseMs: 120_000,
    uploadTimeoutMs: 30_000,
    concurrency: 2,
    progress: new SharedArrayBuffer(8),
  };
}
