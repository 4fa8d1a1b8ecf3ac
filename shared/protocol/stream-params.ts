/**
 * stream-params — the SDK's stream params string (`action=live&channel=0`,
 * `action=playback&channel=0&start=S&end=E`) that an app's `open` carries. Browser-safe.
 * Owns: the one parser of it, and what counts as a live stream.
 * Must never: accept an action other than live or playback, or a channel outside 0..255.
 */

export interface StreamParams {
  action: 'live' | 'playback';
  channel: number;
  /** Playback window, unix seconds. */
  start?: number;
  end?: number;
  raw: Record<string, string>;
}

/** Parse the SDK's params string (`action=live&channel=0`). Returns a field problem on error, never throws. */
export function parseStreamParams(params: string): StreamParams | { field: string; message: string } {
  const raw: Record<string, string> = {};
  for (const part of params.split('&')) {
    if (part === '') {
      continue;
    }
    const eq = part.indexOf('=');
    try {
      const key = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
      raw[key] = decodeURIComponent(eq < 0 ? '' : part.slice(eq + 1));
    } catch {
      return { field: 'params', message: `not URL-encoded: ${JSON.stringify(part.slice(0, 64))} (a % must start an escape such as %20)` };
    }
  }
  if (raw.action !== 'live' && raw.action !== 'playback') {
    return { field: 'params.action', message: `expected live or playback, got ${JSON.stringify(raw.action)}` };
  }
  const channel = Number(raw.channel ?? '0');
  if (!Number.isInteger(channel) || channel < 0 || channel > 255) {
    return { field: 'params.channel', message: `expected 0..255, got ${JSON.stringify(raw.channel)}` };
  }
  const out: StreamParams = { action: raw.action, channel, raw };
  for (const key of ['start', 'end'] as const) {
    if (raw[key] !== undefined) {
      const v = Number(raw[key]);
      if (!Number.isFinite(v) || v < 0) {
        return { field: `params.${key}`, message: `expected unix seconds, got ${JSON.stringify(raw[key])}` };
      }
      out[key] = v;
    }
  }
  return out;
}

/** A live stream's params (a restarted connection resumes those; playback ones end). */
export function isLiveStream(params: string): boolean {
  const p = parseStreamParams(params);
  return !('field' in p) && p.action === 'live';
}
