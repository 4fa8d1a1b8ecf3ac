/** sample-media — media the benchmarks generate with ffmpeg (Debian), never checked in. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** 20 s of 1280x720 25 fps H.264 at 2 Mbit/s, GOP 2 s, no B-frames, Annex B, looping cleanly. */
export function make2MbitH264(dir: string): string {
  const out = join(dir, 'bench-2mbit.h264');
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=25:duration=20,noise=alls=12:allf=t', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'veryfast', '-b:v', '2M', '-maxrate', '2M', '-bufsize', '2M', '-g', '50', '-bf', '0', '-x264-params', 'repeat-headers=1:scenecut=0', '-f', 'h264', out], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`ffmpeg: ${r.stderr}`);
  }
  return out;
}
