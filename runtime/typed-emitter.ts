/**
 * typed-emitter — a small event emitter with a typed event map and a safe emit.
 *
 * Owns: listener lists per event, and the one channel for listener errors: a listener
 * that throws, or a user callback its owner runs through `guard()`, is reported as the
 * `listenererror` event `(where, error)` (like mediasoup's), or, when nobody listens for
 * that, as a process warning; it never stops the other listeners or the emitter's owner.
 * Must never: let a user's listener exception unwind into runtime code.
 */

export type EventMap = Record<string, unknown[]>;

type Listener<A extends unknown[]> = (...args: A) => void;

/** The events every TypedEmitter has besides its own. */
export interface ListenerErrorEvents {
  /** A listener of `event` threw `error`. */
  listenererror: [event: string, error: unknown];
}

type All<E> = E & ListenerErrorEvents;

export class TypedEmitter<E extends EventMap> {
  private readonly listeners = new Map<PropertyKey, Listener<never[]>[]>();

  on<K extends keyof All<E>>(event: K, listener: Listener<All<E>[K] & unknown[]>): () => void {
    const list = this.listeners.get(event) ?? [];
    list.push(listener as unknown as Listener<never[]>);
    this.listeners.set(event, list);
    return () => this.off(event, listener);
  }

  once<K extends keyof All<E>>(event: K, listener: Listener<All<E>[K] & unknown[]>): () => void {
    const off = this.on(event, ((...args: All<E>[K] & unknown[]) => {
      off();
      listener(...args);
    }));
    return off;
  }

  off<K extends keyof All<E>>(event: K, listener: Listener<All<E>[K] & unknown[]>): void {
    const list = this.listeners.get(event);
    if (!list) {
      return;
    }
    const i = list.indexOf(listener as unknown as Listener<never[]>);
    if (i >= 0) {
      list.splice(i, 1);
    }
  }

  listenerCount<K extends keyof All<E>>(event: K): number {
    return this.listeners.get(event)?.length ?? 0;
  }

  protected emit<K extends keyof E>(event: K, ...args: E[K]): void {
    const list = this.listeners.get(event);
    if (!list || list.length === 0) {
      return;
    }
    for (const listener of [...list]) {
      try {
        (listener as unknown as Listener<E[K]>)(...args);
      } catch (err) {
        this.reportListenerError(String(event), err);
      }
    }
  }

  /** Run a user callback: a throw is reported on `listenererror` under `name`, and undefined returned. */
  protected guard<T>(name: string, fn: () => T): T | undefined {
    try {
      return fn();
    } catch (err) {
      this.reportListenerError(name, err);
      return undefined;
    }
  }

  /** Report a throwing listener (or user callback) on the `listenererror` channel. */
  protected reportListenerError(event: string, err: unknown): void {
    const list = this.listeners.get('listenererror');
    if (list && list.length > 0 && event !== 'listenererror') {
      for (const listener of [...list]) {
        try {
          (listener as unknown as Listener<ListenerErrorEvents['listenererror']>)(event, err);
        } catch {
          // the error reporter itself failed; nothing safer left to do
        }
      }
      return;
    }
    process.emitWarning(`listener for "${event}" threw: ${err instanceof Error ? err.stack ?? err.message : String(err)}`, 'IvListenerError');
  }
}
