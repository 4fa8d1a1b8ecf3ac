// gateway.mjs — a whole gateway from code: the two demo cameras served live to apps and
// recorded to a local "cloud" directory, the operator's HTTP endpoint on a free port.
// Prints the line an app needs (broker, device, peer, token; app.mjs takes it); SIGTERM stops it.
import { Gateway } from 'iotvideo-gateway';

const gateway = new Gateway({
  deviceId: 'nvr-1',
  dataDir: 'ivgw-data', // device.json (id, secret, DTLS certificate) is created here once
  mqttPort: 0, // an embedded MQTT broker on a free port; ICE on 127.0.0.1
  record: { dir: 'ivgw-data', store: { kind: 'local', dir: 'cloud' } },
  http: { listen: '127.0.0.1:0' }, // /metrics, /healthz, /api/status
  // cameras: [{ name: 'door', channel: 0, source: { kind: 'rtsp', url: 'rtsp://…' }, … }] — or gatewayOptions(loadConfig('ivgw.yaml'))
});
gateway.on('log', (r) => r.level !== 'debug' && console.error(`[${r.component}] ${r.msg}`));
gateway.on('peer', (peer, e) => e.type === 'connected' && console.error(`${peer} connected in ${Math.round(e.detail?.connectMs ?? 0)} ms`));

const info = await gateway.start();
const peerId = 'app-1';
const token = gateway.token(peerId, { ttlS: 3600, rights: ['live'] }); // in production, minted by your backend
console.log(JSON.stringify({ broker: info.brokerUrl, deviceId: info.deviceId, peerId, token, http: info.httpUrl }));

process.once('SIGTERM', async () => {
  await gateway.stop(); // apps told bye, recording drained, workers stopped
  process.exit(0);
});
