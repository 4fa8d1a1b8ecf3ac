/**
 * browser-voice — a browser app's intercom (docs/PROTOCOL.md §3, §4): the `voice`
 * RTCDataChannel it opens on the current peer connection, `voice_start` / `voice_stop` on
 * the control channel, frames in order with an empty message as the end marker (sent
 * before `voice_stop`). Across the device's ICE restart the channel is opened again on
 * the new connection; frames sent meanwhile are dropped and counted.
 * Owns: the voice channel of the current connection. Must never: send an empty frame
 * (it would end the session), or keep a channel of a replaced connection.
 */
import { IvError } from '../../runtime/errors.js';
import { VOICE_LABEL } from '../../shared/protocol/transport-rules.js';
import type { RequestBody } from '../control-channel.js';

export class BrowserVoice {
  private dc: RTCDataChannel | undefined;
  /** A session is on (voice_start answered, no stop yet). */
  active = false;
  /** Frames sent in this session, and dropped because a restart was under way. */
  sent = 0;
  dropped = 0;
  private reopening = false;

  constructor(private readonly pc: () => RTCPeerConnection, private readonly request: (msg: RequestBody) => Promise<unknown>) {}

  /** Open the channel if there is none, then `voice_start` with the device's format in `params`. */
  async start(params: string): Promise<void> {
    if (!this.dc) {
      await this.openChannel();
    }
    await this.request({ op: 'voice_start', params });
    this.active = true;
    this.sent = 0;
    this.dropped = 0;
  }

  /** Open the `voice` channel on the current connection (again, after a restart). */
  async openChannel(): Promise<void> {
    const pc = this.pc();
    const dc = pc.createDataChannel(VOICE_LABEL);
    dc.binaryType = 'arraybuffer';
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new IvError('IV_ERR_TIMEOUT', 'the voice channel did not open')), 5_000);
      dc.addEventListener('open', () => {
        clearTimeout(t);
        resolve();
      });
    });
    if (pc === this.pc()) {
      this.dc = dc;
    } else {
      dc.close();
    }
  }

  /** One encoded audio frame (never empty). */
  send(frame: Uint8Array): void {
    if (frame.byteLength === 0) {
      throw new IvError('IV_ERR_INVALID_PARAM', 'a voice frame cannot be empty (empty marks the end)', { field: 'frame' });
    }
    if (this.dc?.readyState === 'open') {
      this.dc.send(frame as Uint8Array<ArrayBuffer>);
      this.sent++;
    } else if (this.active) {
      this.dropped++;
    } else {
      throw new IvError('IV_ERR_INVALID_PARAM', 'start the intercom first', { field: 'frame' });
    }
  }

  /** The end marker, then `voice_stop`. */
  async stop(): Promise<void> {
    if (!this.active) {
      return;
    }
    this.active = false;
    if (this.dc?.readyState === 'open') {
      this.dc.send(new Uint8Array(0));
    }
    await this.request({ op: 'voice_stop' });
  }

  /** The connection is being replaced: its channel is gone. */
  channelReplaced(): void {
    this.dc = undefined;
  }

  /** A restart finished: a session that was on gets its channel back. */
  restarted(): void {
    if (this.active && !this.reopening) {
      this.reopening = true;
      void this.openChannel().catch(() => undefined).finally(() => (this.reopening = false));
    }
  }

  close(): void {
    this.active = false;
    this.dc = undefined;
  }
}
