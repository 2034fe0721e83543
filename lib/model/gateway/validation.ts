/**
 * Validation of the Gateway API kinds as the apiextensions apiserver validates the Gateway API CRDs (v1.6), with its
 * field paths and wording, so `kubectl apply` of a bad object fails here as it fails against a cluster:
 * - metadata as every custom resource's (names are DNS subdomains; namespaced or cluster-scoped);
 * - the OpenAPI schema (./schema.ts: types, required fields, enums, patterns, ranges, counts), derived from
 *   @kubernetes-models/gateway-api, plus the markers that package's schemas lack (GatewayClass spec.description
 *   length, metav1.Condition's own markers for status conditions);
 * - the CEL rules (x-kubernetes-validations) that matter for L4 gateways, as explicit checks with the upstream
 *   messages, reported like the apiserver reports a failed rule: `<path>: Invalid value: "<type>": <message>`.
 *   The rules implemented, and those that are not, are listed in docs/gateway.md ("Serving").
 * Pure and total: any JSON value gives field errors, never an exception. Run after pruning and defaulting
 * (./schema.ts, ./defaults.ts), as upstream validates the defaulted object.
 */
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { invalid, notSupported, tooLong, type FieldError } from '../field-errors.js';
import { isIP } from '../ip.js';
import { isDns1123Subdomain } from '../names.js';
import { validateObjectMeta, validateObjectMetaUpdate } from '../validation.js';
import { validateClusterObjectMeta } from '../validation-meta.js';
import { validateGatewayField, type StructuralSchema } from './schema.js';

type Obj = Record<string, unknown>;

const isRecord = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
/** CEL's has(): the field is present (after pruning, a present field is never null). */
const has = (o: Obj, k: string): boolean => o[k] !== undefined;
/** A failed CEL rule: the apiserver names the value by its schema type. */
const rule = (path: string, type: 'array' | 'object' | 'string', message: string): FieldError =>
  invalid(path, type, message);

const HOSTNAME = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const HOSTNAME_TEXT = String.raw`^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`;
const RFC1123 = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)$/;
const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$/;

// ---------------------------------------------------------------------------------------------------------------
// Gateway

/** The rules on spec.listeners (gateway_types.go, GatewaySpec.Listeners), in upstream order. */
function listenerRules(listeners: Obj[]): string[] {
  const failed: string[] = [];
  const proto = (l: Obj) => str(l.protocol) ?? '';
  const tls = (l: Obj) => (isRecord(l.tls) ? l.tls : undefined);
  const mode = (l: Obj) => str(tls(l)?.mode) ?? '';
  if (listeners.some((l) => ['HTTP', 'TCP', 'UDP'].includes(proto(l)) && has(l, 'tls'))) {
    failed.push("tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']");
  }
  if (listeners.some((l) => proto(l) === 'HTTPS' && has(l, 'tls') && mode(l) !== '' && mode(l) !== 'Terminate')) {
    failed.push('tls mode must be Terminate for protocol HTTPS');
  }
  if (listeners.some((l) => proto(l) === 'TLS' && !(tls(l) && has(tls(l)!, 'mode') && mode(l) !== ''))) {
    failed.push('tls mode must be set for protocol TLS');
  }
  if (listeners.some((l) => ['TCP', 'UDP'].includes(proto(l)) && has(l, 'hostname') && l.hostname !== '')) {
    failed.push("hostname must not be specified for protocols ['TCP', 'UDP']");
  }
  const names = listeners.map((l) => JSON.stringify(l.name ?? null));
  if (new Set(names).size !== names.length) failed.push('Listener name must be unique within the Gateway');
  const combos = listeners.map((l) => JSON.stringify([l.port ?? null, l.protocol ?? null, l.hostname ?? null]));
  if (new Set(combos).size !== combos.length) {
    failed.push('Combination of port, protocol and hostname must be unique for each listener');
  }
  return failed;
}

function listenerTLSRule(l: Obj, path: string): FieldError[] {
  const tls = l.tls;
  if (!isRecord(tls) || tls.mode !== 'Terminate') return [];
  const refs = list(tls.certificateRefs).length;
  const options = isRecord(tls.options) ? Object.keys(tls.options).length : 0;
  if (refs > 0 || options > 0) return [];
  return [rule(`${path}.tls`, 'object', 'certificateRefs or options must be specified when mode is Terminate')];
}

