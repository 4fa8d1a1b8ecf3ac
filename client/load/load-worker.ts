/**
 * load-worker — one worker process of `ivgw load` (node-datachannel may live in one
 * thread per process, so apps are spread over processes): starts its share of simulated
 * apps at their ramp-up times, reports every second what arrived (bytes, frames,
 * connected apps, errors, a latency histogram), and at the end every app's result.
 * Speaks LOAD_METHODS (load-ipc.ts) over the IPC channel its coordinator forked it
 * with; a message that breaks the schema is a fault: reported, then the worker exits.
 * Owns: its SimApps. Must never: outlive its coordinator (exits when the channel closes).
 */
import { checkLoadMessage, LOAD_PROTOCOL_VERSION, type LoadMethod } from './load-ipc.js';
import { AppClient } from '../app-client.js';
import { Histogram } from './histogram.js';
import type { LoadStart } from './load-types.js';
import { SimApp } from './sim-app.js';

function send(method: LoadMethod, body: unknown): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) {
      resolve();
      return;
    }
    process.send({ v: LOAD_PROTOCOL_VERSION, method, body }, undefined, {}, () => resolve());
  });
}

async function exit(code: number): Promise<never> {
  await AppClient.shutdownTransport().catch(() => undefined);
  // node-datachannel's native teardown at exit is unreliable: leave right away
  process.exit(code);
}

let apps: SimApp[] = [];
let started = false;
let stopAll: () => void = () => undefined;
const stopping = new Promise<void>((resolve) => {
  stopAll = resolve;
});

async function run(start: LoadStart): Promise<void> {
  const second = new Histogram();
  let errors = 0;
  apps = start.apps.map((spec) => new SimApp(spec, {
    start,
    onLatency: (ms) => second.add(ms),
    onEvent: (e) => {
      if (e.type === 'error') {
        errors++;
      }
      void send('LOAD_APP', e);
    },
  }));
  let lastBytes = 0;
  let lastFrames = 0;
  const sample = (): void => {
    const bytes = apps.reduce((n, a) => n + a.bytes(), 0);
    const frames = apps.reduce((n, a) => n + a.videoFrames(), 0);
    void send('LOAD_SAMPLE', {
      t: Math.max(0, Math.round((Date.now() - start.t0) / 1000)),
      bytes: bytes - lastBytes,
      videoFrames: frames - lastFrames,
      connected: apps.filter((a) => a.connected).length,
      errors,
      latency: second.pairs(),
    });
    lastBytes = bytes;
    lastFrames = frames;
    errors = 0;
    second.clear();
  };
  // samples on whole seconds after t0, so every worker's second t covers the same time
  let sampler: NodeJS.Timeout | undefined;
  const firstTick = setTimeout(() => {
    sample();
    sampler = setInterval(sample, 1_000);
  }, 1_000 - ((Date.now() - start.t0) % 1_000 + 1_000) % 1_000);
  await Promise.all(apps.map(async (app) => {
    const at = start.t0 + app.spec.startAtMs;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([stopping, new Promise((r) => {
      timer = setTimeout(r, Math.max(0, at - Date.now()));
    })]);
    clearTimeout(timer);
    await app.run(at + start.seconds * 1_000);
  }));
  clearTimeout(firstTick);
  clearInterval(sampler);
  sample();
  await send('LOAD_RESULT', { apps: apps.map((a) => a.result()) });
}

process.on('message', (raw) => {
  const m = checkLoadMessage(raw, 'toWorker');
  if (!m.ok) {
    void send('LOAD_FAULT', { code: m.error.code, message: `load worker ${process.pid}: ${m.error.message}` }).then(() => exit(1));
    return;
  }
  if (m.method === 'LOAD_STOP') {
    stopAll();
    for (const a of apps) {
      a.stop();
    }
    return;
  }
  if (started) {
    void send('LOAD_FAULT', { code: 'IV_ERR_PROTOCOL', message: `load worker ${process.pid}: LOAD_START twice` }).then(() => exit(1));
    return;
  }
  started = true;
  run(m.body as LoadStart).then(
    () => exit(0),
    (err: unknown) => {
      void send('LOAD_FAULT', { code: 'IV_ERR_INTERNAL', message: `load worker ${process.pid}: ${(err as Error).message ?? String(err)}` }).then(() => exit(1));
    },
  );
});

process.on('disconnect', () => void exit(1));
