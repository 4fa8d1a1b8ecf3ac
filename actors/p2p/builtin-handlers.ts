/**
 * builtin-handlers — what `ivgw run` answers when no user code is plugged in: the
 * onCommand / onRecvInit / onRecvVoice callbacks of the command and voice actors.
 *  - a command gets a JSON reply `{"ok":true,"device":…,"bytes":N,"deviceTime":ms,"echo":…}`
 *    (echo: the command itself when it is UTF-8 text of at most 256 bytes), so an
 *    app or a load tester can check round trips; the text `close` gets the empty reply
 *    that closes the app's channel (the SDK's note);
 *  - intercom audio is counted per app (frames, bytes, frames out of order are
 *    impossible: the voice actor delivers in order) and summarised when it ends.
 * Owns: the callbacks' registrations and the voice counters. Must never: block (every
 * callback returns at once) or keep audio (only counters).
 */
import type { ActorSystem } from '../../runtime/actor-system.js';

export interface VoiceSummary {
  peer: string;
  params: string;
  frames: number;
  bytes: number;
}

export interface BuiltinHandlers {
  /** Commands answered so far. */
  readonly commands: number;
  /** Intercom sessions that ended. */
  readonly voiceSessions: number;
  unregister(): void;
}

export function registerBuiltinHandlers(system: ActorSystem, deviceId: string, onVoiceEnd?: (s: VoiceSummary) => void, onCommand?: () => void): BuiltinHandlers {
  const sessions = new Map<number, VoiceSummary>();
  let nextSession = 1;
  const stats = { commands: 0, voiceSessions: 0 };
  const undo = [
    system.callbacks.register(`onCommand:${deviceId}`, ((data: Uint8Array, len: number) => {
      stats.commands++;
      onCommand?.();
      const text = new TextDecoder('utf-8', { fatal: false }).decode(data);
      if (text === 'close') {
        return null;
      }
      const echo = len <= 256 && !text.includes('\uFFFD') ? text : undefined;
      return JSON.stringify({ ok: true, device: deviceId, bytes: len, deviceTime: Date.now(), ...(echo !== undefined ? { echo } : {}) });
    })),
    system.callbacks.register(`onRecvInit:${deviceId}`, ((params: string, peer: string) => {
      const id = nextSession++;
      sessions.set(id, { peer, params, frames: 0, bytes: 0 });
      return id;
    })),
    system.callbacks.register(`onRecvVoice:${deviceId}`, ((id: number, data: Uint8Array | null, len: number) => {
      const s = sessions.get(id);
      if (!s) {
        return;
      }
      if (data === null) {
        sessions.delete(id);
        stats.voiceSessions++;
        onVoiceEnd?.(s);
        return;
      }
      s.frames++;
      s.bytes += len;
    })),
  ];
  return {
    get commands() {
      return stats.commands;
    },
    get voiceSessions() {
      return stats.voiceSessions;
    },
    unregister: () => undo.forEach((fn) => fn()),
  };
}
