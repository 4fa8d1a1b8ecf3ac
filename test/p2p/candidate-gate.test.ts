/**
 * The candidate rule both ends follow (shared/candidate-gate.ts): candidates reported
 * before their SDP go out right after it, in order; remote ones that come before the
 * remote SDP are added once it is set; a malformed one is skipped, not thrown.
 */
import test from 'ava';
import { CandidateGate, type Candidate } from '../../shared/protocol/candidate-gate.js';

function fakePc() {
  const added: string[] = [];
  return {
    remote: null as unknown,
    added,
    remoteDescription() {
      return this.remote;
    },
    addRemoteCandidate(candidate: string) {
      if (candidate === 'garbage') {
        throw new Error('cannot parse');
      }
      added.push(candidate);
    },
  };
}

const c = (n: number): Candidate => ({ candidate: `candidate:${n}`, mid: '0' });

test('local candidates wait for their description, then go out in order; later ones at once', (t) => {
  const sent: string[] = [];
  const gate = new CandidateGate(fakePc(), (x) => sent.push(x.candidate));
  gate.local(c(1));
  gate.local(c(2));
  t.deepEqual(sent, [], 'nothing before the SDP');
  gate.described();
  t.deepEqual(sent, ['candidate:1', 'candidate:2']);
  gate.local(c(3));
  t.deepEqual(sent, ['candidate:1', 'candidate:2', 'candidate:3']);
});

test('remote candidates before the remote description are added once it is set; a malformed one is skipped', (t) => {
  const pc = fakePc();
  const gate = new CandidateGate(pc, () => undefined);
  gate.remote(c(1));
  gate.remote({ candidate: 'garbage', mid: '0' });
  t.deepEqual(pc.added, []);
  pc.remote = { sdp: 'v=0' };
  t.notThrows(() => gate.remoteDescribed());
  t.deepEqual(pc.added, ['candidate:1']);
  gate.remote(c(2));
  t.deepEqual(pc.added, ['candidate:1', 'candidate:2']);
});
