/**
 * Validation the API server applies to every object, and to the kinds beyond Services/Pods/Endpoints that the API
 * serves (Namespaces, Events, Nodes, EndpointSlices), with the apiserver's field paths and wording:
 * - apimachinery ValidateObjectMetaAccessor (cluster-scoped variant), finalizer names, and the update rule that a
 *   deleting object takes no new finalizers;
 * - ValidateNamespace (name is a DNS-1123 label);
 * - core/v1 Events: legacyValidateEvent, which is all the core/v1 API applies (pkg/apis/core/validation/events.go:
 *   the stricter reportingController/action/eventTime rules apply to events.k8s.io/v1 only, and to core/v1 events
 *   only when they set eventTime).
 */
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { forbidden, invalid, required, type FieldError } from './field-errors.js';
import { isDns1123Label, isDns1123Subdomain, isQualifiedName } from './names.js';
import { validateAnnotations, validateLabels } from './validation.js';

/** Finalizer names without a domain that the API server accepts (metav1.FinalizerOrphanDependents, ...). */
const STANDARD_FINALIZERS = new Set(['kubernetes', 'orphan', 'foregroundDeletion']);

/** ValidateFinalizers: qualified names, and an unqualified one must be a standard finalizer. */
export function validateFinalizers(
  finalizers: readonly string[] | undefined,
  path = 'metadata.finalizers',
): FieldError[] {
  const errs: FieldError[] = [];
  for (const f of finalizers ?? []) {
    const msgs = isQualifiedName(f);
    for (const m of msgs) errs.push(invalid(path, f, m));
    if (msgs.length === 0 && !f.includes('/') && !STANDARD_FINALIZERS.has(f)) {
      errs.push(invalid(path, f, 'name is neither a standard finalizer name nor is it fully qualified'));
    }
  }
  return errs;
}

/** ValidateObjectMeta for a cluster-scoped object: no namespace allowed. */
export function validateClusterObjectMeta(
  meta: V1ObjectMeta | undefined,
  nameRule: (name: string) => string[],
): FieldError[] {
  const errs: FieldError[] = [];
  const name = meta?.name ?? '';
  if (name === '') errs.push(required('metadata.name', 'name or generateName is required'));
  else for (const m of nameRule(name)) errs.push(invalid('metadata.name', name, m));
  if (meta?.namespace) errs.push(forbidden('metadata.namespace', 'not allowed on this type'));
  errs.push(...validateLabels(meta?.labels, 'metadata.labels'));
  errs.push(...validateAnnotations(meta?.annotations, 'metadata.annotations'));
  errs.push(...validateFinalizers(meta?.finalizers));
  return errs;
}

/**
 * The update rules of ValidateObjectMetaUpdate that concern deletion: once an object is being deleted its
 * finalizers may only be removed (Go prints the new ones with %#v: `[]string{"a"}`).
 */
export function validateFinalizersUpdate(meta: V1ObjectMeta | undefined, old: V1ObjectMeta | undefined): FieldError[] {
  const errs = validateFinalizers(meta?.finalizers);
  if (!old?.deletionTimestamp) return errs;
  const before = new Set(old.finalizers ?? []);
  const extra = [...new Set((meta?.finalizers ?? []).filter((f) => !before.has(f)))].sort();
  if (extra.length > 0) {
    const list = `[]string{${extra.map((f) => JSON.stringify(f)).join(', ')}}`;
    errs.push(
      forbidden(
        'metadata.finalizers',
        `no new finalizers can be added if the object is being deleted, found new finalizers ${list}`,
      ),
    );
  }
  return errs;
}

/** ValidateNamespace: the name is a DNS-1123 label (it becomes part of DNS names). */
export function validateNamespace(meta: V1ObjectMeta | undefined): FieldError[] {
  return validateClusterObjectMeta(meta, isDns1123Label);
}

export interface EventLike {
  metadata?: V1ObjectMeta;
  involvedObject?: { namespace?: string };
  eventTime?: unknown;
  reason?: string;
  message?: string;
  action?: string;
  reportingComponent?: string;
  reportingInstance?: string;
}

const LIMITS = { reportingInstance: 128, action: 128, reason: 128, message: 1024 } as const;

/** The rules for core/v1 Events that set eventTime (the "new" events). */
function validateNewEvent(ev: EventLike, ns: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!ev.involvedObject?.namespace && ns !== 'default' && ns !== 'kube-system') {
    errs.push(invalid('involvedObject.namespace', '', 'does not match event.namespace'));
  }
  const controller = ev.reportingComponent ?? '';
  if (!controller) errs.push(required('reportingComponent'));
  for (const m of isQualifiedName(controller)) errs.push(invalid('reportingComponent', controller, m));
  const lengthChecked: [keyof typeof LIMITS, boolean][] = [
    ['reportingInstance', true],
    ['action', true],
    ['reason', true],
    ['message', false],
  ];
  for (const [field, needed] of lengthChecked) {
    const v = ev[field] ?? '';
    if (needed && v.length === 0) errs.push(required(field));
    if (v.length > LIMITS[field]) errs.push(invalid(field, '', `can have at most ${LIMITS[field]} characters`));
  }
  return errs;
}

/** legacyValidateEvent plus the generic metadata checks every create gets (name, namespace). */
export function validateEvent(ev: EventLike): FieldError[] {
  const errs: FieldError[] = [];
  const meta = ev.metadata;
  const ns = meta?.namespace ?? '';
  if (!meta?.name) errs.push(required('metadata.name', 'name or generateName is required'));
  if (ev.eventTime) errs.push(...validateNewEvent(ev, ns));
  else {
    const involvedNs = ev.involvedObject?.namespace ?? '';
    // An event about a cluster-scoped object lives in no namespace (or "default", for old clients).
    const ok = involvedNs === '' ? ns === '' || ns === 'default' : ns === involvedNs;
    if (!ok) errs.push(invalid('involvedObject.namespace', involvedNs, 'does not match event.namespace'));
  }
  for (const m of isDns1123Subdomain(ns)) errs.push(invalid('namespace', ns, m));
  errs.push(...validateLabels(meta?.labels, 'metadata.labels'));
  errs.push(...validateAnnotations(meta?.annotations, 'metadata.annotations'));
  return errs;
}

/** Nodes (mirrored from EC2 by the controller): the name is a DNS subdomain, as kubelet's hostname is. */
export function validateNode(meta: V1ObjectMeta | undefined): FieldError[] {
  return validateClusterObjectMeta(meta, isDns1123Subdomain);
}
