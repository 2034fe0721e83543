/**
 * `fieldValidation=Strict|Warn|Ignore` (kubectl sends Strict), on top of lib/model's one decoding step: fields the
 * kind's schema does not know are a 400 BadRequest (`strict decoding error: unknown field "spec.selectr"`), a
 * warning, or ignored, and are dropped from what is stored, as the apiserver's decoder drops them; fields of the
 * wrong type fail decoding whatever the mode. Without a mode the apiserver warns.
 */
import { decode } from '../model/decode.js';
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
  if (!KIND_SCHEMAS.some((k) => k.kind === r.kind && k.apiVersion === apiVersion)) return { object: obj, warnings: [] };
  // What the REST layer decoded from JSON never holds `undefined`; objects built in code may (a field set to
  // undefined means "unset", as JSON's absence does). The kind and version come from the URL when the body omits them.
  const plain = JSON.parse(JSON.stringify({ ...obj, apiVersion, kind: r.kind })) as unknown;
  const out = decode(plain, { strict: mode === 'Strict' });
  return { object: out.object as unknown as ApiObject, warnings: mode === 'Ignore' ? [] : out.warnings };
}
