/**
 * run — `ivgw run`: the gateway on embedded defaults.
 *  - capture worker: the demo cameras (sample media looped in real time: channel 0
 *    H.264+AAC, channel 1 H.265+G.711) publishing into FrameRings;
 *  - p2p worker (pinned): one PeerActor per app, serving live FLV over WebRTC;
 *  - an embedded MQTT broker (aedes) for signaling, or --broker URL;
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

export interface RunOptions {
  seconds: number | undefined;
  statsEverySeconds?: number;
  deviceId?: string;
  secret?: string;
  /** Embedded broker port (0: any free port). Ignored with `broker`. */
  mqttPort?: number;
  broker?: string;
  iceBind?: string;
  watermarks?: Watermarks;
}

export async function runCommand(opts: RunOptions): Promise<number> {
  const deviceId = opts.deviceId ?? process.env.IVGW_DEVICE_ID ?? 'ivgw-demo';
  const secret = opts.secret ?? process.env.IVGW_DEVICE_SECRET ?? randomBytes(32).toString('base64url');
  const cameras = demoCameras().map((c, channel) => ({ ...c, channel, ring: FrameRing.create({ dataBytes: 8 * 1024 * 1024, slots: 2048, keys: 64 }).buffer }));
  const system = new ActorSystem({
    workers: [
      { name: 'capture', actors: cameras.map(({ channel: _channel, ...args }) => ({ id: `capture:${args.camera}`, module: CAPTURE_ACTOR, args })) },
      { name: 'p2p', pinned: true, actors: [] },
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
  let broker: EmbeddedBroker | undefined;
  if (!opts.broker) {
    broker = await startEmbeddedBroker({ port: opts.mqttPort ?? 1883 });
  }
  const brokerUrl = opts.broker ?? (broker as EmbeddedBroker).url;
  const p2p = await P2pService.start({
    system,
    worker: 'p2p',
    deviceId,
    secret,
    brokerUrl,
    cameras: cameras.map((c) => ({ channel: c.channel, ring: c.ring, ...(c.video ? { video: c.video } : {}), ...(c.audio ? { audio: c.audio } : {}) })),
    ice: { bindAddress: opts.iceBind ?? '127.0.0.1', iceServers: [] },
    ...(opts.watermarks ? { watermarks: opts.watermarks } : {}),
    onPeerEvent: (peer, e) => {
      if (e.type !== 'watermark') {
        process.stdout.write(`[peer ${peer}] ${e.type}${e.stream !== undefined ? ` stream ${e.stream}` : ''}\n`);
      }
    },
  });
  const token = mintToken(secret, { deviceId, peerId: 'app1', expires: Math.floor(Date.now() / 1000) + 24 * 3600, rights: [...RIGHTS] });
  process.stdout.write(`ivgw: device ${deviceId} up; signaling ${brokerUrl}; channels ${cameras.map((c) => `${c.channel}=${c.camera}`).join(', ')}\n`);
  process.stdout.write(`ivgw: app token (peer app1, 24 h): ${token}\n`);
  process.stdout.write(`ivgw: view it with: npx ivgw view --broker ${brokerUrl} --device ${deviceId} --peer app1 --token ${token} --seconds 5 --out live.flv\n`);
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
    process.stdout.write(`[p2p] apps connected: ${p2p.peerIds.length}\n`);
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
  await system.stop();
  await broker?.close();
  process.stdout.write('ivgw: stopped\n');
  return fatal ? 1 : 0;
}
