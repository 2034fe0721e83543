/** Query parameters shared by the write verbs, checked the way the apiserver checks them (400 on bad values). */
import type { WriteOptions } from '../../api/backend.js';
import { BadRequestError } from '../../errors.js';

export function dryRunOf(q: URLSearchParams, bodyDryRun?: unknown): boolean {
  const values = [...q.getAll('dryRun'), ...(Array.isArray(bodyDryRun) ? bodyDryRun.map(String) : [])];
  for (const v of values) {
    if (v !== 'All') throw new BadRequestError(`Invalid dryRun value: "${v}": supported values: "All"`);
  }
  return values.length > 0;
}

export function fieldValidationOf(q: URLSearchParams): WriteOptions['fieldValidation'] {
  const v = q.get('fieldValidation');
  if (v === null || v === '') return undefined;
  if (v === 'Strict' || v === 'Warn' || v === 'Ignore') return v;
  throw new BadRequestError(`fieldValidation: Unsupported value: "${v}": supported values: "Ignore", "Strict", "Warn"`);
}

export function writeOptions(q: URLSearchParams, user: string): WriteOptions {
  const opts: WriteOptions = { user };
  if (dryRunOf(q)) opts.dryRun = true;
  const fv = fieldValidationOf(q);
  if (fv) opts.fieldValidation = fv;
  return opts;
}

/** A non-negative integer query parameter, or undefined. */
export function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^\d+$/.test(v)) throw new BadRequestError(`${name}: Invalid value: "${v}": must be a non-negative integer`);
  return Number(v);
}

export function boolParam(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  return v === 'true' || v === '1';
}

/** Warnings as HTTP `Warning` headers (RFC 7234 code 299, which kubectl prints as "Warning: <text>"). */
export function warningHeaders(warnings: readonly string[]): Record<string, string> {
  if (warnings.length === 0) return {};
  return { warning: warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(', ') };
}
