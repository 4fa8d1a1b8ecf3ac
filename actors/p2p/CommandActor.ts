/**
 * CommandActor — runs the user's onCommand (iv_avt p2p_handle_command_cb) for app
 * commands, one at a time (every app's: a slow onCommand delays the others up to its
 * deadline), with a deadline, on the io worker so that a slow user callback never holds
 * the p2p worker. The callback itself lives on the main thread
 * (registered in the system's callback registry under the name the request gives,
 * `onCommand:<deviceId>`, so several devices can share the actor).
 * Receives COMMAND_RUN; answers { data } (empty data = the SDK's "close the channel").
 */
import { defineActor } from '../../runtime/actor.js';
import { COMMAND_METHODS } from './peer-methods.js';
import { IvError } from '../../runtime/errors.js';

export function toBytes(v: unknown): Uint8Array {
  if (v === null || v === undefined) {
    return new Uint8Array(0);
  }
  if (v instanceof Uint8Array) {
    return v;
  }
  if (typeof v === 'string') {
    return new TextEncoder().encode(v);
  }
  throw new IvError('IV_ERR_INVALID_PARAM', `onCommand must return bytes, a string or null, got ${typeof v}`, { field: 'onCommand' });
}

export default defineActor({
  name: 'command',
  methods: COMMAND_METHODS,
  init: () => ({}),
  handlers: {
    COMMAND_RUN: async (_s, body, ctx) => {
      const reply = await ctx.callback(body.callback, [body.data, body.data.byteLength, body.peer], body.deadlineMs);
      return { data: toBytes(reply) };
    },
  },
});
