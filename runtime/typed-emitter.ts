/**
 * typed-emitter — a small event emitter with a typed event map and a safe emit.
 *
 * Owns: listener lists per event. A listener that throws is reported through
 * `onListenerError` (default: process 'warning') and never stops the other listeners
 * or the emitter's owner.
 * Must never: let a user's listener exception unwind into runtime code.
 */

export type EventMap = Record<string, unknown[]>;

type Listener<A extends unknown[]> = (...args: A) => void;

export class TypedEmitter<E extends EventMap> {
  private readonly listeners = new Map<keyof E, Listener<never[]>[]>();

  /** Where a throwing listener is reported; replace to route into your logger. */
  onListenerError: (event: string, err: unknown) => void = (event, err) => {
    process.emitWarning(`listener for "${event}" threw: ${err instanceof Error ? err.stack ?? err.message : String(err)}`, 'IvListenerError');
  };

  on<K extends keyof E>(event: K, listener: Listener<E[K]>): () => void {
    const list = this.listeners.get(event) ?? [];
    list.push(listener as unknown as Listener<never[]>);
    this.listeners.set(event, list);
    return () => this.off(event, listener);
  }

  once<K extends keyof E>(event: K, listener: Listener<E[K]>): () => void {
    const off = this.on(event, ((...args: E[K]) => {
      off();
      listener(...args);
    }) as Listener<E[K]>);
    return off;
  }

  off<K extends keyof E>(event: K, listener: Listener<E[K]>): void {
    const list = this.listeners.get(event);
    if (!list) {
      return;
    }
    const i = list.indexOf(listener as unknown as Listener<never[]>);
    if (i >= 0) {
      list.splice(i, 1);
    }
  }

  listenerCount<K extends keyof E>(event: K): number {
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
        try {
          this.onListenerError(String(event), err);
        } catch {
          // the error reporter itself failed; nothing safer left to do
        }
      }
    }
  }
}
