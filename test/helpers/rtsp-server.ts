/**
 * rtsp-server — GStreamer's RTSP server (test/fixtures/rtsp-server.py, Debian
 * gir1.2-gst-rtsp-server-1.0 + python3-gi, run with /usr/bin/python3) on a loopback port:
 * /h264 (H.264 + AAC), /h265 (H.265 + G.711 A-law), /bframes (H.264 with B-frames).
 * kill() stops it hard (a camera that drops); start() brings it back on the same port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from './free-port.js';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../../test/fixtures/rtsp-server.py', import.meta.url));

export interface RtspServer {
  port: number;
  url(mount: 'h264' | 'h265' | 'bframes'): string;
  start(): Promise<void>;
  kill(): Promise<void>;
}

/** `address`: listen there instead of loopback (e.g. `0.0.0.0`: a camera on the LAN); `url()` then names `host`. */
export async function startRtspServer(opts: { address?: string; host?: string } = {}): Promise<RtspServer> {
  const port = await freePort();
  const address = opts.address ?? '127.0.0.1';
  const host = opts.host ?? '127.0.0.1';
  let proc: ChildProcess | undefined;
  const server: RtspServer = {
    port,
    url: (mount) => `rtsp://${host}:${port}/${mount}`,
    start: () => new Promise<void>((resolve, reject) => {
      const p = spawn('/usr/bin/python3', [SCRIPT, String(port), address], { stdio: ['ignore', 'pipe', 'pipe'] });
      proc = p;
      let err = '';
      const timer = setTimeout(() => reject(new Error(`rtsp server did not start: ${err}`)), 10_000);
      p.stderr?.on('data', (d: Buffer) => (err += d.toString()));
      p.stdout?.on('data', (d: Buffer) => {
        if (d.toString().includes('ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      p.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`rtsp server exited ${code}: ${err}`));
      });
    }),
    kill: async () => {
      const p = proc;
      proc = undefined;
      if (p && p.exitCode === null && p.signalCode === null) {
        const gone = new Promise((r) => p.once('exit', r));
        p.kill('SIGKILL');
        await gone;
      }
    },
  };
  await server.start();
  return server;
}
