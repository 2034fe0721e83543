/**
 * `fieldValidation=Strict|Warn|Ignore` (kubectl sends Strict), on top of lib/model's one decoding step: fields the
 * kind's schema does not know are a 400 BadRequest (`strict decoding error: unknown field "spec.selectr"`), a
 * warning, or ignored, and are dropped from what is stored, as the apiserver's decoder drops them; fields of the
 * wrong type fail decoding whatever the mode. Without a mode the apiserver warns.
 */
import { DecodeError } from '../errors.js';
import { decode } from '../model/decode.js';
import { MAX_REPORTED_ERRORS } from '../model/field-errors.js';
import { gatewaySchema, pruneGatewayObject } from '../model/gateway/schema.js';
import { KIND_SCHEMAS } from '../model/schema.js';
import { apiVersionOf, type ApiObject, type ResourceInfo } from './backend.js';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export interface CheckedBody {
  object: ApiObject;
  warnings: string[];
}

/** Decodes a request body of kind `r`; throws InvalidError/DecodeError for what the mode refuses. */
export function checkFields(r: ResourceInfo, obj: ApiObject, mode: FieldValidation | undefined): CheckedBody {
  const apiVersion = apiVersionOf(r);
  const gateway = gatewaySchema(apiVersion, r.kind);
  if (gateway) return checkCustomFields(r, obj, mode, pruneGatewayObject(obj, gateway).unknown);
  if (!KIND_SCHEMAS.some((k) => k.kind === r.kind && k.apiVersion === apiVersion)) return { object: obj, warnings: [] };
  // What the REST layer decoded from JSON never holds `undefined`; objects built in code may (a field set to
  // undefined means "unset", as JSON's absence does). The kind and version come from the URL when the body omits them.
  const plain = JSON.parse(JSON.stringify({ ...obj, apiVersion, kind: r.kind })) as unknown;
  const out = decode(plain, { strict: mode === 'Strict' });
  return { object: out.object as unknown as ApiObject, warnings: mode === 'Ignore' ? [] : out.warnings };
}

/**
 * Custom resources (the Gateway API kinds): the apiextensions apiserver prunes fields its structural schema does not
 * declare (the write path does, lib/model/gateway); fieldValidation=Strict refuses them with the same strict decoding
 * error, Warn (and no mode) reports them as warnings.
 */
function checkCustomFields(
  r: ResourceInfo,
  obj: ApiObject,
  mode: FieldValidation | undefined,
  unknown: string[],
): CheckedBody {
  const listed = unknown.slice(0, MAX_REPORTED_ERRORS).map((p) => `unknown field ${JSON.stringify(p)}`);
  if (unknown.length > MAX_REPORTED_ERRORS) listed.push(`... and ${unknown.length - MAX_REPORTED_ERRORS} more`);
  if (mode === 'Strict' && listed.length > 0) {
    throw new DecodeError(
      `${r.kind} in version ${JSON.stringify(r.version)} cannot be handled as a ${r.kind}: strict decoding error: ${listed.join(', ')}`,
      unknown.slice(0, MAX_REPORTED_ERRORS).map((p) => ({ field: p, message: 'unknown field' })),
    );
  }
  return { object: obj, warnings: mode === 'Ignore' ? [] : listed };
}
