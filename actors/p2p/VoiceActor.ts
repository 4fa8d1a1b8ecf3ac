/**
 * VoiceActor — delivers apps' intercom audio to the user's onRecvInit / onRecvVoice
 * (iv_avt p2p_handle_recv_init_cb / recv_voice_cb), strictly in order per app, ending
 * every session with onRecvVoice(handle, null, 0) as the SDK says. Callbacks live on the
 * main thread (`onRecvInit:<device>`, `onRecvVoice:<device>` in the callback registry);
 * handles stay there and are referred to by number here.
 */
import { defineActor } from '../../runtime/actor.js';
import { VOICE_METHODS } from './peer-methods.js';
import { IvError } from '../../runtime/errors.js';

interface VoiceState {
  handles: Map<string, unknown>;
}

const DEADLINE_MS = 2_000;

export default defineActor({
  name: 'voice',
  methods: VOICE_METHODS,
  init: (): VoiceState => ({ handles: new Map() }),
  handlers: {
    VOICE_START: async (state, body, ctx) => {
      const key = `${body.callback}\u0000${body.peer}`;
      if (state.handles.has(key)) {
        throw new IvError('IV_ERR_BUSY', `voice from ${body.peer} is already on`, { field: 'peer' });
      }
      const handle = await ctx.callback(`onRecvInit:${body.callback}`, [body.params, body.peer], DEADLINE_MS);
      state.handles.set(key, handle);
      return {};
    },
    VOICE_FRAME: async (state, body, ctx) => {
      const key = `${body.callback}\u0000${body.peer}`;
      if (!state.handles.has(key)) {
        throw new IvError('IV_ERR_INVALID_PARAM', `no voice session for ${body.peer}`, { field: 'peer' });
      }
      await ctx.callback(`onRecvVoice:${body.callback}`, [state.handles.get(key), body.data, body.data.byteLength], DEADLINE_MS);
      return {};
    },
    VOICE_END: async (state, body, ctx) => {
      const key = `${body.callback}\u0000${body.peer}`;
      if (!state.handles.has(key)) {
        return {};
      }
      const handle = state.handles.get(key);
      state.handles.delete(key);
      await ctx.callback(`onRecvVoice:${body.callback}`, [handle, null, 0], DEADLINE_MS);
      return {};
    },
  },
});
