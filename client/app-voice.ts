/**
 * app-voice — the app's intercom (docs/PROTOCOL.md §4): the `voice` channel it opens,
 * `voice_start` / `voice_stop` on the control channel, frames in order with an empty
 * message as the end marker; across the device's ICE restart the channel is opened again
 * and frames sent meanwhile are dropped and counted.
 * Owns: the voice channel of the current connection. Must never: send an empty frame
 * (it would end the session), or keep a channel of a replaced connection.
 */
import type { DataChannel } from 'node-datachannel';
import { IvError } from '../runtime/errors.js';
import { VOICE_LABEL } from '../shared/protocol/transport-rules.js';
import type { AppConnection } from './app-connection.js';
import type { RequestBody } from './control-channel.js';
import { sendBinary } from '../shared/protocol/channel-send.js';

export class AppVoice {
  private dc: DataChannel | undefined;
  /** Frames dropped because a restart was under way. */
  dropped = 0;

  constructor(private readonly connection: AppConnection, private readonly request: (msg: RequestBody) => Promise<unknown>) {}

  async start(params: string): Promise<void> {
    if (!this.dc) {
      await this.openChannel();
    }
    await this.request({ op: 'voice_start', params });
  }

  /** Open the `voice` channel on the current connection (again, after a restart). */
  async openChannel(): Promise<void> {
    const pc = this.connection.pc;
    const dc = this.connection.createChannel(VOICE_LABEL);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new IvError('IV_ERR_TIMEOUT', 'voice channel did not open')), 5_000);
      dc.onOpen(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    if (pc === this.connection.pc) {
      this.dc = dc;
    }
  }

  send(frame: Uint8Array): void {
    if (this.dc && frame.byteLength > 0) {
      sendBinary(this.dc, frame); // a channel closing under it: the frame is lost with the connection
    } else if (this.connection.restarting?.wantVoice && frame.byteLength > 0) {
      this.dropped++;
    } else {
      throw new IvError('IV_ERR_INVALID_PARAM', this.dc ? 'a voice frame cannot be empty (empty marks the end)' : 'call startVoice() first', { field: 'frame' });
    }
  }

  async stop(): Promise<void> {
    if (this.dc) {
      sendBinary(this.dc, new Uint8Array(0));
    }
    await this.request({ op: 'voice_stop' });
  }

  /** The connection is being replaced: the channel is gone; returns whether voice was open. */
  channelReplaced(): boolean {
    const open = this.dc !== undefined;
    this.dc = undefined;
    return open;
  }
}
