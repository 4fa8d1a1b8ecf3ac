/**
 * app-requests — what the p2p service hands from an app's peer actor to the device's own
 * callbacks: a command to the command actor (the SDK's onCommand, with its deadline) and
 * the reply or a typed error back to the app; voice (start, frames, end) to the voice
 * actor in the order each app sent it.
 *
 * Commands of every app go through the one command actor one at a time, so a slow
 * onCommand delays the others up to its deadline (2 s); a failing one costs only its own
 * request. Owns: each app's voice order. Must never: let one app's failing callback
 * fail another's request, or answer a command without a reply or an error code.
 */
import type { ActorRef } from '../../runtime/actor-ref.js';
import type { ActorSystem } from '../../runtime/actor-system.js';
import { isIvError } from '../../runtime/errors.js';
import { COMMAND_ACTOR, VOICE_ACTOR } from './index.js';
import type { PeerMethods } from './peer-methods.js';

export interface AppRequestsOptions {
  system: ActorSystem;
  deviceId: string;
  /** Actor ids of the command and voice actors; without them commands are refused and voice is dropped. */
  commandActor?: string;
  voiceActor?: string;
  /** How long onCommand may take (default 2000 ms). */
  commandDeadlineMs?: number;
}

export type VoiceEvent = { type: 'start' | 'frame' | 'end'; params?: string; data?: Uint8Array };

export class AppRequests {
  private readonly voiceOrder = new Map<string, Promise<void>>();

  constructor(private readonly opts: AppRequestsOptions) {}

  /** Run an app's command through onCommand and answer it on the app's actor. */
  async command(peer: string, ref: ActorRef<PeerMethods>, id: number, data: Uint8Array): Promise<void> {
    if (!this.opts.commandActor) {
      ref.notify('P2P_PEER_REPLY', { id, code: 'IV_ERR_NOT_SUPPORTED', message: 'this device takes no commands (no onCommand)' });
      return;
    }
    const deadlineMs = this.opts.commandDeadlineMs ?? 2_000;
    try {
      const r = await this.opts.system.ref(this.opts.commandActor, COMMAND_ACTOR).call('COMMAND_RUN', { callback: `onCommand:${this.opts.deviceId}`, peer, data, deadlineMs }, { timeoutMs: deadlineMs + 500 });
      ref.notify('P2P_PEER_REPLY', { id, data: r.data });
    } catch (err) {
      const code = isIvError(err) ? (err.code === 'IV_ERR_REQUEST_TIMEOUT' ? 'IV_ERR_TIMEOUT' : err.code) : 'IV_ERR_INTERNAL';
      ref.notify('P2P_PEER_REPLY', { id, code, message: `onCommand failed: ${(err as Error).message}` });
    }
  }

  /** Voice of one app reaches the voice actor in the order it arrived. */
  voice(peer: string, ev: VoiceEvent): void {
    const actor = this.opts.voiceActor;
    if (!actor) {
      return;
    }
    const ref = this.opts.system.ref(actor, VOICE_ACTOR);
    const next = (this.voiceOrder.get(peer) ?? Promise.resolve()).then(async () => {
      const callback = this.opts.deviceId;
      if (ev.type === 'start') {
        await ref.call('VOICE_START', { callback, peer, params: ev.params ?? '' });
      } else if (ev.type === 'frame' && ev.data) {
        await ref.call('VOICE_FRAME', { callback, peer, data: ev.data });
      } else if (ev.type === 'end') {
        await ref.call('VOICE_END', { callback, peer });
      }
    }).catch(() => undefined);
    this.voiceOrder.set(peer, next);
  }

  /** The app left: a voice call it had open ends (after what it sent before). */
  left(peer: string): void {
    if (this.voiceOrder.has(peer)) {
      this.voice(peer, { type: 'end' });
      this.voiceOrder.delete(peer);
    }
  }
}
