/**
 * ProbeActor — a diagnostics and fault-injection actor.
 *
 * Owns: a counter, and handlers that echo, sleep, tick, call main-thread callbacks,
 * answer with a typed error, and — on purpose — crash, hang, block the thread, exit
 * the thread, throw uncaught, reject unhandled, exhaust the heap or send garbage.
 * Tests and benchmarks use it to exercise every supervision path with real faults.
 * Must never: be started by the gateway's default configuration.
 */
import { parentPort } from 'node:worker_threads';
import { defineActor } from '../../runtime/actor.js';
import { PROBE_METHODS } from './probe-methods.js';
import { invalidParam } from '../../runtime/errors.js';
import { encode } from '../../runtime/wire.js';
import { PROTOCOL_VERSION } from '../../runtime/schema.js';

export interface ProbeArgs {
  /** Fail at start: throw in init, or never finish init. */
  failInit?: 'throw' | 'hang';
  counter?: number;
}

interface ProbeState {
  counter: number;
  startedAt: number;
  generation: number;
}

function blockFor(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // burn the thread on purpose
  }
}

export default defineActor({
  name: 'probe',
  methods: PROBE_METHODS,
  init(ctx, args): ProbeState | Promise<ProbeState> {
    const a = (args ?? {}) as ProbeArgs;
    if (a.failInit === 'throw') {
      throw new Error('probe told to fail in init');
    }
    if (a.failInit === 'hang') {
      return new Promise<ProbeState>(() => undefined);
    }
    return { counter: a.counter ?? 0, startedAt: performance.now(), generation: ctx.generation };
  },
  handlers: {
    PROBE_ECHO: (_s, body) => body.payload,
    PROBE_STATE: (s) => ({ counter: s.counter, startedAt: s.startedAt, generation: s.generation }),
    PROBE_INCR: (s) => ({ counter: ++s.counter }),
    PROBE_SLEEP: (_s, body, ctx) => new Promise((resolve) => ctx.setTimeout(() => resolve({ slept: body.ms }), body.ms)),
    PROBE_TICKS: (_s, body, ctx) => {
      let n = 0;
      if (body.count > 0) {
        const id = ctx.setInterval(() => {
          ctx.emit('PROBE_TICK', { n: n++, generation: ctx.generation });
          if (n >= body.count) {
            ctx.clearTimer(id);
          }
        }, body.intervalMs);
      }
      return { scheduled: body.count };
    },
    PROBE_CALL_BACK: (_s, body, ctx) => ctx.callback(body.name, body.args, 2_000),
    PROBE_REJECT: (_s, body) => {
      throw invalidParam(body.field, 'rejected by the probe on request');
    },
    PROBE_CRASH: (_s, body) => {
      throw new TypeError(body.message);
    },
    PROBE_CRASH_LATER: (_s, body, ctx) => {
      ctx.setTimeout(() => {
        throw new RangeError('probe timer crashed');
      }, body.afterMs);
      return { armed: body.afterMs };
    },
    PROBE_HANG: () => new Promise<never>(() => undefined),
    PROBE_BLOCK: (_s, body) => {
      blockFor(body.ms);
      return { blocked: body.ms };
    },
    PROBE_EXIT: (_s, body) => {
      process.exit(body.code);
    },
    PROBE_THROW_UNCAUGHT: (_s, body) => {
      setTimeout(() => {
        throw new Error(body.message);
      }, 0);
      return { armed: true };
    },
    PROBE_REJECT_UNHANDLED: (_s, body) => {
      void Promise.reject(new Error(body.message));
      return { armed: true };
    },
    PROBE_ALLOCATE: (_s, body) => {
      const hog: unknown[][] = [];
      for (let i = 0; i < body.mb * 8; i++) {
        hog.push(new Array(16_384).fill(0).map((_, j) => ({ j })));
      }
      return { kept: hog.length };
    },
    PROBE_GARBAGE: (_s, body) => {
      const port = parentPort;
      if (port === null) {
        return { sent: false };
      }
      if (body.what === 'not-msgpack') {
        port.postMessage({ hello: 'not an envelope' });
      } else {
        const env = { v: body.what === 'bad-version' ? PROTOCOL_VERSION + 98 : PROTOCOL_VERSION, id: 0, kind: 'ntf' as const, method: 'NOPE_NOTHING', target: 'probe', body: {} };
        if (body.what === 'bad-version') {
          env.method = 'PROBE_TICK';
        }
        const { value, transfer } = encode(env);
        port.postMessage(value, transfer);
      }
      return { sent: true };
    },
  },
});
