/**
 * check — the small vocabulary validate.ts is written in: read a field of a parsed config
 * at a path, note a problem naming that path, and carry on so every problem is reported
 * at once.
 * Owns: path naming (`cameras[1].source`). Must never: throw on bad input.
 */
import { parseDuration, DURATION_HINT } from './duration.js';
import type { ConfigProblem } from './schema.js';
import { redactDeep } from '../../runtime/redact.js';

export type Obj = Record<string, unknown>;

export class Checker {
  readonly problems: ConfigProblem[] = [];

  problem(path: string, message: string): undefined {
    this.problems.push({ path, message });
    return undefined;
  }

  /** The object at `path` (absent: `{}` when optional), noting unknown keys. */
  object(value: unknown, path: string, keys: readonly string[], optional = true): Obj | undefined {
    if (value === undefined || value === null) {
      return optional ? {} : this.problem(path, 'is required');
    }
    if (typeof value !== 'object' || Array.isArray(value)) {
      return this.problem(path, 'expected a mapping (key: value)');
    }
    for (const k of Object.keys(value)) {
      if (!keys.includes(k)) {
        this.problem(join(path, k), `unknown key; expected one of ${keys.join(', ')}`);
      }
    }
    return value as Obj;
  }

  string(o: Obj, key: string, path: string, dflt?: string): string | undefined {
    const v = o[key];
    if (v === undefined || v === null || v === '') {
      return dflt; // '' too: an optional \${VAR:-} that is unset
    }
    if (typeof v !== 'string') {
      return this.problem(join(path, key), `expected a non-empty string, got ${show(v)}`);
    }
    return v;
  }

  required(o: Obj, key: string, path: string): string | undefined {
    if (o[key] === undefined || o[key] === null || o[key] === '') {
      return this.problem(join(path, key), 'is required');
    }
    return this.string(o, key, path);
  }

  int(o: Obj, key: string, path: string, min: number, max: number, dflt: number): number;
  int(o: Obj, key: string, path: string, min: number, max: number): number | undefined;
  int(o: Obj, key: string, path: string, min: number, max: number, dflt?: number): number | undefined {
    const v = o[key];
    if (v === undefined || v === null) {
      return dflt;
    }
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.problem(join(path, key), `expected an integer ${min}..${max}, got ${show(v)}`);
      return dflt;
    }
    return v;
  }

  bool(o: Obj, key: string, path: string, dflt: boolean): boolean {
    const v = o[key];
    if (v === undefined || v === null) {
      return dflt;
    }
    if (typeof v !== 'boolean') {
      this.problem(join(path, key), `expected true or false, got ${show(v)}`);
      return dflt;
    }
    return v;
  }

  oneOf<T extends string>(o: Obj, key: string, path: string, choices: readonly T[], dflt: T): T {
    const v = o[key];
    if (v === undefined || v === null) {
      return dflt;
    }
    if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) {
      this.problem(join(path, key), `expected ${choices.join(', ')}, got ${show(v)}`);
      return dflt;
    }
    return v as T;
  }

  duration(o: Obj, key: string, path: string, dflt: number): number {
    const v = o[key];
    if (v === undefined || v === null) {
      return dflt;
    }
    const s = typeof v === 'string' || typeof v === 'number' ? parseDuration(v) : undefined;
    if (s === undefined) {
      this.problem(join(path, key), `expected ${DURATION_HINT}, got ${show(v)}`);
      return dflt;
    }
    return s;
  }

  size(o: Obj, key: string, path: string, dflt: number): number {
    const v = o[key];
    if (v === undefined || v === null) {
      return dflt;
    }
    const n = parseSize(v);
    if (n === undefined) {
      this.problem(join(path, key), `expected a size such as 512KiB, 100MiB, 10GiB (a plain number is bytes), got ${show(v)}`);
      return dflt;
    }
    return n;
  }

  list(o: Obj, key: string, path: string): unknown[] {
    const v = o[key];
    if (v === undefined || v === null) {
      return [];
    }
    if (!Array.isArray(v)) {
      this.problem(join(path, key), 'expected a list');
      return [];
    }
    return v;
  }
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1e3, kb: 1e3, kib: 1024, m: 1e6, mb: 1e6, mib: 1024 ** 2, g: 1e9, gb: 1e9, gib: 1024 ** 3, t: 1e12, tb: 1e12, tib: 1024 ** 4 };

export function parseSize(v: unknown): number | undefined {
  if (typeof v === 'number') {
    return Number.isInteger(v) && v >= 0 ? v : undefined;
  }
  const m = typeof v === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(v) : null;
  const unit = SIZE_UNITS[(m?.[2] ?? '').toLowerCase()];
  return m?.[1] && unit !== undefined ? Math.round(Number(m[1]) * unit) : undefined;
}

export function join(path: string, key: string | number): string {
  return typeof key === 'number' ? `${path}[${key}]` : path === '' ? key : `${path}.${key}`;
}

/** A value as a problem quotes it: short, and a URL's password (from `${ENV}` most likely) masked. */
export function show(v: unknown): string {
  const s = JSON.stringify(redactDeep(v));
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
