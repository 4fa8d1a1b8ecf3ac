/**
 * duration — the one parser of durations for the CLI and the config file: a plain number
 * is seconds; `500ms`, `30s`, `10m`, `1h`, `1d` carry their unit.
 * Owns: the syntax. Must never: accept a negative, non-finite or unit-less garbage value.
 */

const UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3_600, d: 86_400 };

/** Seconds, or undefined when `raw` is not a duration. */
export function parseDuration(raw: string | number): number | undefined {
  if (typeof raw === 'number') {
    return Number.isFinite(raw) && raw >= 0 ? raw : undefined;
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(raw);
  if (!m?.[1]) {
    return undefined;
  }
  const n = Number(m[1]) * (UNITS[m[2] ?? 's'] ?? 1);
  return Number.isFinite(n) ? n : undefined;
}

export const DURATION_HINT = 'a duration such as 30s, 10m, 1h or 1d (a plain number is seconds)';
