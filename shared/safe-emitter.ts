/**
 * safe-emitter — TypedEmitter (runtime/typed-emitter.ts) with the one channel for
 * listener errors every feature API uses, as mediasoup's `listenererror`: a listener
 * that throws, or a user callback run through `guard()`, is reported as
 * `listenererror` (where, error); with no listener for that, as a process warning.
 * Owns: that routing. Must never: let a listener's or a callback's throw reach the
 * emitter's owner, or loop when a `listenererror` listener throws itself.
 */
import { TypedEmitter, type EventMap } from '../runtime/typed-emitter.js';

export type ListenerErrorEvents = { listenererror: [where: string, error: unknown] };

export class SafeEmitter<E extends EventMap> extends TypedEmitter<E & ListenerErrorEvents> {
  constructor() {
    super();
    const warn = this.onListenerError;
    this.onListenerError = (where, err) => {
      if (where === 'listenererror' || this.listenerCount('listenererror') === 0) {
        warn(where, err);
      } else {
        (this as unknown as SafeEmitter<ListenerErrorEvents>).emit('listenererror', where, err);
      }
    };
  }

  /** Run a user callback: a throw is reported on `listenererror` under `name`, and undefined returned. */
  protected guard<T>(name: string, fn: () => T): T | undefined {
    try {
      return fn();
    } catch (err) {
      this.onListenerError(name, err);
      return undefined;
    }
  }
}
