/**
 * ice-restart — how long the device's ICE restart takes an app: `ivgw run` on loopback,
 * one AppClient watching channel 0 live, and the gateway's keep-alive pointed at a STUN
 * server of this bench that answers with a new mapped address every FLIP_MS (fault
 * injection: what a NAT rebinding looks like to the device). Each change is a
 * PEER_ADDR_CHANGED: the device offers the app a new connection. Per restart, the app's
 * offer received → new control channel open (`AppClient.restarts`), and whether the
 * stream went on. 20 restarts (6 with --quick).
 * `IVGW_RESTART_BASELINE=/other/checkout/bin/ivgw.js` runs the same against that build's
 * gateway in the same run (the app side is this build's either way). What it showed of
 * the restart offer's DTLS role and candidate timing is in docs/PROTOCOL.md §3.1.
 */
import { createSocket, type Socket } from 'node:dgram';
import { AppClient } from '../client/app-client.js';
import { decodeStun, encodeBindingSuccess, BINDING_REQUEST } from '../actors/p2p/stun.js';
import { IVGW, startGateway } from '../test/helpers/gateway.js';
import type { BenchOptions } from './run.js';
import { percentile, round } from './stats.js';

const FLIP_MS = 4_000;

/** A STUN server whose mapped address (a TEST-NET-1 address nobody can reach) changes every FLIP_MS. */
async function flippingStun(): Promise<{ url: string; socket: Socket; close(): void }> {
  const socket = createSocket('udp4');
  const started = performance.now();
  socket.on('message', (msg, from) => {
    const m = decodeStun(msg);
    if (m.ok && m.type === BINDING_REQUEST) {
      const epoch = Math.floor((performance.now() - started) / FLIP_MS);
      socket.send(encodeBindingSuccess(m.transactionId, { family: 'IPv4', address: `192.0.2.${1 + (epoch % 250)}`, port: from.port }), from.port, from.address);
    }
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  return { url: `stun:127.0.0.1:${socket.address().port}`, socket, close: () => socket.close() };
}

async function measure(restarts: number, ivgw: string): Promise<Record<string, unknown>> {
  const stun = await flippingStun();
  const gw = await startGateway(['--stun', stun.url, '--keepalive', '1,3'], `restart-${process.pid}`, [], ivgw);
  const peer = 'mover';
  const c = await AppClient.connect({ url: gw.url, deviceId: gw.deviceId, peerId: peer, token: gw.token(peer) });
  try {
    const stream = await c.open('action=live&channel=0');
    let frames = 0;
    let keyframesAfter = 0;
    let seen = 0;
    stream.onTag = (tag) => {
      frames++;
      if (tag.kind === 'video' && tag.keyframe && c.restarts.length > seen) {
        seen = c.restarts.length;
        keyframesAfter++; // the stream went on after this restart
      }
    };
    const deadline = Date.now() + (restarts + 3) * FLIP_MS + 10_000;
    while (c.restarts.length < restarts && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
    }
    await new Promise((r) => setTimeout(r, 1_500)); // the last restart's stream
    const ms = c.restarts.map((x) => x.ms);
    if (ms.length === 0) {
      throw new Error(`no ICE restart within ${deadline} ms: ${gw.log.slice(-20).join('\n')}`);
    }
    const p = (q: number): number => round(percentile(ms, q), 1);
    return {
      restarts: ms.length,
      offers: c.restartOffers,
      p50Ms: p(50), p99Ms: p(99), maxMs: round(Math.max(...ms), 1),
      over500Ms: ms.filter((x) => x > 500).length,
      streamWentOn: keyframesAfter,
      frames,
      ms: ms.map((x) => round(x, 0)),
    };
  } finally {
    c.close();
    await gw.stop();
    stun.close();
  }
}

export async function run(opts: BenchOptions): Promise<Record<string, unknown>> {
  const restarts = opts.quick ? 6 : 20;
  const now = await measure(restarts, IVGW);
  const other = process.env.IVGW_RESTART_BASELINE;
  const baseline = other ? { ivgw: other, ...(await measure(restarts, other)) } : undefined;
  return {
    flipMs: FLIP_MS,
    offerToControlOpenP50Ms: now.p50Ms,
    offerToControlOpenP99Ms: now.p99Ms,
    ...now,
    ...(baseline ? { baseline } : {}),
  };
}
