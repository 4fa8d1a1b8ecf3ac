/**
 * fanout-raw-server — the `fanout` benchmark's ceiling: node-datachannel on one thread
 * with the least work that still speaks docs/PROTOCOL.md to `ivgw load` (same
 * signaling and tokens, `control` with open/ping/close, one `s<N>` channel per stream,
 * `stream_time`): one H.264 file played in real time, muxed to FLV ONCE per frame and
 * the same bytes sent to every viewer each 10 ms tick. No actors, no rings, no
 * watermarks, no per-viewer muxing — what the gateway does on top costs the difference.
 *   node dist/bench/fanout-raw-server.js FILE.h264 DEVICE SECRET   (prints "signaling URL")
 * Must never: be used as a gateway (no checks beyond the token, no limits).
 */
import { readFileSync } from 'node:fs';
import nodeDataChannel from 'node-datachannel';
import type { DataChannel, PeerConnection } from 'node-datachannel';
import { decodeFromApp, encodeControl, type DeviceToApp } from '../shared/protocol/control.js';
import { startEmbeddedBroker } from '../actors/p2p/embedded-broker.js';
import { SignalingServer } from '../actors/p2p/signaling.js';
import { AccessUnitSplitter } from '../media/es-splitter.js';
import { FlvMuxer } from '../media/flv-muxer.js';
import { paramSetsOf } from '../media/param-sets.js';
import { splitAnnexB, toLengthPrefixed } from '../media/nal.js';
import { trimAllocator } from '../runtime/allocator.js';

const [file, device, secret] = process.argv.slice(2) as [string, string, string];
const FPS = 25;

const splitter = new AccessUnitSplitter('h264');
// the FLV muxer takes length-prefixed NAL units (what the gateway's ring holds)
const frames = [...splitter.push(readFileSync(file)).frames, ...splitter.end().frames].map((au) => toLengthPrefixed(splitAnnexB(au)));
const keyframe = frames.map((f) => paramSetsOf(f, 'h264') !== undefined);

interface Viewer {
  dc: DataChannel;
  started: boolean;
}

interface Peer {
  pc: PeerConnection;
  control: DataChannel | undefined;
  viewers: Set<Viewer>;
  nextStream: number;
}

const peers = new Map<string, Peer>();
const mux = new FlvMuxer({ video: { codec: 'h264' } });
const header = mux.header().slice();
let configTag: Uint8Array | undefined;

nodeDataChannel.setSctpSettings({ sendBufferSize: 262_144, recvBufferSize: 262_144 });
const broker = await startEmbeddedBroker({ port: 0 });

function send(peer: Peer, msg: DeviceToApp): void {
  if (peer.control?.isOpen()) {
    peer.control.sendMessageBinary(encodeControl(msg));
  }
}

function drop(id: string): void {
  const p = peers.get(id);
  if (p) {
    peers.delete(id);
    p.pc.close();
  }
}

