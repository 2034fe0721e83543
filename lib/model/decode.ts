/**
 * The typed decoding step: every entry point (manifest files, API request bodies, events, a cluster mirror) turns an
 * untrusted JSON value into a typed object here, before defaulting and validation, as kube-apiserver decodes a body
 * into its Go type before anything else looks at it. What comes out has exactly the schema's types
 * (lib/model/schema.ts), so later code may trust `typeof` without checking.
 *
 * Rules, and where they come from:
 * - only own properties are read, and schema lookups are own-property lookups: a key named `valueOf`, `constructor`,
 *   `__proto__` or `toString` is an unknown field like any other, never an inherited member;
 * - `kind` and `apiVersion` are read as strings first (apimachinery's SimpleMetaFactory); the kind must be one the
 *   schema knows for that apiVersion;
 * - a wrong JSON type, a null array element or map value, an integer out of its int32/int64 range, a malformed
 *   timestamp: a field.TypeInvalid error worded as the apiserver's schema validation words it
 *   (`spec.ports[0]: Invalid value: "null": spec.ports[0] in body must be of type object: "null"`); a null field is
 *   unset, as Go's decoder leaves it;
 * - unknown fields: under fieldValidation=Strict the apiserver's strict decoding error (`unknown field "spec.x"`),
 *   otherwise dropped and reported as warnings (fieldValidation=Warn);
 * - nesting deeper than MAX_NESTING_DEPTH is refused: no object of these kinds nests nearly that deep, and the limit
 *   keeps every later recursive step (cloning, JSON encoding) far from the stack limit.
 * Nothing here throws anything but InvalidError (DecodeError for what the apiserver answers with 400).
 */
import type {
  CoreV1Event,
  V1EndpointSlice,
  V1Endpoints,
  V1Namespace,
  V1Node,
  V1Pod,
  V1Service,
} from '@kubernetes/client-node';
import { DecodeError } from '../errors.js';
import { clip, invalid, MAX_REPORTED_ERRORS, throwIfInvalid, typeInvalid, type FieldError } from './field-errors.js';
import { KIND_SCHEMAS, type ObjectSchema, type Schema } from './schema.js';

export type ServiceObject = V1Service & { apiVersion: 'v1'; kind: 'Service' };
export type PodObject = V1Pod & { apiVersion: 'v1'; kind: 'Pod' };
export type EndpointsObject = V1Endpoints & { apiVersion: 'v1'; kind: 'Endpoints' };
export type EndpointSliceObject = V1EndpointSlice & { apiVersion: 'discovery.k8s.io/v1'; kind: 'EndpointSlice' };
export type NamespaceObject = V1Namespace & { apiVersion: 'v1'; kind: 'Namespace' };
export type EventObject = CoreV1Event & { apiVersion: 'v1'; kind: 'Event' };
export type NodeObject = V1Node & { apiVersion: 'v1'; kind: 'Node' };
/** Every object the decoding step produces, discriminated by `kind`. */
export type DecodedObject =
  ServiceObject | PodObject | EndpointsObject | EndpointSliceObject | NamespaceObject | EventObject | NodeObject;

export interface DecodeOptions {
  /** fieldValidation=Strict: unknown fields are errors. Otherwise they are dropped and returned as warnings. */
  strict: boolean;
}

export interface Decoded<T extends DecodedObject = DecodedObject> {
  object: T;
  /** `unknown field "spec.x"`, one per dropped field (non-strict only), as the apiserver's Warning headers. */
  warnings: string[];
}

/** Containers inside containers; the deepest object of the served kinds nests about 12 levels. */
export const MAX_NESTING_DEPTH = 100;

/**
 * kube-apiserver's request body limit (3 MiB): a larger body is refused with 413 before it is decoded. The manifest
 * reader holds each document to it; the REST layer is to hold request bodies to it before parsing them.
 */
export const MAX_REQUEST_BYTES = 3 * 1024 * 1024;

const isPlainObject = (v: unknown): v is Record<string, unknown> => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
};

/** The JSON type name the apiserver reports ("string", "integer", "number", "object", "array", "boolean", "null"). */
export function jsonType(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  if (typeof v === 'string' || typeof v === 'boolean') return typeof v;
  return isPlainObject(v) ? 'object' : typeof v;
}

/**
 * Sets an own data property. Plain assignment of `__proto__` would replace the object's prototype instead (it is the
 * only accessor on Object.prototype; assigning `constructor` or `valueOf` creates an own property).
 */
function defineOwn(o: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
  else o[key] = value;
}

// ---------------------------------------------------------------------------------------------------------------
// kind and apiVersion

/** The Go struct apimachinery decodes first, named as encoding/json names it in its errors. */
const TYPE_META_STRUCT =
  'struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }';

