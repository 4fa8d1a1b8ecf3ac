/**
 * signal-router — what an app does with each message the device sends on its `down`
 * topic (docs/PROTOCOL.md §2, §2.3), transport-neutral and browser-safe, shared by the
 * Node `AppClient` and the browser client: it keeps the `requestId`s of this app's own
 * connections (its offers, the device's restart offers) and ignores candidates and byes
 * naming another one (the same peer id used elsewhere), ignores a device description
 * whose certificate is not the pinned one (counted, with the last reason), and turns the
 * rest into one action for the owner's peer connection.
 * Owns: the request ids, the pin refusals. Must never: touch a peer connection or a
 * transport (the owner does), or throw on anything the device (or anyone) sends.
 */
import { IvError, type IvErrorCode } from '../runtime/errors.js';
import { pinProblem } from '../shared/protocol/fingerprint-pin.js';
import type { DeviceSignal } from '../shared/protocol/signaling-messages.js';

export type SignalAction =
  /** The device's answer to this app's current offer. */
  | { kind: 'answer'; sdp: string }
  /** The device's ICE-restart offer (§3.1): answer it with a new connection. */
  | { kind: 'restart'; requestId: string; sdp: string }
  | { kind: 'candidate'; candidate: string; mid: string }
  /** `own`: it names this app's current offer (a refusal of another request may still end a connect under way). */
  | { kind: 'refused'; code: IvErrorCode; reason: string; own: boolean }
  | { kind: 'bye'; reason: string };

/** `bytes` random bytes as hex (Web Crypto: Node ≥ 20 and browsers). */
export function randomHex(bytes: number): string {
  return Array.from(globalThis.crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
}

export class SignalRouter {
  /** The requestIds of this app's connections (its offers, the device's restart offers). */
  private readonly requestIds = new Set<string>();
  /** Descriptions ignored because their certificate is not the pinned one, and the last reason. */
  pinRefusals = 0;
  pinRefusal: string | undefined;
  /** The device answered an offer of this app (so a connect that times out got that far). */
  answered = false;

  constructor(private readonly fingerprint: string | undefined) {}

  /** A fresh `requestId` for an offer of this app (§2: 8..128 characters). */
  newOffer(): string {
    const id = `r-${randomHex(8)}`;
    this.requestIds.add(id);
    return id;
  }

  /** What to do with one device message while `offerId` is this app's current offer; undefined: nothing (not ours). */
  route(msg: DeviceSignal, offerId: string): SignalAction | undefined {
    if ((msg.type === 'candidate' || msg.type === 'bye') && msg.requestId !== undefined && !this.requestIds.has(msg.requestId)) {
      return undefined;
    }
    if (msg.type === 'answer' || msg.type === 'offer') {
      const problem = pinProblem(msg.sdp, this.fingerprint);
      if (problem) {
        this.pinRefusals++;
        this.pinRefusal = problem;
        return undefined; // not the device's: keep waiting for the genuine description
      }
    }
    switch (msg.type) {
      case 'answer':
        if (msg.requestId !== offerId) {
          return undefined;
        }
        this.answered = true;
        return { kind: 'answer', sdp: msg.sdp };
      case 'offer':
        if (!msg.iceRestart) {
          return undefined;
        }
        this.requestIds.add(msg.requestId);
        return { kind: 'restart', requestId: msg.requestId, sdp: msg.sdp };
      case 'candidate':
        return { kind: 'candidate', candidate: msg.candidate, mid: msg.mid };
      case 'refused':
        return { kind: 'refused', code: msg.code, reason: msg.reason, own: msg.requestId === offerId };
      case 'bye':
        return { kind: 'bye', reason: msg.reason };
    }
  }

  /**
   * The error of a connect that did not complete within `timeoutMs`, saying how far it got:
   * answers ignored for their certificate, no answer at all (the device is offline), or an
   * answer but no peer connection (no network path).
   */
  timeoutError(deviceId: string, timeoutMs: number): IvError {
    if (this.pinRefusal) {
      return new IvError('IV_ERR_AUTH_INVALID', `no answer from ${deviceId} within ${timeoutMs} ms with the pinned certificate; ignored: ${this.pinRefusal}`);
    }
    return this.answered
      ? new IvError('IV_ERR_TIMEOUT', `no connection to ${deviceId} within ${timeoutMs} ms: it answered, but ICE/DTLS did not complete (no network path between this app and the device's candidates)`)
      : new IvError('IV_ERR_TIMEOUT', `no answer from ${deviceId} within ${timeoutMs} ms: the device is offline (not connected to this broker)`);
  }
}
