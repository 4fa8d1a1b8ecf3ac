/**
 * redact — URL credentials out of text that is logged or shown: ffmpeg and ffprobe quote
 * their input (`rtsp://viewer:s3cret@cam/stream1: Connection refused`), a broker URL may
 * carry a user and password. `scheme://user:password@` becomes `scheme://user:***@`,
 * `scheme://secret@` (a token as user name) `scheme://***@`.
 * Owns: that rewrite. Must never: change text without credentials in a URL.
 */

const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/@:]*)(:[^\s/@]*)?@/gi;

export function redactUrlCredentials(text: string): string {
  return text.replace(URL_USERINFO, (_m, scheme: string, user: string, password: string | undefined) =>
    password !== undefined ? `${scheme}${user}:***@` : `${scheme}***@`);
}

/** The same for every string in a value (objects and arrays to `depth` levels): a copy when anything changed. */
export function redactDeep<T>(value: T, depth = 4): T {
  if (typeof value === 'string') {
    return redactUrlCredentials(value) as T;
  }
  if (depth <= 0 || value === null || typeof value !== 'object' || ArrayBuffer.isView(value) || value instanceof Error) {
    return value;
  }
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((v: unknown) => {
      const r = redactDeep(v, depth - 1);
      changed ||= r !== v;
      return r;
    });
    return (changed ? out : value) as T;
  }
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const r = redactDeep(v, depth - 1);
    if (r !== v) {
      out ??= { ...(value as Record<string, unknown>) };
      out[k] = r;
    }
  }
  return (out ?? value) as T;
}
