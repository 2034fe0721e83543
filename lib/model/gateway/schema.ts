/**
 * The OpenAPI part of a Gateway API object's validation, as the apiextensions apiserver runs it for the Gateway API
 * CRDs, over the structural schemas of ./schema.json (generated from @kubernetes-models/gateway-api's declarations
 * and compiled validators by scripts/openapi/generate-gateway.ts; never edited by hand):
 * - pruning: fields the schema does not declare are dropped (and reported, for fieldValidation=Strict|Warn), and a
 *   null field is dropped as the apiserver drops nulls of non-nullable fields before defaulting;
 * - validation: JSON types, required fields, enum, pattern, length, range, item and property counts, int32/int64 and
 *   date-time formats, with the field paths and wording of the apiserver's schema validation (kube-openapi errors as
 *   apiextensions turns them into field errors), e.g.
 *     spec.listeners[0].port: Invalid value: 70000: spec.listeners[0].port in body should be less than or equal to 65535
 * Pure and total: any JSON value gives errors, never an exception.
 */
import { notSupported, required, tooLong, typeInvalid, invalid, type FieldError } from '../field-errors.js';
import SCHEMAS from './schema.json' with { type: 'json' };

export interface StructuralSchema {
  type?: string;
  format?: string;
  enum?: unknown[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  properties?: Record<string, StructuralSchema>;
  additionalProperties?: StructuralSchema;
  items?: StructuralSchema;
  required?: string[];
  allOf?: unknown[];
}

const SCHEMA_BY_GVK = SCHEMAS as unknown as Record<string, StructuralSchema>;

/** The schema of `<group>/<version>/<kind>`, if it is a served Gateway API kind. */
export function gatewaySchema(apiVersion: string, kind: string): StructuralSchema | undefined {
  const key = `${apiVersion}/${kind}`;
  return Object.hasOwn(SCHEMA_BY_GVK, key) ? SCHEMA_BY_GVK[key] : undefined;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function jsonType(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

const child = (path: string, key: string): string => (path ? `${path}.${key}` : key);
/** `metadata` and the `allOf` references (ObjectMeta) are validated as metadata, not here. */
const opaque = (s: StructuralSchema): boolean => s.allOf !== undefined;

// ---------------------------------------------------------------------------------------------------------------
// Pruning

export interface Pruned {
  value: unknown;
  /** Paths of the dropped unknown fields (`spec.listeners[0].prot`), as the strict decoder names them. */
  unknown: string[];
}

function pruneValue(v: unknown, s: StructuralSchema, path: string, unknown: string[]): unknown {
  if (opaque(s)) return v;
  if (Array.isArray(v)) {
    return s.items ? v.map((item, i) => pruneValue(item, s.items!, `${path}[${i}]`, unknown)) : v;
  }
  if (!isRecord(v)) return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    const item = v[k];
    const p = child(path, k);
    let s2: StructuralSchema | undefined;
    if (s.properties) s2 = Object.hasOwn(s.properties, k) ? s.properties[k] : undefined;
    else s2 = s.additionalProperties;
    if (!s2) {
      if (s.properties || s.type === 'object') unknown.push(p);
      continue;
    }
    if (item === null && s.properties) continue;
    Object.defineProperty(out, k, {
      value: pruneValue(item, s2, p, unknown),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/**
 * `obj` without the fields its kind's schema does not declare and without null fields. apiVersion, kind and metadata
 * are kept as they are (metadata is validated as every object's is).
 */
export function pruneGatewayObject(obj: Record<string, unknown>, schema: StructuralSchema): Pruned {
  const unknown: string[] = [];
  const value = pruneValue(obj, schema, '', unknown);
  return { value, unknown: unknown.filter((p) => p !== 'apiVersion' && p !== 'kind' && p !== 'metadata') };
}

// ---------------------------------------------------------------------------------------------------------------
// Validation

const INT32 = 2 ** 31;
const INT64 = 2 ** 63;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

const patterns = new Map<string, RegExp | undefined>();
function patternOf(source: string): RegExp | undefined {
  if (!patterns.has(source)) {
    try {
      patterns.set(source, new RegExp(source, 'u'));
    } catch {
      patterns.set(source, undefined);
    }
  }
  return patterns.get(source);
}

const body = (path: string, text: string): string => `${path} in body ${text}`;

function typeErrors(v: unknown, s: StructuralSchema, path: string): FieldError[] {
  const t = jsonType(v);
  const want = s.type;
  if (!want) return [];
  if (want === 'integer' ? t !== 'integer' : want === 'number' ? t !== 'integer' && t !== 'number' : t !== want) {
    return [typeInvalid(path || '<root>', t, want)];
  }
  return [];
}

function scalarErrors(v: unknown, s: StructuralSchema, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (s.enum && !s.enum.includes(v)) errs.push(notSupported(path, v, s.enum.map(String)));
  if (typeof v === 'number') {
    if (s.format === 'int32' && !(v >= -INT32 && v < INT32))
      errs.push(invalid(path, v, body(path, 'must be of type int32')));
    if (s.format === 'int64' && !(v >= -INT64 && v < INT64))
      errs.push(invalid(path, v, body(path, 'must be of type int64')));
    if (s.minimum !== undefined && v < s.minimum) {
      errs.push(invalid(path, v, body(path, `should be greater than or equal to ${s.minimum}`)));
    }
    if (s.maximum !== undefined && v > s.maximum) {
      errs.push(invalid(path, v, body(path, `should be less than or equal to ${s.maximum}`)));
    }
  }
  if (typeof v === 'string') {
    const length = [...v].length;
    if (s.maxLength !== undefined && length > s.maxLength) errs.push(tooLong(path, s.maxLength));
    if (s.minLength !== undefined && length < s.minLength) {
      errs.push(invalid(path, v, body(path, `should be at least ${s.minLength} chars long`)));
    }
    const re = s.pattern === undefined ? undefined : patternOf(s.pattern);
    if (re && !re.test(v)) errs.push(invalid(path, v, body(path, `should match '${s.pattern}'`)));
    if (s.format === 'date-time' && (!RFC3339.test(v) || Number.isNaN(Date.parse(v)))) {
      errs.push(invalid(path, v, body(path, 'must be of type date-time')));
    }
  }
  return errs;
}

const tooMany = (path: string, actual: number, max: number): FieldError => ({
  type: 'TooMany',
  field: path,
  value: actual,
  detail: `must have at most ${max} items`,
});

function countErrors(v: unknown, s: StructuralSchema, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (Array.isArray(v)) {
    if (s.maxItems !== undefined && v.length > s.maxItems) errs.push(tooMany(path, v.length, s.maxItems));
    if (s.minItems !== undefined && v.length < s.minItems) {
      errs.push(invalid(path, v.length, body(path, `should have at least ${s.minItems} items`)));
    }
  } else if (isRecord(v)) {
    const n = Object.keys(v).length;
    if (s.maxProperties !== undefined && n > s.maxProperties) errs.push(tooMany(path, n, s.maxProperties));
    if (s.minProperties !== undefined && n < s.minProperties) {
      errs.push(invalid(path, n, body(path, `should have at least ${s.minProperties} properties`)));
    }
  }
  return errs;
}

function validateValue(v: unknown, s: StructuralSchema, path: string, depth: number): FieldError[] {
  if (opaque(s)) return [];
  const typeErrs = typeErrors(v, s, path);
  if (typeErrs.length > 0 || depth > 64) return typeErrs;
  const errs = [...scalarErrors(v, s, path), ...countErrors(v, s, path)];
  if (Array.isArray(v) && s.items) {
    v.forEach((item, i) => errs.push(...validateValue(item, s.items!, `${path}[${i}]`, depth + 1)));
  } else if (isRecord(v)) {
    for (const r of s.required ?? [])
      if (!Object.hasOwn(v, r) || v[r] === undefined) errs.push(required(child(path, r)));
    for (const k of Object.keys(v)) {
      const s2 = s.properties ? (Object.hasOwn(s.properties, k) ? s.properties[k] : undefined) : s.additionalProperties;
      if (s2) errs.push(...validateValue(v[k], s2, s.properties ? child(path, k) : `${path}[${k}]`, depth + 1));
    }
  }
  return errs;
}

/**
 * Schema errors of `value` at `path` (`spec`, `status`), against the property `field` of the kind's schema. The
 * value should be pruned first (unknown fields are not errors here).
 */
export function validateGatewayField(schema: StructuralSchema, field: 'spec' | 'status', value: unknown): FieldError[] {
  const s = schema.properties?.[field];
  if (!s) return [];
  if (value === undefined) return (schema.required ?? []).includes(field) ? [required(field)] : [];
  return validateValue(value, s, field, 0);
}