const uniqueValues = (addrs: Obj[], type: string): boolean => {
  const values = addrs.filter((a) => a.type === type && has(a, 'value')).map((a) => JSON.stringify(a.value));
  return new Set(values).size === values.length;
};

function addressRules(spec: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const addrs = list(spec.addresses);
  addrs.forEach((a, i) => {
    if (!isRecord(a) || a.type !== 'Hostname' || !has(a, 'value')) return;
    if (typeof a.value === 'string' && !HOSTNAME.test(a.value)) {
      const message = `Hostname value must be empty or contain only valid characters (matching ${HOSTNAME_TEXT})`;
      errs.push(rule(`spec.addresses[${i}]`, 'object', message));
    }
  });
  const objs = addrs.filter(isRecord);
  if (!uniqueValues(objs, 'IPAddress')) errs.push(rule('spec.addresses', 'array', 'IPAddress values must be unique'));
  if (!uniqueValues(objs, 'Hostname')) errs.push(rule('spec.addresses', 'array', 'Hostname values must be unique'));
  return errs;
}

/** GatewayInfrastructure labels/annotations: the key rules (the values' lengths are schema). */
function infrastructureRules(spec: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const infra = isRecord(spec.infrastructure) ? spec.infrastructure : {};
  for (const [field, noun] of [
    ['labels', 'label'],
    ['annotations', 'annotation'],
  ] as const) {
    const keys = isRecord(infra[field]) ? Object.keys(infra[field]) : [];
    const path = `spec.infrastructure.${field}`;
    if (keys.some((k) => !LABEL_KEY.test(k))) {
      const title = noun === 'label' ? 'Label' : 'Annotation';
      const msg = `${title} keys must be in the form of an optional DNS subdomain prefix followed by a required name segment of up to 63 characters.`;
      errs.push(rule(path, 'object', msg));
    }
    if (keys.some((k) => k.split('/')[0]!.length >= 253)) {
      const msg = `If specified, the ${noun} key's prefix must be a DNS subdomain not longer than 253 characters in total.`;
      errs.push(rule(path, 'object', msg));
    }
  }
  return errs;
}

function frontendTLSRules(spec: Obj): FieldError[] {
  const frontend = isRecord(spec.tls) && isRecord(spec.tls.frontend) ? spec.tls.frontend : undefined;
  const ports = list(frontend?.perPort).map((p) => JSON.stringify(isRecord(p) ? (p.port ?? null) : null));
  if (new Set(ports).size === ports.length) return [];
  return [rule('spec.tls.frontend.perPort', 'array', 'Port for TLS configuration must be unique within the Gateway')];
}

function gatewayRules(spec: Obj): FieldError[] {
  const listeners = list(spec.listeners).filter(isRecord);
  const errs = listenerRules(listeners).map((m) => rule('spec.listeners', 'array', m));
  list(spec.listeners).forEach((l, i) => {
    if (isRecord(l)) errs.push(...listenerTLSRule(l, `spec.listeners[${i}]`));
  });
  return [...errs, ...addressRules(spec), ...infrastructureRules(spec), ...frontendTLSRules(spec)];
}

function gatewayStatusRules(status: Obj): FieldError[] {
  const errs: FieldError[] = [];
  list(status.addresses).forEach((a, i) => {
    if (isRecord(a) && a.type === 'Hostname' && typeof a.value === 'string' && !HOSTNAME.test(a.value)) {
      const message = `Hostname value must only contain valid characters (matching ${HOSTNAME_TEXT})`;
      errs.push(rule(`status.addresses[${i}]`, 'object', message));
    }
  });
  return errs;
}

// ---------------------------------------------------------------------------------------------------------------
// Routes

/** A parentRef's identity as the CEL rules compare it: group, kind, name, and namespace with '' as unset. */
function parentKey(p: Obj): string {
  return JSON.stringify([p.group ?? null, p.kind ?? null, p.name ?? null, p.namespace || '']);
}
const sectionOf = (p: Obj): string => (typeof p.sectionName === 'string' ? p.sectionName : '');
const portOf = (p: Obj): number => (typeof p.port === 'number' ? p.port : 0);

