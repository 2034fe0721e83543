/**
 * What the write path does with a Gateway API object before storing it, in the apiextensions apiserver's order:
 * prune (unknown and null fields), default, validate. Failures are thrown as the apiserver words them for custom
 * resources, with the group-qualified kind: `Gateway.gateway.networking.k8s.io "gw" is invalid: ...`. Pure.
 *
 * With the status subresource (every kind here but ReferenceGrant) a create or main-resource update cannot set the
 * status: the given one is dropped, GatewayClass and Gateway start from their CRD's default status, and an update
 * keeps the stored one (the store does).
 */
import { throwIfInvalid } from '../field-errors.js';
import { defaultGatewaySpecOf, defaultGatewayStatus } from './defaults.js';
import { gatewaySchema, pruneGatewayObject, type StructuralSchema } from './schema.js';
import { GATEWAY_GROUP } from './types.js';
import {
  validateGatewayObject,
  validateGatewayStatus,
  validateGatewayUpdate,
  type GatewayKindName,
  type GatewayObjectLike,
} from './validation.js';

type Obj = Record<string, unknown> & GatewayObjectLike;

function schemaOf(o: Obj): StructuralSchema {
  const s = gatewaySchema(String(o.apiVersion), String(o.kind));
  if (!s) throw new Error(`no Gateway API schema for ${String(o.apiVersion)} ${String(o.kind)}`);
  return s;
}

const nameOf = (o: GatewayObjectLike): string => o.metadata?.name ?? '';
const qualified = (kind: string): string => `${kind}.${GATEWAY_GROUP}`;

/** A copy of `o` without unknown and null fields (metadata untouched). */
function pruned(o: Obj, schema: StructuralSchema): Obj {
  const { metadata, ...rest } = o;
  const out = pruneGatewayObject(rest, schema).value as Obj;
  return { ...out, apiVersion: o.apiVersion, kind: o.kind, metadata };
}

/** A new object: pruned, without the status a create may not set, defaulted, validated. */
export function prepareGatewayCreate<T extends Obj>(kind: GatewayKindName, input: T): T {
  const schema = schemaOf(input);
  const o = pruned(input, schema);
  delete o.status;
  defaultGatewaySpecOf(kind, o);
  if (kind === 'GatewayClass' || kind === 'Gateway') defaultGatewayStatus(kind, o);
  throwIfInvalid(qualified(kind), nameOf(o), validateGatewayObject(kind, o, schema));
  return o as T;
}

/** A replacement of `prev` (main resource): its status is the stored one, whatever `input` carries. */
export function prepareGatewayUpdate<T extends Obj>(kind: GatewayKindName, input: T, prev: Obj): T {
  const schema = schemaOf(input);
  const o = pruned(input, schema);
  delete o.status;
  defaultGatewaySpecOf(kind, o);
  throwIfInvalid(qualified(kind), nameOf(o), validateGatewayUpdate(kind, o, prev, schema));
  return o as T;
}

/** A status write, in place on `next` (= the stored object with the new status): pruned and defaulted. */
export function prepareGatewayStatus(kind: GatewayKindName, next: Obj): void {
  const schema = schemaOf(next);
  if (next.status === undefined || next.status === null) delete next.status;
  else next.status = (pruneGatewayObject({ status: next.status }, schema).value as Obj).status;
  defaultGatewayStatus(kind, next);
}

/** Validates a prepared status write; throws InvalidError. */
export function checkGatewayStatus(kind: GatewayKindName, next: Obj, prev: Obj): void {
  throwIfInvalid(qualified(kind), nameOf(prev), validateGatewayStatus(kind, next, prev, schemaOf(next)));
}
