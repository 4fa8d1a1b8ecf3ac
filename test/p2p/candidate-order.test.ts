/**
 * What the Node app client sends when it connects (PROTOCOL.md §3), with real
 * node-datachannel on both ends: the offer goes out as created (`a=setup:actpass`), no
 * ICE candidate goes out before the device's answer is set, the ones gathered before
 * it go out then (naming the offer's requestId), and the connection forms with the
 * answering side as the DTLS client (`a=setup:active` in its answer).
 */
import test from 'ava';
import type { DataChannel, PeerConnection } from 'node-datachannel';
import { AppConnection, loadRtc } from '../../client/app-connection.js';
import type { AppSignal } from '../../shared/protocol/signaling-messages.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('the app sends its offer as created and its candidates only once the answer is set', async (t) => {
  const ndc = await loadRtc();
  const sent: AppSignal[] = [];
  const app = new AppConnection({ peerId: 'order', token: 'unused', bindAddress: '127.0.0.1' }, { publish: (m) => sent.push(m), onChannel: () => {}, lost: () => {} });
  const device: PeerConnection = new ndc.PeerConnection('device', { iceServers: [], bindAddress: '127.0.0.1' });
  t.teardown(() => {
    app.close();
    device.close();
  });
  const control = app.offer('r-order', ndc);
  await sleep(500); // the app's host candidates are gathered by now
  t.deepEqual(sent.map((m) => m.type), ['offer'], 'only the offer went out before the answer');
  const offer = sent[0] as Extract<AppSignal, { type: 'offer' }>;
  t.regex(offer.sdp, /a=setup:actpass/);
  t.notRegex(offer.sdp, /a=setup:active/);

  const answer = new Promise<string>((resolve) => device.onLocalDescription((sdp, type) => type.toLowerCase() === 'answer' && resolve(sdp)));
  const opened = new Promise<DataChannel>((resolve) => device.onDataChannel(resolve));
  device.onLocalCandidate((candidate, mid) => app.remoteCandidate({ candidate, mid }));
  device.setRemoteDescription(offer.sdp, 'offer');
  const answerSdp = await answer;
  t.regex(answerSdp, /a=setup:active/, 'the answering side is the DTLS client');
  app.takeAnswer(answerSdp);

  const candidates = sent.filter((m) => m.type === 'candidate');
  t.true(candidates.length > 0, 'the held candidates went out with the answer set');
  for (const c of candidates) {
    t.is(c.requestId, 'r-order');
    device.addRemoteCandidate(c.candidate, c.mid);
  }
  const dc = await Promise.race([opened, sleep(10_000).then(() => undefined)]);
  t.is(dc?.getLabel(), 'control', 'the connection formed');
  t.truthy(control);
});
