/**
 * dtls-cert — connect time with the device's persistent DTLS certificate
 * (`certificatePemFile`/`keyPemFile`, what `ivgw run` does) against node-datachannel
 * generating one itself (no certificate option), on raw node-datachannel pairs in this
 * process over loopback: from creating the device's PeerConnection (answering an offer)
 * to its data channel opening (ICE + DTLS + SCTP). The two modes alternate, 40 pairs each
 * (10 with --quick). Also reports whether the library's own certificate is one per
 * connection or cached (same fingerprint across connections).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodeDataChannel, { type PeerConnection } from 'node-datachannel';
import { generateCertificate } from '../gateway/identity/device-identity.js';
import { sdpFingerprints } from '../shared/protocol/fingerprint-pin.js';
import type { BenchOptions } from './run.js';
import { percentile, round } from './stats.js';

type Config = ConstructorParameters<typeof nodeDataChannel.PeerConnection>[1];

async function pair(deviceConfig: Config): Promise<{ ms: number; createMs: number; fingerprint: string }> {
  const base: Config = { iceServers: [], bindAddress: '127.0.0.1' };
  const app = new nodeDataChannel.PeerConnection('app', base);
  let device: PeerConnection | undefined;
  let t0 = 0;
  let createMs = 0;
  let fingerprint = '';
  const result = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no connection in 10 s')), 10_000);
    app.onLocalDescription((sdp, type) => {
      if (type.toLowerCase() !== 'offer') {
        return;
      }
      t0 = performance.now();
      device = new nodeDataChannel.PeerConnection('device', deviceConfig);
      createMs = performance.now() - t0;
      device.onLocalDescription((answer) => {
        fingerprint = sdpFingerprints(answer)[0] ?? '';
        app.setRemoteDescription(answer, 'answer');
      });
      device.onLocalCandidate((c, mid) => app.addRemoteCandidate(c, mid));
      device.onDataChannel((dc) => {
        clearTimeout(timer);
        resolve(performance.now() - t0);
        dc.close();
      });
      device.setRemoteDescription(sdp.replaceAll('a=setup:actpass', 'a=setup:active'), 'offer');
    });
    app.onLocalCandidate((c, mid) => {
      const add = (): void => device?.addRemoteCandidate(c, mid);
      if (device) {
        add();
      } else {
        setTimeout(add, 5);
      }
    });
  });
  const dc = app.createDataChannel('control');
  const ms = await result;
  dc.close();
  app.close();
  device?.close();
  return { ms, createMs, fingerprint };
}

export async function run(opts: BenchOptions): Promise<Record<string, unknown>> {
  const n = opts.quick ? 10 : 40;
  nodeDataChannel.setSctpSettings({ sendBufferSize: 262_144, recvBufferSize: 262_144 });
  const dir = mkdtempSync(join(tmpdir(), 'ivgw-dtls-bench-'));
  const { certificate, key } = await generateCertificate('bench');
  writeFileSync(join(dir, 'cert.pem'), certificate);
  writeFileSync(join(dir, 'key.pem'), key);
  const persistent: Config = { iceServers: [], bindAddress: '127.0.0.1', certificatePemFile: join(dir, 'cert.pem'), keyPemFile: join(dir, 'key.pem') };
  const generated: Config = { iceServers: [], bindAddress: '127.0.0.1' };
  const keep: unknown[] = [];
  const res = { persistent: [] as number[], generated: [] as number[], createPersistent: [] as number[], createGenerated: [] as number[] };
  const fps = { persistent: new Set<string>(), generated: new Set<string>() };
  for (let i = 0; i < n; i++) {
    const modes: ('generated' | 'persistent')[] = i % 2 === 0 ? ['generated', 'persistent'] : ['persistent', 'generated'];
    for (const mode of modes) {
      const r = await pair(mode === 'persistent' ? persistent : generated);
      res[mode].push(r.ms);
      res[mode === 'persistent' ? 'createPersistent' : 'createGenerated'].push(r.createMs);
      fps[mode].add(r.fingerprint);
      keep.push(r);
    }
  }
  await new Promise((r) => setTimeout(r, 500));
  nodeDataChannel.cleanup();
  rmSync(dir, { recursive: true, force: true });
  const s = (xs: number[]) => ({ p50: round(percentile(xs, 50)), p90: round(percentile(xs, 90)), max: round(Math.max(...xs)) });
  return {
    pairs: n,
    connectMs: { persistent: s(res.persistent), generated: s(res.generated) },
    createPeerConnectionMs: { persistent: s(res.createPersistent), generated: s(res.createGenerated) },
    distinctFingerprints: { persistent: fps.persistent.size, generated: fps.generated.size },
  };
}