/**
 * CommonRouteSpec.ParentRefs, the experimental-channel rules (TCPRoute and UDPRoute are experimental in v1alpha2):
 * references to the same parent must all set sectionName or port or none, and differ in them.
 */
function parentRefRules(spec: Obj): FieldError[] {
  const refs = list(spec.parentRefs).filter(isRecord);
  let consistent = true;
  let unique = true;
  for (const p1 of refs) {
    const same = refs.filter((p2) => parentKey(p1) === parentKey(p2));
    if (
      same.some((p2) => (sectionOf(p1) === '') !== (sectionOf(p2) === '') || (portOf(p1) === 0) !== (portOf(p2) === 0))
    ) {
      consistent = false;
    }
    if (same.filter((p2) => sectionOf(p1) === sectionOf(p2) && portOf(p1) === portOf(p2)).length !== 1) unique = false;
  }
  const errs: FieldError[] = [];
  const tail = 'when parentRefs includes 2 or more references to the same parent';
  if (!consistent) errs.push(rule('spec.parentRefs', 'array', `sectionName or port must be specified ${tail}`));
  if (!unique) errs.push(rule('spec.parentRefs', 'array', `sectionName or port must be unique ${tail}`));
  return errs;
}

function backendRefRules(spec: Obj): FieldError[] {
  const errs: FieldError[] = [];
  list(spec.rules).forEach((r, i) => {
    if (!isRecord(r)) return;
    list(r.backendRefs).forEach((b, j) => {
      if (!isRecord(b) || b.group !== '' || b.kind !== 'Service' || has(b, 'port')) return;
      errs.push(rule(`spec.rules[${i}].backendRefs[${j}]`, 'object', 'Must have port for Service reference'));
    });
  });
  const names = list(spec.rules)
    .filter((r): r is Obj => isRecord(r) && typeof r.name === 'string')
    .map((r) => r.name);
  if (new Set(names).size !== names.length)
    errs.push(rule('spec.rules', 'array', 'Rule name must be unique within the route'));
  return errs;
}

function tlsHostnameRules(spec: Obj): FieldError[] {
  const hosts = list(spec.hostnames).filter((h): h is string => typeof h === 'string');
  const errs: FieldError[] = [];
  if (hosts.some((h) => isIP(h))) errs.push(rule('spec.hostnames', 'array', 'Hostnames cannot contain an IP'));
  if (hosts.some((h) => !h.includes('*') && !RFC1123.test(h))) {
    errs.push(rule('spec.hostnames', 'array', 'Hostnames must be valid based on RFC-1123'));
  }
  if (hosts.some((h) => h.includes('*') && !(h.startsWith('*.') && RFC1123.test(h.slice(2))))) {
    const msg =
      'Wildcards on hostnames must be the first label, and the rest of hostname must be valid based on RFC-1123';
    errs.push(rule('spec.hostnames', 'array', msg));
  }
  return errs;
}

// ---------------------------------------------------------------------------------------------------------------
// Status conditions (metav1.Condition's kubebuilder markers, which the package's schema does not carry)

const CONDITION_TYPE =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$/;
const CONDITION_REASON = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;
const inBody = (path: string, text: string) => `${path} in body ${text}`;

function conditionErrors(c: unknown, path: string): FieldError[] {
  if (!isRecord(c)) return [];
  const errs: FieldError[] = [];
  const type = str(c.type);
  if (type !== undefined) {
    if (type.length > 316) errs.push(tooLong(`${path}.type`, 316));
    if (!CONDITION_TYPE.test(type)) {
      errs.push(invalid(`${path}.type`, type, inBody(`${path}.type`, `should match '${CONDITION_TYPE.source}'`)));
    }
  }
  if (typeof c.status === 'string' && !['True', 'False', 'Unknown'].includes(c.status)) {
    errs.push(notSupported(`${path}.status`, c.status, ['True', 'False', 'Unknown']));
  }
  const reason = str(c.reason);
  if (reason !== undefined) {
    if (reason.length > 1024) errs.push(tooLong(`${path}.reason`, 1024));
    if (reason.length < 1) {
      errs.push(invalid(`${path}.reason`, reason, inBody(`${path}.reason`, 'should be at least 1 chars long')));
    } else if (!CONDITION_REASON.test(reason)) {
      errs.push(
        invalid(`${path}.reason`, reason, inBody(`${path}.reason`, `should match '${CONDITION_REASON.source}'`)),
      );
    }
  }
  if (typeof c.message === 'string' && c.message.length > 32768) errs.push(tooLong(`${path}.message`, 32768));
  if (typeof c.observedGeneration === 'number' && c.observedGeneration < 0) {
    const p = `${path}.observedGeneration`;
    errs.push(invalid(p, c.observedGeneration, inBody(p, 'should be greater than or equal to 0')));
  }
  return errs;
}

