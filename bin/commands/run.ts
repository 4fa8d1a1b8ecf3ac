/**
 * run — `ivgw run`: the gateway on embedded defaults. Starts the supervised runtime
 * with the demo cameras (sample media looped in real time, H.264+AAC and
 * H.265+G.711) publishing into FrameRings, and prints each camera's measured fps,
 * bitrate and GOP every few seconds until Ctrl-C (or --seconds).
 * P2P serving and cloud recording plug in here as they land.
 */
import { ActorSystem } from '../../runtime/actor-system.js';
import { FrameRing } from '../../runtime/frame-ring.js';
import { CAPTURE_ACTOR, demoCameras } from '../../actors/capture/index.js';
import type { IngestStats } from '../../actors/capture/ingest.js';

export interface RunOptions {
  seconds: number | undefined;
  statsEverySeconds?: number;
}

export async function runCommand(opts: RunOptions): Promise<number> {
  const cameras = demoCameras().map((c) => ({ ...c, ring: FrameRing.create({ dataBytes: 8 * 1024 * 1024, slots: 2048, keys: 64 }).buffer }));
  const system = new ActorSystem({
    workers: [{ name: 'capture', actors: cameras.map((args) => ({ id: `capture:${args.camera}`, module: CAPTURE_ACTOR, args })) }],
  });
  system.on('event', (e) => {
    if (e.type !== 'start' && e.type !== 'stop') {
      process.stdout.write(`[supervisor] ${e.type} ${e.supervisor}/${e.child}${e.reason ? ` (${e.reason})` : ''}${e.error ? `: ${e.error.code} ${e.error.message}` : ''}\n`);
    }
  });
  let fatal = false;
  system.on('fatal', (err) => {
    fatal = true;
    process.stderr.write(`[supervisor] fatal: ${err.code} ${err.message}\n`);
  });
  await system.start();
  for (const c of cameras) {
    system.ref(`capture:${c.camera}`).onNotification('CAPTURE_EVENT', (body) => {
      const e = body as { camera: string; type: string; code?: string; message?: string; detail?: unknown };
      process.stdout.write(`[${e.camera}] ${e.type}${e.code ? ` ${e.code}` : ''}${e.message ? ` ${e.message}` : ''}${e.detail ? ` ${JSON.stringify(e.detail)}` : ''}\n`);
    });
  }
  process.stdout.write(`ivgw: gateway up with ${cameras.length} demo cameras (${cameras.map((c) => c.camera).join(', ')})${opts.seconds ? `, for ${opts.seconds} s` : '; Ctrl-C stops'}\n`);
  const printStats = async (): Promise<void> => {
    for (const c of cameras) {
      const s = await system.ref(`capture:${c.camera}`).call('CAPTURE_STATS', {}).catch(() => undefined) as IngestStats | undefined;
      if (s) {
        const v = s.video ? `${s.video.codec} ${s.video.width}x${s.video.height}` : 'no video';
        const rejected = Object.values(s.rejected).reduce((a, b) => a + (b ?? 0), 0);
        process.stdout.write(`[${c.camera}] ${v} ${s.fps} fps, video ${s.videoKbps} kbit/s, audio ${s.audioKbps} kbit/s, GOP ${s.gopFrames} (${s.keyframeIntervalMs} ms), frames ${s.videoFrames}+${s.audioFrames}, refused ${rejected}, reader laps ${s.laps}\n`);
      }
    }
  };
  const ticker = setInterval(() => void printStats(), (opts.statsEverySeconds ?? 5) * 1000);
  await new Promise<void>((resolve) => {
    const timer = opts.seconds ? setTimeout(resolve, opts.seconds * 1000) : undefined;
    const stop = (): void => {
      clearTimeout(timer);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  clearInterval(ticker);
  await printStats();
  await system.stop();
  process.stdout.write('ivgw: stopped\n');
  return fatal ? 1 : 0;
}
