// app.mjs — an app watching channel 0 live for 3 s: node app.mjs '<the line device.mjs printed>'
// (its own process: node-datachannel may be loaded by one thread of a process only,
// and the device's P2P worker has it).
import { AppClient } from 'iotvideo-gateway/client';

const { broker, deviceId, peerId, token } = JSON.parse(process.argv[2]);
const app = await AppClient.connect({ url: broker, deviceId, peerId, token, bindAddress: '127.0.0.1' });
const stream = await app.open('action=live&channel=0'); // FLV, checked as it arrives
await new Promise((r) => setTimeout(r, 3_000));
const { bytes, videoFrames, keyframes, violations } = stream.stats;
console.log(JSON.stringify({ connectMs: Math.round(app.connectMs), bytes, videoFrames, keyframes, violations }));
app.close();
await AppClient.shutdownTransport();
process.exit(0);