/**
 * Reads `apiVersion` and `kind` the way apimachinery's SimpleMetaFactory does, before anything else: the value must be
 * a JSON object and both fields strings when present (null and "" mean absent). Throws DecodeError otherwise.
 */
export function typeMetaOf(raw: unknown): { apiVersion?: string; kind?: string } {
  const parseError = (detail: string) => new DecodeError(`couldn't get version/kind; json parse error: ${detail}`);
  if (!isPlainObject(raw)) {
    throw parseError(`json: cannot unmarshal ${jsonType(raw)} into Go value of type ${TYPE_META_STRUCT}`);
  }
  const out: { apiVersion?: string; kind?: string } = {};
  for (const k of Object.keys(raw)) {
    if (k !== 'apiVersion' && k !== 'kind') continue;
    const v = raw[k];
    if (v === null || v === undefined) continue;
    if (typeof v !== 'string') {
      throw parseError(`json: cannot unmarshal ${jsonType(v)} into Go struct field .${k} of type string`);
    }
    if (v !== '') out[k] = v;
  }
  return out;
}

/** The JSON text of a value for a message, bounded (runtime.NewMissingKindErr echoes the whole body). */
function excerpt(raw: unknown): string {
  try {
    return clip(JSON.stringify(raw) ?? '', 256);
  } catch {
    return '<unprintable>';
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The walk

interface Walk {
  errs: FieldError[];
  unknown: string[];
}

const childPath = (path: string, key: string): string => (path ? `${path}.${clip(key, 256)}` : clip(key, 256));
const keyPath = (path: string, key: string): string => `${path}[${clip(key, 256)}]`;

const INT32 = 2 ** 31;
const INT64 = 2 ** 63;
// metav1.Time is time.RFC3339; Go's parser also takes fractional seconds (MicroTime's form).
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
// resource.Quantity's own syntax check.
const QUANTITY = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;

/** A leaf value checked against its scalar type; undefined (with an error recorded) when it does not fit. */
function decodeScalar(v: unknown, s: Exclude<Schema, object>, path: string, depth: number, w: Walk): unknown {
  const t = jsonType(v);
  const bad = (expected: string, got = t) => void w.errs.push(typeInvalid(path, got, expected));
  switch (s) {
    case 'string':
      return t === 'string' ? v : bad('string');
    case 'boolean':
      return t === 'boolean' ? v : bad('boolean');
    case 'int32':
    case 'int64': {
      if (t !== 'integer') return bad('integer');
      const limit = s === 'int32' ? INT32 : INT64;
      return (v as number) >= -limit && (v as number) < limit ? v : bad(s, String(v));
    }
    case 'int-or-string':
      if (t === 'string') return v;
      if (t === 'integer') return (v as number) >= -INT32 && (v as number) < INT32 ? v : bad('int32', String(v));
      return bad('int-or-string');
    case 'date-time':
      if (t !== 'string') return bad('string');
      return RFC3339.test(v as string) && !Number.isNaN(Date.parse(v as string)) ? v : bad('date-time', v as string);
    case 'quantity':
      if (t === 'integer' || (t === 'number' && Number.isFinite(v))) return v;
      if (t !== 'string') return bad('string');
      return QUANTITY.test(v as string) ? v : bad('quantity', v as string);
    case 'json':
      return copyJson(v, path, depth, w);
  }
}

/** Any JSON value, copied with own properties only; non-JSON values (Infinity, NaN, functions) are refused. */
function copyJson(v: unknown, path: string, depth: number, w: Walk): unknown {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') {
    if (Number.isFinite(v)) return v;
    return void w.errs.push(invalid(path, String(v), 'must be a finite JSON number'));
  }
  if (!Array.isArray(v) && !isPlainObject(v)) return void w.errs.push(typeInvalid(path, jsonType(v), 'json'));
  if (depth > MAX_NESTING_DEPTH) return tooDeep(v, path, w);
  if (Array.isArray(v)) return v.map((item, i) => copyJson(item, `${path}[${i}]`, depth + 1, w) ?? null);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    const c = copyJson(v[k], childPath(path, k), depth + 1, w);
    if (c !== undefined) defineOwn(out, k, c);
  }
  return out;
}

function tooDeep(v: unknown, path: string, w: Walk): undefined {
  w.errs.push(invalid(path, jsonType(v), `must not be nested more than ${MAX_NESTING_DEPTH} levels deep`));
  return undefined;
}

