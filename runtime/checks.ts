/**
 * checks — tiny runtime validators for message bodies and user input, carrying their type.
 *
 * Owns: composable `Check<T>` functions that return `undefined` when a value is valid or
 * an `IvError` (IV_ERR_INVALID_PARAM) naming the offending field when it is not. Each
 * check carries the type it proves (`Checked<typeof check>`), so a message table written
 * with these checks types the handlers and callers of its methods (runtime/schema).
 * Must never: throw, coerce values, or accept a value it cannot describe.
 */
import { invalidParam, type IvError } from './errors.js';

/** A validator that proves `T`. The `type` member exists only for the compiler. */
export interface Check<T> {
  (value: unknown, field: string): IvError | undefined;
  readonly type?: T;
}

/** A check whose field may be left out of an object (`opt`). */
export interface OptionalCheck<T> extends Check<T | undefined> {
  readonly optional: true;
}

/** The type a check proves. */
export type Checked<C> = C extends Check<infer T> ? T : never;

const typeName = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

export const any: Check<unknown> = () => undefined;

export const str: Check<string> = (v, f) => (typeof v === 'string' ? undefined : invalidParam(f, `expected a string, got ${typeName(v)}`));

export const bool: Check<boolean> = (v, f) => (typeof v === 'boolean' ? undefined : invalidParam(f, `expected a boolean, got ${typeName(v)}`));

export function int(min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): Check<number> {
  return (v, f) => {
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      return invalidParam(f, `expected an integer, got ${typeName(v)} ${String(v)}`);
    }
    return v < min || v > max ? invalidParam(f, `expected ${min}..${max}, got ${v}`) : undefined;
  };
}

export function num(min = -Infinity, max = Infinity): Check<number> {
  return (v, f) => {
    if (typeof v !== 'number' || Number.isNaN(v)) {
      return invalidParam(f, `expected a number, got ${typeName(v)}`);
    }
    return v < min || v > max ? invalidParam(f, `expected ${min}..${max}, got ${v}`) : undefined;
  };
}

export function oneOf<const T extends string>(...values: readonly T[]): Check<T> {
  return (v, f) => (typeof v === 'string' && (values as readonly string[]).includes(v)
    ? undefined
    : invalidParam(f, `expected one of ${values.join(', ')}, got ${JSON.stringify(v)}`));
}

export const sharedBuffer: Check<SharedArrayBuffer> = (v, f) => (v instanceof SharedArrayBuffer ? undefined : invalidParam(f, `expected a SharedArrayBuffer, got ${typeName(v)}`));

export const bytes: Check<Uint8Array> = (v, f) => (v instanceof Uint8Array ? undefined : invalidParam(f, `expected bytes, got ${typeName(v)}`));

/** A field that may be absent; in an `obj` shape it becomes an optional property. */
export function opt<T>(check: Check<T>): OptionalCheck<T> {
  const c = ((v: unknown, f: string) => (v === undefined ? undefined : check(v, f))) as unknown as { optional: true };
  c.optional = true;
  return c as unknown as OptionalCheck<T>;
}

export function arr<T>(check: Check<T>, maxLength = 1 << 20): Check<T[]> {
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

type Shape = Record<string, Check<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends OptionalCheck<unknown> ? K : never }[keyof S];
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The object type an `obj` shape proves: optional checks become optional properties. */
export type ShapeType<S extends Shape> = Simplify<
  { [K in Exclude<keyof S, OptionalKeys<S>>]: Checked<S[K]> } & { [K in OptionalKeys<S>]?: Exclude<Checked<S[K]>, undefined> }
>;

/** A plain object with exactly these keys allowed (unknown keys are an error). */
export function obj<S extends Shape>(shape: S): Check<ShapeType<S>> {
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
      const err = (shape[k] as Check<unknown>)(rec[k], `${f}.${k}`);
      if (err) {
        return err;
      }
    }
    return undefined;
  };
}

/** An empty object body. */
export const empty: Check<Record<string, never>> = obj({});