function statusConditionErrors(status: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const each = (conds: unknown, path: string) =>
    list(conds).forEach((c, i) => errs.push(...conditionErrors(c, `${path}[${i}]`)));
  each(status.conditions, 'status.conditions');
  list(status.listeners).forEach((l, i) => isRecord(l) && each(l.conditions, `status.listeners[${i}].conditions`));
  list(status.parents).forEach((p, i) => isRecord(p) && each(p.conditions, `status.parents[${i}].conditions`));
  return errs;
}

// ---------------------------------------------------------------------------------------------------------------
// Entry points

export type GatewayKindName = 'GatewayClass' | 'Gateway' | 'ReferenceGrant' | 'TLSRoute' | 'TCPRoute' | 'UDPRoute';

export interface GatewayObjectLike {
  metadata?: V1ObjectMeta;
  spec?: unknown;
  status?: unknown;
}

function specRules(kind: GatewayKindName, spec: unknown): FieldError[] {
  if (!isRecord(spec)) return [];
  switch (kind) {
    case 'GatewayClass':
      return typeof spec.description === 'string' && [...spec.description].length > 64
        ? [tooLong('spec.description', 64)]
        : [];
    case 'Gateway':
      return gatewayRules(spec);
    case 'TLSRoute':
      return [...parentRefRules(spec), ...backendRefRules(spec), ...tlsHostnameRules(spec)];
    case 'TCPRoute':
    case 'UDPRoute':
      return [...parentRefRules(spec), ...backendRefRules(spec)];
    case 'ReferenceGrant':
      return [];
  }
}

function metadataErrors(kind: GatewayKindName, meta: V1ObjectMeta | undefined): FieldError[] {
  return kind === 'GatewayClass'
    ? validateClusterObjectMeta(meta, isDns1123Subdomain)
    : validateObjectMeta(meta, isDns1123Subdomain);
}

/** A new object (create), defaulted: metadata, the spec's schema and the spec's rules. */
export function validateGatewayObject(
  kind: GatewayKindName,
  o: GatewayObjectLike,
  schema: StructuralSchema,
): FieldError[] {
  return [
    ...metadataErrors(kind, o.metadata),
    ...validateGatewayField(schema, 'spec', o.spec),
    ...specRules(kind, o.spec),
  ];
}

/** A replacement of `prev` (main resource): as on create, plus the immutable fields. */
export function validateGatewayUpdate(
  kind: GatewayKindName,
  o: GatewayObjectLike,
  prev: GatewayObjectLike,
  schema: StructuralSchema,
): FieldError[] {
  const errs = [...validateObjectMetaUpdate(o.metadata, prev.metadata), ...validateGatewayObject(kind, o, schema)];
  if (kind === 'GatewayClass') {
    const now = isRecord(o.spec) ? o.spec.controllerName : undefined;
    const before = isRecord(prev.spec) ? prev.spec.controllerName : undefined;
    if (JSON.stringify(now) !== JSON.stringify(before)) {
      errs.push(rule('spec.controllerName', 'string', 'Value is immutable'));
    }
  }
  return errs;
}

/** A status-subresource write (`next` = `prev` with the new status, defaulted): the status's schema and rules. */
export function validateGatewayStatus(
  kind: GatewayKindName,
  next: GatewayObjectLike,
  prev: GatewayObjectLike,
  schema: StructuralSchema,
): FieldError[] {
  const errs = [...validateObjectMetaUpdate(next.metadata, prev.metadata)];
  if (next.status === undefined) return errs;
  errs.push(...validateGatewayField(schema, 'status', next.status));
  if (isRecord(next.status)) {
    errs.push(...statusConditionErrors(next.status));
    if (kind === 'Gateway') errs.push(...gatewayStatusRules(next.status));
  }
  return errs;
}
