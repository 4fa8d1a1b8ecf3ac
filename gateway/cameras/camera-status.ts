/**
 * camera-status — each camera's source state as `ivgw run` shows it: connecting (started,
 * no frame yet), up (frames arriving), retrying (the source exited; next attempt in N ms,
 * with ffmpeg's last error line), and the last refusal (e.g. B-frames, with the hint).
 * Owns: that state, fed by CAPTURE_EVENT notifications. Must never: act on a camera.
 */

export type CameraState = 'connecting' | 'up' | 'retrying' | 'ended';

export interface CameraStatus {
  state: CameraState;
  since: number;
  retries: number;
  lastError?: string;
  lastRefusal?: string;
}

export class CameraStatusBoard {
  private readonly cams = new Map<string, CameraStatus>();

  constructor(cameras: string[], private readonly now: () => number = Date.now) {
    for (const c of cameras) {
      this.cams.set(c, { state: 'connecting', since: this.now(), retries: 0 });
    }
  }

  /** One CAPTURE_EVENT; returns true when the state changed. */
  onEvent(e: { camera: string; type: string; code?: string; message?: string; detail?: unknown }): boolean {
    const s = this.cams.get(e.camera);
    if (!s) {
      return false;
    }
    const to = (state: CameraState): boolean => {
      const changed = s.state !== state;
      s.state = state;
      if (changed) {
        s.since = this.now();
      }
      return changed;
    };
    switch (e.type) {
      case 'source-up':
      case 'format':
        return to('up');
      case 'source-exit': {
        s.retries++;
        const d = e.detail as { lastError?: string } | undefined;
        if (d?.lastError) {
          s.lastError = d.lastError;
        } else if (e.message) {
          s.lastError = e.message;
        }
        return to('retrying');
      }
      case 'source-restart':
        return to('connecting');
      case 'source-ended':
        return to('ended');
      case 'rejected':
        s.lastRefusal = `${e.code ?? ''} ${e.message ?? ''}`.trim();
        return false;
      default:
        return false;
    }
  }

  /** Frames arrived from a source that never reports source-up (file, push): it is up. */
  framesSeen(camera: string): void {
    const s = this.cams.get(camera);
    if (s && s.state === 'connecting') {
      s.state = 'up';
      s.since = this.now();
    }
  }

  get(camera: string): CameraStatus | undefined {
    return this.cams.get(camera);
  }

  /** `up 12 s`, `retrying (3 retries; last error: Connection refused)`. */
  describe(camera: string): string {
    const s = this.cams.get(camera);
    if (!s) {
      return 'unknown';
    }
    const age = Math.round((this.now() - s.since) / 1000);
    return `${s.state} ${age} s${s.retries > 0 ? `, ${s.retries} retries` : ''}${s.state !== 'up' && s.lastError ? `; last error: ${s.lastError}` : ''}`;
  }
}
