/**
 * checks — tiny runtime validators for message bodies and user input.
 *
 * Owns: composable `Check` functions that return `undefined` when a value is valid or
 * an `IvError` (IV_ERR_INVALID_PARAM) naming the offending field when it is not.
 * Must never: throw, coerce values, or accept a value it cannot describe.
 */
import { invalidParam, type IvError } from '../runtime/errors.js';

export type Check = (value: unknown, field: string) => IvError | undefined;

const typeName = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

export const any: Check = () => undefined;

export const str: Check = (v, f) => (typeof v === 'string' ? undefined : invalidParam(f, `expected a string, got ${typeName(v)}`));

export const bool: Check = (v, f) => (typeof v === 'boolean' ? undefined : invalidParam(f, `expected a boolean, got ${typeName(v)}`));

export function int(min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): Check {
  return (v, f) => {
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      return invalidParam(f, `expected an integer, got ${typeName(v)} ${String(v)}`);
    }
    return v < min || v > max ? invalidParam(f, `expected ${min}..${max}, got ${v}`) : undefined;
  };
}

export function num(min = -Infinity, max = Infinity): Check {
  return (v, f) => {
    if (typeof v !== 'number' || Number.isNaN(v)) {
      return invalidParam(f, `expected a number, got ${typeName(v)}`);
    }
    return v < min || v > max ? invalidParam(f, `expected ${min}..${max}, got ${v}`) : undefined;
  };
}

export function oneOf<T extends string>(...values: readonly T[]): Check {
  return (v, f) => (typeof v === 'string' && (values as readonly string[]).includes(v)
    ? undefined
    : invalidParam(f, `expected one of ${values.join(', ')}, got ${JSON.stringify(v)}`));
}

export const sharedBuffer: Check = (v, f) => (v instanceof SharedArrayBuffer ? undefined : invalidParam(f, `expected a SharedArrayBuffer, got ${typeName(v)}`));

export const bytes: Check = (v, f) => (v instanceof Uint8Array ? undefined : invalidParam(f, `expected bytes, got ${typeName(v)}`));

export function opt(check: Check): Check {
  return (v, f) => (v === undefined ? undefined : check(v, f));
}

export function arr(check: Check, maxLength = 1 << 20): Check {
  return (v, f) => {
    if (!Array.isArray(v)) {
      return invalidParam(f, `expected an array, got ${typeName(v)}`);
    }
    if (v.length > maxLength) {
      return invalidParam(f, `at most ${maxLength} items, got ${v.length}`);
    }
    for (let i = 0; i < v.length; i++) {
      const err = check(v[i], `${f}[${i}]`);
      if (err) {
        return err;
      }
    }
    return undefined;
  };
}

/** A plain object with exactly these keys allowed (unknown keys are an error). */
export function obj(shape: Record<string, Check>): Check {
  const keys = Object.keys(shape);
  return (v, f) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      return invalidParam(f, `expected an object, got ${typeName(v)}`);
    }
    const rec = v as Record<string, unknown>;
    for (const k of Object.keys(rec)) {
      if (!Object.hasOwn(shape, k)) {
        return invalidParam(`${f}.${k}`, 'unknown field');
      }
    }
    for (const k of keys) {
      const err = (shape[k] as Check)(rec[k], `${f}.${k}`);
      if (err) {
        return err;
      }
    }
    return undefined;
  };
}
