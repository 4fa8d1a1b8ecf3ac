/**
 * candidate-gate — the rule both ends of docs/PROTOCOL.md §3 follow for one peer
 * connection's ICE candidates: a local candidate goes out only after the description it
 * belongs to (node-datachannel often reports candidates before their SDP, and a
 * candidate that reaches the other side first is dropped there; an app's offer releases
 * them later still, once the device's answer is set), and a remote candidate that
 * arrives before the remote description waits for it.
 * Used by the device (actors/p2p) and the app client, one gate per PeerConnection;
 * browser-safe.
 * Owns: the two queues (at most 64 early remote candidates). Must never: throw on a
 * malformed remote candidate (ICE goes on with the others).
 */
export interface Candidate {
  candidate: string;
  mid: string;
}

/** What the gate needs of a PeerConnection (node-datachannel's fits). */
interface RemoteSide {
  remoteDescription(): unknown;
  addRemoteCandidate(candidate: string, mid: string): void;
}

const MAX_EARLY = 64;

export class CandidateGate {
  private held: Candidate[] | undefined = [];
  private readonly early: Candidate[] = [];

  constructor(private readonly pc: RemoteSide, private readonly sendLocal: (c: Candidate) => void) {}

  /** A local candidate: sent now if its description went out, held otherwise. */
  local(c: Candidate): void {
    if (this.held) {
      this.held.push(c);
    } else {
      this.sendLocal(c);
    }
  }

  /** Release what was held (the caller says when: after its answer went out, or its offer's answer was set); later ones go straight out. */
  described(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const c of held) {
      this.sendLocal(c);
    }
  }

  /** A remote candidate: added now, or kept until the remote description is set. */
  remote(c: Candidate): void {
    if (this.pc.remoteDescription() === null) {
      if (this.early.length < MAX_EARLY) {
        this.early.push(c);
      }
      return;
    }
    try {
      this.pc.addRemoteCandidate(c.candidate, c.mid);
    } catch {
      // a malformed candidate: ICE goes on with the others
    }
  }

  /** The remote description was set: add the candidates that came before it. */
  remoteDescribed(): void {
    for (const c of this.early.splice(0)) {
      this.remote(c);
    }
  }
}
