/**
 * Field errors worded exactly like k8s.io/apimachinery/pkg/util/validation/field, so users see the same messages
 * kubectl prints for a real API server, e.g.
 *   spec.ports[1].name: Required value
 *   spec.type: Unsupported value: "Foo": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"
 * and the aggregate `Service "x" is invalid: [a, b]` (brackets only when there is more than one).
 *
 * Bounded size. The apiserver never echoes a value it calls too long (TooLong omits it, TooMany gives a count), but
 * it echoes every other bad value whole and lists every error, bounded only by its 3 MiB request limit. Here every
 * message must stay one readable line (it lands in a terminal, a Lambda log, an object's status condition), so a
 * rendered value, a field path and a detail are each cut at a fixed size with the full length said, and an object's
 * message lists at most MAX_REPORTED_ERRORS errors with the number left out; identical errors are reported once, as
 * ErrorList.ToAggregate does.
 */
import { InvalidError } from '../errors.js';

export type FieldErrorType =
  'Required' | 'Invalid' | 'TypeInvalid' | 'NotSupported' | 'Duplicate' | 'Forbidden' | 'TooLong' | 'TooMany';

/** Longest rendering of one bad value (bytes of its JSON text). */
export const MAX_VALUE_BYTES = 256;
/** Longest field path or detail text (bytes). */
export const MAX_TEXT_BYTES = 1024;
/** Errors listed in one object's message; the rest are counted. */
export const MAX_REPORTED_ERRORS = 25;

/** `s` cut to at most `max` UTF-8 bytes without splitting a character; undefined when it already fits. */
function cutBytes(s: string, max: number): string | undefined {
  if (s.length <= max / 4 || Buffer.byteLength(s, 'utf8') <= max) return undefined;
  let out = Buffer.from(s, 'utf8').subarray(0, max).toString('utf8');
  // A character cut in half decodes as U+FFFD at the end: drop it.
  if (out.endsWith('\uFFFD')) out = out.slice(0, -1);
  return out;
}

/** Text (a path, a detail, a map key) bounded for messages: cut with its full size said. */
export function clip(s: string, max = MAX_TEXT_BYTES): string {
  const cut = cutBytes(s, max);
  return cut === undefined ? s : `${cut}...(${Buffer.byteLength(s, 'utf8')} bytes)`;
}

export interface FieldError {
  type: FieldErrorType;
  field: string;
  /** The offending value, rendered the way apimachinery renders it (strings quoted, numbers bare). */
  value?: unknown;
  detail?: string;
}

/** A bad value as apimachinery renders it (strings quoted, numbers bare, the rest as JSON), bounded in size. */
function renderValue(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') {
    const cut = cutBytes(v, MAX_VALUE_BYTES);
    return cut === undefined ? JSON.stringify(v) : `${JSON.stringify(cut)}...(${Buffer.byteLength(v, 'utf8')} bytes)`;
  }
  let json: string;
  try {
    json = JSON.stringify(v) ?? 'null';
  } catch {
    json = '"<unprintable value>"';
  }
  const cut = cutBytes(json, MAX_VALUE_BYTES);
  return cut === undefined ? json : `${cut}...(${Buffer.byteLength(json, 'utf8')} bytes)`;
}

/** `field: Body`, as field.Error.Error() prints it. */
export function formatFieldError(e: FieldError): string {
  return `${clip(e.field)}: ${formatErrorBody(e)}`;
}

/** field.Error.ErrorBody(): the message without the field (a StatusCause's message). */
export function formatErrorBody(e: FieldError): string {
  const detail = e.detail ? `: ${clip(e.detail)}` : '';
  switch (e.type) {
    case 'Required':
      return `Required value${detail}`;
    case 'Invalid':
    case 'TypeInvalid':
      return `Invalid value: ${renderValue(e.value)}${detail}`;
    case 'NotSupported':
      return `Unsupported value: ${renderValue(e.value)}${detail}`;
    case 'Duplicate':
      return `Duplicate value: ${renderValue(e.value)}${detail}`;
    case 'Forbidden':
      return `Forbidden${detail}`;
    case 'TooLong':
      return `Too long${detail || ': value is too long'}`;
    case 'TooMany':
      return `Too many: ${renderValue(e.value)}${detail}`;
  }
}

export const required = (field: string, detail?: string): FieldError => ({ type: 'Required', field, detail });
export const invalid = (field: string, value: unknown, detail?: string): FieldError => ({
  type: 'Invalid',
  field,
  value,
  detail,
});
export const notSupported = (field: string, value: unknown, supported: readonly string[]): FieldError => ({
  type: 'NotSupported',
  field,
  value,
  detail: `supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}`,
});
/**
 * field.TypeInvalid as the apiserver's schema validation words it: the value is named by its JSON type,
 * `spec.ports[0]: Invalid value: "null": spec.ports[0] in body must be of type object: "null"`.
 */
export const typeInvalid = (field: string, got: string, expected: string): FieldError => ({
  type: 'TypeInvalid',
  field,
  value: got,
  detail: `${field} in body must be of type ${expected}: ${renderValue(got)}`,
});
export const duplicate = (field: string, value: unknown): FieldError => ({ type: 'Duplicate', field, value });
export const forbidden = (field: string, detail: string): FieldError => ({ type: 'Forbidden', field, detail });
export const tooLong = (field: string, max: number): FieldError => ({
  type: 'TooLong',
  field,
  detail: `may not be more than ${max} bytes`,
});

/** ErrorList.ToAggregate: identical errors once, in order; then at most MAX_REPORTED_ERRORS of them. */
function reported(errors: readonly FieldError[]): { shown: FieldError[]; omitted: number } {
  const seen = new Set<string>();
  const unique = errors.filter((e) => {
    const m = formatFieldError(e);
    if (seen.has(m)) return false;
    seen.add(m);
    return true;
  });
  return { shown: unique.slice(0, MAX_REPORTED_ERRORS), omitted: Math.max(0, unique.length - MAX_REPORTED_ERRORS) };
}

/** `Service "x" is invalid: ...` — the text kubectl shows after "The Service "x" is invalid:". */
export function aggregateMessage(kind: string, name: string, errors: readonly FieldError[]): string {
  const { shown, omitted } = reported(errors);
  const parts = shown.map(formatFieldError);
  if (omitted > 0) parts.push(`... and ${omitted} more errors`);
  const body = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
  return `${kind} "${clip(name, MAX_VALUE_BYTES)}" is invalid: ${body}`;
}

/** Throws InvalidError when `errors` is non-empty; otherwise returns. */
export function throwIfInvalid(kind: string, name: string, errors: readonly FieldError[]): void {
  if (errors.length === 0) return;
  throw new InvalidError(
    aggregateMessage(kind, name, errors),
    reported(errors).shown.map((e) => ({ field: clip(e.field), message: formatErrorBody(e) })),
  );
}
