/**
 * comlink-bridge — the two places where threads call functions instead of sending
 * schema messages: user callbacks that live on the main thread (called from actors),
 * and the runtime facade exposed to other threads.
 *
 * Owns: `CallbackRegistry` (main thread: named user callbacks, one comlink port per
 * worker), `connectCallbacks` (worker side: call by name with a deadline), and
 * `exposeFacade`/`wrapFacade`.
 * Must never: let a callback's exception cross as anything but an IvError-shaped
 * result, or leave a port open after its worker is gone.
 *
 * Callbacks answer `{ok: true, value}` or `{ok: false, error: WireError}` so that the
 * error code survives the crossing; comlink's own error transfer would lose it.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeAdapter from 'comlink/dist/umd/node-adapter.js';
import { IvError, fromWireError, toWireError, type WireError } from './errors.js';

type Endpoint = NonNullable<Parameters<typeof Comlink.expose>[1]>;
type CallbackResult = { ok: true; value: unknown } | { ok: false; error: WireError };
type UserCallback = (...args: never[]) => unknown;

const toEndpoint = (port: MessagePort): Endpoint => {
  const adapter = (typeof nodeAdapter === 'function' ? nodeAdapter : (nodeAdapter as { default: unknown }).default) as (p: unknown) => Endpoint;
  return adapter(port);
};

interface CallbackService {
  invoke(name: string, args: unknown[]): Promise<CallbackResult>;
}

/** Main thread: named user callbacks that actors may call. */
export class CallbackRegistry {
  private readonly fns = new Map<string, UserCallback>();
  private readonly ports = new Set<MessagePort>();

  register(name: string, fn: UserCallback): () => void {
    this.fns.set(name, fn);
    return () => {
      if (this.fns.get(name) === fn) {
        this.fns.delete(name);
      }
    };
  }

  has(name: string): boolean {
    return this.fns.has(name);
  }

  /** A fresh port for one worker; `close` when that worker is gone. */
  connect(): { port: MessagePort; close(): void } {
    const { port1, port2 } = new MessageChannel();
    const service: CallbackService = {
      invoke: async (name, args) => {
        const fn = this.fns.get(name);
        if (fn === undefined) {
          return { ok: false, error: new IvError('IV_ERR_INVALID_PARAM', `no callback named ${JSON.stringify(name)} is registered`, { field: 'name' }).toWire() };
        }
        try {
          return { ok: true, value: await (fn as (...a: unknown[]) => unknown)(...args) };
        } catch (err) {
          return { ok: false, error: toWireError(err) };
        }
      },
    };
    Comlink.expose(service, toEndpoint(port1));
    this.ports.add(port1);
    return {
      port: port2,
      close: () => {
        this.ports.delete(port1);
        port1.close();
      },
    };
  }

  /** Close every port (runtime shutdown). */
  closeAll(): void {
    for (const p of this.ports) {
      p.close();
    }
    this.ports.clear();
  }
}

/** Worker side: a function that calls a main-thread callback by name, with a deadline. */
export function connectCallbacks(port: MessagePort): (name: string, args: unknown[], timeoutMs: number) => Promise<unknown> {
  const remote = Comlink.wrap<CallbackService>(toEndpoint(port));
  port.unref();
  return async (name, args, timeoutMs) => {
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await Promise.race([
        remote.invoke(name, args),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new IvError('IV_ERR_TIMEOUT', `callback ${name} did not return within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      if (!result.ok) {
        throw fromWireError(result.error);
      }
      return result.value;
    } finally {
      clearTimeout(timer);
    }
  };
}

/** Expose an object (the runtime facade) to another thread on `port`. */
export function exposeFacade(facade: object, port: MessagePort): void {
  Comlink.expose(facade, toEndpoint(port));
}

/** The other side of `exposeFacade`. */
export function wrapFacade<T>(port: MessagePort): Comlink.Remote<T> {
  return Comlink.wrap<T>(toEndpoint(port));
}
