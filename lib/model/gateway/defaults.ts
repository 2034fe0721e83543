/**
 * The defaults the Gateway API CRDs (v1.6, standard and experimental channels) declare, applied as the apiextensions
 * apiserver applies structural defaults: after pruning, before validation, only where the enclosing object is present
 * (a listener without `tls` gets no `tls`), never over a value that is set. Pure and total: values of the wrong
 * shape are left alone for validation to report.
 *
 * - Gateway: listener allowedRoutes {namespaces: {from: Same}} (and namespaces.from Same, kinds[].group
 *   gateway.networking.k8s.io), listener tls.mode Terminate, certificate refs group "" kind Secret, addresses[].type
 *   IPAddress, allowedListeners.namespaces {from: None}, frontend validation mode AllowValidOnly;
 * - routes: parentRefs group gateway.networking.k8s.io kind Gateway; backendRefs group "" kind Service weight 1;
 * - status: GatewayClass and Gateway start with their "Waiting for controller" conditions (Accepted, and Programmed
 *   for Gateways: status Unknown, reason Pending), as the CRDs default `status`; route parents' parentRef defaults.
 */
import { GATEWAY_GROUP } from './types.js';

type Obj = Record<string, unknown>;

const isRecord = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const records = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isRecord) : []);

/** Sets `o[key]` to `value` when it is absent. */
function def(o: Obj, key: string, value: unknown): void {
  if (o[key] === undefined) o[key] = structuredClone(value);
}

/** The object at `o[key]` (created with `create` when absent and `create` is given). */
function sub(o: Obj, key: string, create?: Obj): Obj | undefined {
  if (o[key] === undefined && create) o[key] = structuredClone(create);
  const v = o[key];
  return isRecord(v) ? v : undefined;
}

const EPOCH = '1970-01-01T00:00:00Z';
const pending = (type: string) => ({
  type,
  status: 'Unknown',
  reason: 'Pending',
  message: 'Waiting for controller',
  lastTransitionTime: EPOCH,
});

export const GATEWAY_CLASS_PENDING_CONDITIONS = [pending('Accepted')];
export const GATEWAY_PENDING_CONDITIONS = [pending('Accepted'), pending('Programmed')];

function secretRef(ref: Obj): void {
  def(ref, 'group', '');
  def(ref, 'kind', 'Secret');
}

function defaultListener(l: Obj): void {
  const routes = sub(l, 'allowedRoutes', { namespaces: { from: 'Same' } });
  if (routes) {
    const ns = sub(routes, 'namespaces', { from: 'Same' });
    if (ns) def(ns, 'from', 'Same');
    for (const k of records(routes.kinds)) def(k, 'group', GATEWAY_GROUP);
  }
  const tls = sub(l, 'tls');
  if (tls) {
    def(tls, 'mode', 'Terminate');
    records(tls.certificateRefs).forEach(secretRef);
  }
}

function defaultFrontendTLS(tls: Obj | undefined): void {
  const validation = tls && sub(tls, 'validation');
  if (validation) def(validation, 'mode', 'AllowValidOnly');
}

function defaultGatewaySpec(spec: Obj): void {
  records(spec.listeners).forEach(defaultListener);
  for (const a of records(spec.addresses)) def(a, 'type', 'IPAddress');
  const allowed = sub(spec, 'allowedListeners');
  const ns = allowed && sub(allowed, 'namespaces', { from: 'None' });
  if (ns) def(ns, 'from', 'None');
  const tls = sub(spec, 'tls');
  const client = tls && sub(tls, 'backend');
  const clientRef = client && sub(client, 'clientCertificateRef');
  if (clientRef) secretRef(clientRef);
  const frontend = tls && sub(tls, 'frontend');
  if (frontend) {
    defaultFrontendTLS(sub(frontend, 'default'));
    for (const p of records(frontend.perPort)) defaultFrontendTLS(sub(p, 'tls'));
  }
}

function parentRef(ref: Obj): void {
  def(ref, 'group', GATEWAY_GROUP);
  def(ref, 'kind', 'Gateway');
}

function defaultRouteSpec(spec: Obj): void {
  records(spec.parentRefs).forEach(parentRef);
  for (const rule of records(spec.rules)) {
    for (const b of records(rule.backendRefs)) {
      def(b, 'group', '');
      def(b, 'kind', 'Service');
      def(b, 'weight', 1);
    }
  }
}

/** Defaults of a status (the object's own, or the one a status write brings), in place. */
export function defaultGatewayStatus(kind: string, o: Obj): void {
  if (kind === 'GatewayClass' || kind === 'Gateway') {
    const status = sub(o, 'status', {});
    if (!status) return;
    def(status, 'conditions', kind === 'Gateway' ? GATEWAY_PENDING_CONDITIONS : GATEWAY_CLASS_PENDING_CONDITIONS);
    if (kind === 'Gateway') {
      for (const a of records(status.addresses)) def(a, 'type', 'IPAddress');
      for (const l of records(status.listeners))
        for (const k of records(l.supportedKinds)) def(k, 'group', GATEWAY_GROUP);
    }
    return;
  }
  const status = sub(o, 'status');
  for (const p of records(status?.parents)) {
    const ref = sub(p, 'parentRef');
    if (ref) parentRef(ref);
  }
}

/** Defaults of the object's spec, in place. */
export function defaultGatewaySpecOf(kind: string, o: Obj): void {
  const spec = sub(o, 'spec');
  if (!spec) return;
  if (kind === 'Gateway') defaultGatewaySpec(spec);
  else if (kind === 'TCPRoute' || kind === 'UDPRoute' || kind === 'TLSRoute') defaultRouteSpec(spec);
}
