/**
 * The small shared parsers the annotation table (lib/model/annotations.ts) is built from: booleans, enums, integers
 * in a range, comma-separated lists, key=value lists, plus two ways of adding checks to a parser.
 *
 * A parser reads one annotation's value (trimmed, as the AWS LB controller reads it) and returns the parsed value,
 * or pushes its errors (worded like the apiserver's, field `metadata.annotations[<key>]`) and returns undefined.
 */
import { invalid, notSupported, type FieldError } from '../field-errors.js';
import type { V1Service } from '../types.js';
import type { LoadBalancerAnnotations, Scheme } from './types.js';

/**
 * Valid values that have no field of their own in the config: read by the cross-annotation rules (scheme vs
 * internal, the access log and TLS settings, each assembled from several annotations).
 */
export interface Pending {
  /** The `-scheme` annotation's own value (config.scheme may come from `-internal`). */
  scheme?: Scheme;
  accessLogEnabled?: boolean;
  certificateArns?: string[];
  sslPorts?: '*' | (number | string)[];
  backendProtocol?: 'tcp' | 'ssl';
}

/** One parse of a Service's annotations. */
export interface Ctx {
  svc: V1Service;
  ann: Record<string, string>;
  /** An annotation's value, trimmed; undefined when absent. */
  get(key: string): string | undefined;
  config: LoadBalancerAnnotations;
  pending: Pending;
  errs: FieldError[];
}

/** One annotation being read. */
export interface At extends Ctx {
  key: string;
  /** `metadata.annotations[<key>]`. */
  field: string;
  /** The value, trimmed. */
  value: string;
  /** The value as written. */
  raw: string;
}

export type Parser<T> = (at: At) => T | undefined;
/** A condition on a parsed value: its error(s) when it fails, undefined when it holds. */
export type Check<T> = (value: T, at: At) => FieldError | readonly FieldError[] | undefined;

export const annotationField = (key: string): string => `metadata.annotations[${key}]`;

/** An Invalid error on the annotation being read, showing its (trimmed) value. */
export const bad = (at: At, detail: string): FieldError => invalid(at.field, at.value, detail);

/** Pushes a check's errors; whether it failed (an empty list is a pass). */
function report(errs: FieldError[], e: FieldError | readonly FieldError[] | undefined): boolean {
  const list: readonly FieldError[] = e === undefined ? [] : Array.isArray(e) ? e : [e as FieldError];
  errs.push(...list);
  return list.length > 0;
}

/** `p`, then `checks` in order: the first that fails reports its error(s) and the value is refused. */
export function rejecting<T>(p: Parser<T>, ...checks: Check<T>[]): Parser<T> {
  return (at) => {
    const v = p(at);
    if (v === undefined) return undefined;
    return checks.some((c) => report(at.errs, c(v, at))) ? undefined : v;
  };
}

/**
 * `p`, then every check reports its errors but the value is kept: the errors already reject the Service, and the
 * builder, which sees the config alongside them, reports its own on the value as written.
 */
export function reporting<T>(p: Parser<T>, ...checks: Check<T>[]): Parser<T> {
  return (at) => {
    const v = p(at);
    if (v !== undefined) for (const c of checks) report(at.errs, c(v, at));
    return v;
  };
}

export function map<T, U>(p: Parser<T>, f: (v: T) => U): Parser<U> {
  return (at) => {
    const v = p(at);
    return v === undefined ? undefined : f(v);
  };
}

/** Any value, as written (trimmed). */
export const text: Parser<string> = (at) => at.value;

/** Exactly "true" or "false". */
export const bool: Parser<boolean> = (at) => {
  if (at.value === 'true') return true;
  if (at.value === 'false') return false;
  at.errs.push(notSupported(at.field, at.value, ['true', 'false']));
  return undefined;
};

/**
 * One of `values`, after `normalize`; the error lists `shown` (the spellings a user should write, which may leave
 * out an accepted value that is refused later with a better message).
 */
export function oneOf<const V extends string>(
  values: readonly V[],
  opts: { shown?: readonly string[]; normalize?: (s: string) => string } = {},
): Parser<V> {
  return (at) => {
    const v = opts.normalize ? opts.normalize(at.value) : at.value;
    if ((values as readonly string[]).includes(v)) return v as V;
    at.errs.push(notSupported(at.field, at.value, [...(opts.shown ?? values)]));
    return undefined;
  };
}

/** A decimal integer in [min, max]; `what` names it in the error. */
export function intInRange(min: number, max: number, what: string): Parser<number> {
  return (at) => {
    if (!/^\d+$/.test(at.value)) {
      at.errs.push(bad(at, `${what} must be an integer between ${min} and ${max}`));
      return undefined;
    }
    const n = Number(at.value);
    if (n < min || n > max) {
      at.errs.push(bad(at, `${what} must be between ${min} and ${max}`));
      return undefined;
    }
    return n;
  };
}

/** Splits a comma-separated annotation value, trimming blanks, as the LB controller does. */
export function splitList(v: string): string[] {
  return v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** A comma-separated list (possibly empty). */
export const list: Parser<string[]> = (at) => splitList(at.value);

/**
 * A comma-separated list whose every item passes `ok`, and non-empty unless `allowEmpty`; `detail` (given the
 * failing items) is the one error otherwise.
 */
export function listOf(
  ok: (item: string) => boolean,
  detail: string | ((bad: string[]) => string),
  opts: { allowEmpty?: boolean } = {},
): Parser<string[]> {
  return (at) => {
    const items = splitList(at.value);
    const failing = items.filter((s) => !ok(s));
    if (failing.length === 0 && (items.length > 0 || opts.allowEmpty)) return items;
    at.errs.push(bad(at, typeof detail === 'string' ? detail : detail(failing)));
    return undefined;
  };
}

export const nonEmpty =
  (detail: string): Check<readonly unknown[]> =>
  (l, at) =>
    l.length === 0 ? bad(at, detail) : undefined;

export const distinct =
  (detail: string): Check<readonly unknown[]> =>
  (l, at) =>
    new Set(l).size !== l.length ? bad(at, detail) : undefined;

export const atMost =
  (n: number, detail: string): Check<readonly unknown[]> =>
  (l, at) =>
    l.length > n ? bad(at, detail) : undefined;

export const matches =
  (re: RegExp, detail: string): Check<string> =>
  (s, at) =>
    re.test(s) ? undefined : bad(at, detail);

/**
 * `k1=v1,k2=v2` lists (tags, attributes, node labels). Keys must be unique and non-empty. Any key is an own property
 * of the result (a key named `__proto__` or `constructor` is data, not an inherited member).
 */
export function parseKeyValueList(key: string, v: string, errs: FieldError[]): Record<string, string> | undefined {
  const out = new Map<string, string>();
  let ok = true;
  for (const item of splitList(v)) {
    const eq = item.indexOf('=');
    const k = (eq < 0 ? item : item.slice(0, eq)).trim();
    const val = eq < 0 ? '' : item.slice(eq + 1).trim();
    if (eq < 0 || k === '') {
      errs.push(
        invalid(
          annotationField(key),
          v,
          `"${item}" is not a key=value pair; expected a comma-separated list of key=value`,
        ),
      );
      ok = false;
      continue;
    }
    if (out.has(k)) {
      errs.push(invalid(annotationField(key), v, `key "${k}" appears more than once`));
      ok = false;
      continue;
    }
    out.set(k, val);
  }
  return ok ? Object.fromEntries(out) : undefined;
}

export const keyValues: Parser<Record<string, string>> = (at) => parseKeyValueList(at.key, at.value, at.errs);
