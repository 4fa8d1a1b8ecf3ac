// device.mjs — one camera served live to apps over P2P and recorded to a local "cloud"
// directory. Prints the line an app needs (broker, device, peer, token); SIGTERM stops it.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AccessUnitSplitter, AdtsSplitter, CloudModule, FrameRing, Ingest, mintToken, P2pModule, SAMPLE, SampleFeed } from 'iotvideo-gateway';

const deviceId = 'cam-1';
const secret = 'change-me'; // signs the apps' access tokens
const video = { codec: 'h264' };
const audio = { codec: 'aac', sampleRate: 16000, channels: 1 };

// channel 0: a FrameRing that the built-in live streams read, written through the SDK's input rules
const ring = FrameRing.create({ dataBytes: 8 << 20, slots: 2048, keys: 64 });
const camera = new Ingest(ring, { video, audio });
const p2p = new P2pModule({ deviceId, secret, mqttPort: 0, cameras: [{ channel: 0, ring: ring.buffer, video, audio }] });
await p2p.init({}); // an embedded MQTT broker on a free port; ICE on 127.0.0.1

// cloud recording into a local directory, by the plan the store holds (full time)
const store = { kind: 'local', dir: 'cloud' };
mkdirSync(join(store.dir, deviceId), { recursive: true });
writeFileSync(join(store.dir, deviceId, 'plan.json'), JSON.stringify({ fullTime: { enabled: true } }));
const cloud = new CloudModule({ deviceId, store, spoolDir: 'spool' });
await cloud.init({ maxGopSize: 1 << 20, avFormat: { video: { ...video, fps: 25 }, audio } });

// the camera: the package's sample media looped in real time, into both modules
const frames = (splitter, file) => [...splitter.push(readFileSync(file)).frames, ...splitter.end().frames];
const origin = Date.now() * 1000; // ring timestamps are µs, the feed's ms from 0
const feed = new SampleFeed({
  video: { frames: frames(new AccessUnitSplitter('h264'), SAMPLE.h264), fps: 25 },
  audio: { frames: frames(new AdtsSplitter(), SAMPLE.aac), sampleRate: 16000 },
  push: (type, pack) => {
    const us = origin + pack.pts * 1000;
    const r = type === 'video' ? camera.pushVideo(pack.data, us) : camera.pushAudio(pack.data, us);
    if (!r.ok) {
      throw r.error;
    }
    cloud.pushStream(type, pack);
  },
  onError: (err) => console.error('refused:', err.message),
}).start();

// an app's access token (in production, minted by your backend with the same secret)
const peerId = 'app-1';
const token = mintToken(secret, { deviceId, peerId, rights: ['live'], expires: Math.floor(Date.now() / 1000) + 3600 });
console.log(JSON.stringify({ broker: p2p.brokerUrl, deviceId, peerId, token }));

process.once('SIGTERM', async () => {
  feed.stop();
  await cloud.exit(); // the last segment into the local recording, uploads drained
  await p2p.exit();
  const segments = readdirSync(store.dir, { recursive: true }).filter((f) => f.endsWith('.m4s'));
  console.log(JSON.stringify({ segments }));
  process.exit(0);
});