function decodeValue(v: unknown, s: Schema, path: string, depth: number, w: Walk): unknown {
  if (typeof s === 'string') return decodeScalar(v, s, path, depth, w);
  if (depth > MAX_NESTING_DEPTH) return tooDeep(v, path, w);
  if ('array' in s) {
    if (!Array.isArray(v)) return void w.errs.push(typeInvalid(path, jsonType(v), 'array'));
    const out: unknown[] = [];
    v.forEach((item, i) => {
      const p = `${path}[${i}]`;
      // A null element is not "unset": it is a value of the wrong type.
      const d =
        item === null || item === undefined
          ? typeError(p, item, s.array, w)
          : decodeValue(item, s.array, p, depth + 1, w);
      if (d !== undefined) out.push(d);
    });
    return out;
  }
  if ('map' in s) {
    if (!isPlainObject(v)) return void w.errs.push(typeInvalid(path, jsonType(v), 'object'));
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) {
      const item = v[k];
      // Fast path for string maps (labels, annotations, selectors): no path is built for a value that fits.
      if (s.map === 'string' && typeof item === 'string') {
        defineOwn(out, k, item);
        continue;
      }
      const p = keyPath(path, k);
      const d =
        item === null || item === undefined ? typeError(p, item, s.map, w) : decodeValue(item, s.map, p, depth + 1, w);
      if (d !== undefined) defineOwn(out, k, d);
    }
    return out;
  }
  return decodeObject(v, s, path, depth, w);
}

const schemaTypeName = (s: Schema): string =>
  typeof s !== 'string' ? ('array' in s ? 'array' : 'object') : s === 'int32' || s === 'int64' ? 'integer' : s;

function typeError(path: string, v: unknown, s: Schema, w: Walk): undefined {
  w.errs.push(typeInvalid(path, jsonType(v), schemaTypeName(s)));
  return undefined;
}

function decodeObject(v: unknown, s: ObjectSchema, path: string, depth: number, w: Walk): unknown {
  if (!isPlainObject(v)) return void w.errs.push(typeInvalid(path || '<root>', jsonType(v), 'object'));
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    const p = childPath(path, k);
    const item = v[k];
    let d: unknown;
    if (Object.hasOwn(s.fields, k)) {
      // A null field is unset, as Go's decoder leaves a field it reads null into.
      if (item === null || item === undefined) continue;
      d = decodeValue(item, s.fields[k] as Schema, p, depth + 1, w);
    } else if (s.open) {
      d = copyJson(item, p, depth + 1, w);
    } else {
      w.unknown.push(p);
      continue;
    }
    if (d !== undefined) defineOwn(out, k, d);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------

/** `unknown field "a"`, as the apiserver lists strict decoding errors (bounded like validation messages). */
function unknownFieldList(paths: readonly string[]): string[] {
  const listed = paths.slice(0, MAX_REPORTED_ERRORS).map((p) => `unknown field ${JSON.stringify(p)}`);
  if (paths.length > MAX_REPORTED_ERRORS) listed.push(`... and ${paths.length - MAX_REPORTED_ERRORS} more`);
  return listed;
}

/**
 * Decodes one object of a served kind. Returns the typed object (a fresh one: nothing of `raw` is shared) and, when
 * not strict, the warnings for the unknown fields it dropped. Throws InvalidError for wrong types (listing every
 * one), DecodeError for what cannot be decoded at all or for unknown fields under strict decoding.
 */
export function decode(raw: unknown, opts: DecodeOptions): Decoded {
  const { apiVersion, kind } = typeMetaOf(raw);
  if (kind === undefined) throw new DecodeError(`Object 'Kind' is missing in '${excerpt(raw)}'`);
  if (apiVersion === undefined) throw new DecodeError(`Object 'apiVersion' is missing in '${excerpt(raw)}'`);
  const known = KIND_SCHEMAS.find((k) => k.kind === kind && k.apiVersion === apiVersion);
  if (!known) {
    throw new DecodeError(
      `no kind ${JSON.stringify(clip(kind, 256))} is registered for version ${JSON.stringify(clip(apiVersion, 256))} in scheme "pkg/api/legacyscheme/scheme.go:30"`,
    );
  }
  const w: Walk = { errs: [], unknown: [] };
  const body = decodeObject(raw, known.schema, '', 1, w) as Record<string, unknown>;
  const meta = (raw as Record<string, unknown>).metadata;
  const name = isPlainObject(meta) && typeof meta.name === 'string' ? meta.name : '';
  throwIfInvalid(kind, name, w.errs);
  const listed = unknownFieldList(w.unknown);
  if (opts.strict && listed.length > 0) {
    const version = apiVersion.slice(apiVersion.indexOf('/') + 1);
    throw new DecodeError(
      `${kind} in version ${JSON.stringify(version)} cannot be handled as a ${kind}: strict decoding error: ${listed.join(', ')}`,
      w.unknown.slice(0, MAX_REPORTED_ERRORS).map((p) => ({ field: p, message: 'unknown field' })),
    );
  }
  const object: Record<string, unknown> = { apiVersion, kind };
  for (const k of Object.keys(body)) defineOwn(object, k, body[k]);
  return { object: object as unknown as DecodedObject, warnings: listed };
}
