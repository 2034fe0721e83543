/**
 * Field errors worded exactly like k8s.io/apimachinery/pkg/util/validation/field, so users see the same messages
 * kubectl prints for a real API server, e.g.
 *   spec.ports[1].name: Required value
 *   spec.type: Unsupported value: "Foo": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"
 * and the aggregate `Service "x" is invalid: [a, b]` (brackets only when there is more than one).
 */
import { InvalidError } from '../errors.js';

export type FieldErrorType =
  'Required' | 'Invalid' | 'NotSupported' | 'Duplicate' | 'Forbidden' | 'TooLong' | 'TooMany';

export interface FieldError {
  type: FieldErrorType;
  field: string;
  /** The offending value, rendered the way apimachinery renders it (strings quoted, numbers bare). */
  value?: unknown;
  detail?: string;
}

function renderValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v === null || v === undefined) return 'null';
  return JSON.stringify(v);
}

export function formatFieldError(e: FieldError): string {
  switch (e.type) {
    case 'Required':
      return `${e.field}: Required value${e.detail ? `: ${e.detail}` : ''}`;
    case 'Invalid':
      return `${e.field}: Invalid value: ${renderValue(e.value)}${e.detail ? `: ${e.detail}` : ''}`;
    case 'NotSupported':
      return `${e.field}: Unsupported value: ${renderValue(e.value)}${e.detail ? `: ${e.detail}` : ''}`;
    case 'Duplicate':
      return `${e.field}: Duplicate value: ${renderValue(e.value)}${e.detail ? `: ${e.detail}` : ''}`;
    case 'Forbidden':
      return `${e.field}: Forbidden${e.detail ? `: ${e.detail}` : ''}`;
    case 'TooLong':
      return `${e.field}: Too long: ${e.detail ?? 'value is too long'}`;
    case 'TooMany':
      return `${e.field}: Too many: ${renderValue(e.value)}${e.detail ? `: ${e.detail}` : ''}`;
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
export const duplicate = (field: string, value: unknown): FieldError => ({ type: 'Duplicate', field, value });
export const forbidden = (field: string, detail: string): FieldError => ({ type: 'Forbidden', field, detail });
export const tooLong = (field: string, max: number): FieldError => ({
  type: 'TooLong',
  field,
  detail: `may not be more than ${max} bytes`,
});

/** `Service "x" is invalid: ...` — the text kubectl shows after "The Service "x" is invalid:". */
export function aggregateMessage(kind: string, name: string, errors: readonly FieldError[]): string {
  const parts = errors.map(formatFieldError);
  const body = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
  return `${kind} "${name}" is invalid: ${body}`;
}

/** Throws InvalidError when `errors` is non-empty; otherwise returns. */
export function throwIfInvalid(kind: string, name: string, errors: readonly FieldError[]): void {
  if (errors.length === 0) return;
  throw new InvalidError(
    aggregateMessage(kind, name, errors),
    errors.map((e) => ({ field: e.field, message: formatFieldError(e) })),
  );
}