const signaling = new SignalingServer({
  url: broker.url,
  deviceId: device,
  secret,
  handler: {
    offer(id, msg) {
      drop(id);
      const pc = new nodeDataChannel.PeerConnection(id, { iceServers: [], bindAddress: '127.0.0.1', maxMessageSize: 262_144 });
      const peer: Peer = { pc, control: undefined, viewers: new Set(), nextStream: 1 };
      peers.set(id, peer);
      pc.onLocalDescription((sdp, type) => {
        if (type.toLowerCase() === 'answer') {
          signaling.sendAnswer(id, msg.requestId, sdp);
        }
      });
      pc.onLocalCandidate((candidate, mid) => {
        if (candidate.includes(' 127.0.0.1 ')) {
          signaling.sendCandidate(id, msg.requestId, candidate, mid);
        }
      });
      pc.onStateChange((s) => {
        if (s === 'closed' || s === 'failed' || s === 'disconnected') {
          drop(id);
        }
      });
      pc.onDataChannel((dc) => {
        if (dc.getLabel() !== 'control') {
          return;
        }
        peer.control = dc;
        dc.onMessage((m) => {
          const d = decodeFromApp(typeof m === 'string' ? Buffer.from(m) : (m as Buffer));
          if (!d.ok) {
            if (d.id !== undefined) {
              send(peer, { op: 'error', id: d.id, code: d.code, message: d.message });
            }
            return;
          }
          const r = d.msg;
          if (r.op === 'open') {
            const stream = peer.nextStream++;
            const sdc = pc.createDataChannel(`s${stream}`, {});
            const viewer: Viewer = { dc: sdc, started: false };
            peer.viewers.add(viewer);
            sdc.onClosed(() => peer.viewers.delete(viewer));
            send(peer, { op: 'ok', id: r.id, stream, label: `s${stream}` });
            send(peer, { op: 'event', event: 'stream_time', stream, originMs: (mux.origin ?? Date.now() * 1000) / 1000 });
          } else if (r.op === 'ping') {
            send(peer, { op: 'pong', id: r.id, t: r.t, deviceTime: Date.now() });
          } else if (r.op === 'close') {
            send(peer, { op: 'ok', id: r.id });
          } else if (r.op !== 'ack') {
            send(peer, { op: 'error', id: r.id, code: 'IV_ERR_NOT_SUPPORTED', message: `the raw server does not do ${r.op}` });
          }
        });
      });
      pc.setRemoteDescription(msg.sdp, 'offer');
    },
    candidate(id, candidate, mid) {
      const p = peers.get(id);
      if (p && / 127\.\d+\.\d+\.\d+ /.test(candidate)) {
        try {
          p.pc.addRemoteCandidate(candidate, mid);
        } catch {
          // ignore
        }
      }
    },
    answer() {},
    bye(id) {
      drop(id);
    },
  },
});
await signaling.whenReady();

const t0 = performance.now();
let next = 0;
setInterval(() => {
  const due = Math.floor(((performance.now() - t0) * FPS) / 1000);
  const parts: Uint8Array[] = [];
  let startsGop = false;
  for (; next <= due; next++) {
    const i = next % frames.length;
    const data = frames[i] as Uint8Array;
    const key = keyframe[i] === true;
    const pts = Date.now() * 1000;
    const tags = mux.video({ data, pts, dts: pts, keyframe: key, paramSets: key ? paramSetsOf(data, 'h264') : undefined });
    for (const t of tags) {
      if (t.length > 0 && ((t[0] as number) & 0x1f) === 9 && t[11] === 0x17 && t[12] === 0) {
        configTag = t.slice(); // AVC sequence header
      } else {
        if (parts.length === 0 && key) {
          startsGop = true;
        }
        parts.push(t.slice());
      }
    }
  }
  if (parts.length === 0) {
    return;
  }
  const batch = Buffer.concat(parts);
  for (const p of peers.values()) {
    for (const v of p.viewers) {
      if (!v.dc.isOpen()) {
        continue;
      }
      try {
        if (!v.started) {
          if (!startsGop || !configTag) {
            continue; // a new viewer starts at the next keyframe
          }
          v.started = true;
          v.dc.sendMessageBinary(Buffer.concat([header, configTag, batch]));
        } else {
          v.dc.sendMessageBinary(batch);
        }
      } catch {
        p.viewers.delete(v); // the channel is going away (SCTP refused the send)
      }
    }
  }
}, 10);

process.stdout.write(`raw fan-out server: signaling ${broker.url}\n`);
// what `ivgw run` logs on SIGUSR2: the V8 heap, after a full GC under --expose-gc
process.on('SIGUSR2', () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const m = process.memoryUsage();
  const main = { collected: typeof gc === 'function', heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers };
  const rssBeforeTrimKB = Math.round(process.memoryUsage.rss() / 1024);
  process.stdout.write(`${JSON.stringify({ msg: 'memory settled', heaps: { main }, rssBeforeTrimKB, trimmed: trimAllocator() ?? null })}\n`);
});
process.on('SIGTERM', () => {
  for (const id of [...peers.keys()]) {
    drop(id);
  }
  setTimeout(() => process.exit(0), 300);
});
