/**
 * Which routes attach to which listener of one Gateway, and what each backend resolves to: the Gateway API's
 * attachment rules (parentRef -> listener by sectionName/port, allowedRoutes kinds and namespaces, TLSRoute
 * hostnames) and backend resolution (Service and port exist, cross-namespace references need a ReferenceGrant),
 * mapped onto what one Network Load Balancer can do: a listener forwards to ONE set of weighted target groups, so
 * one route per listener (the oldest wins, as the Gateway API's conflict rule orders routes), at most 5 backends
 * per listener (NLB weighted target groups). Pure: conditions are worded here, written by lib/gateway/status.ts.
 */
import type { V1Namespace, V1Service } from '@kubernetes/client-node';
import type {
  BackendRef,
  Gateway,
  GatewayListener,
  L4Route,
  L4RouteKind,
  ParentReference,
  ReferenceGrant,
} from '../model/gateway/types.js';
import { GATEWAY_GROUP } from '../model/gateway/types.js';
import { labelSelectorMatches } from './selector.js';

/** NLB: one forward action takes at most 5 weighted target groups, weights 0-999. */
export const MAX_WEIGHTED_TARGET_GROUPS = 5;
export const MAX_NLB_WEIGHT = 999;

export interface RouteObject {
  kind: L4RouteKind;
  route: L4Route;
}

/** A condition as the Gateway API writes it (lastTransitionTime and observedGeneration are added on write). */
export interface Cond {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

/** One backend of an attached route, resolved to a Service port. */
export interface ResolvedBackend {
  namespace: string;
  service: string;
  uid: string;
  port: number;
  protocol: 'TCP' | 'UDP';
  /** The Service's own NodePort for that port, when it has one (else the data plane allocates one). */
  nodePort?: number;
  weight: number;
}

export interface ListenerAttachment {
  listener: GatewayListener;
  /** The NLB protocol: TLS only for mode Terminate; Passthrough is plain TCP on the NLB. */
  nlbProtocol: 'TCP' | 'UDP' | 'TLS';
  certificateArns: string[];
  supportedKinds: L4RouteKind[];
  /** Routes accepted on this listener (attachedRoutes counts them). */
  attached: string[];
  /** The route whose backends this listener forwards to (the oldest attached), and its resolved backends. */
  programmedRoute?: string;
  backends: ResolvedBackend[];
  conditions: Cond[];
  /** False when the listener cannot be programmed at all (unsupported protocol, bad certificate reference). */
  valid: boolean;
}

export interface RouteParentResult {
  parentRef: ParentReference;
  conditions: Cond[];
}

export interface Attachment {
  listeners: ListenerAttachment[];
  /** Per route (`Kind/ns/name`), one result per parentRef that names this Gateway. */
  routes: Map<string, RouteParentResult[]>;
}

export interface AttachInput {
  gateway: Gateway;
  routes: RouteObject[];
  services: V1Service[];
  grants: ReferenceGrant[];
  namespaces: V1Namespace[];
}

export const routeKey = (r: RouteObject): string =>
  `${r.kind}/${r.route.metadata?.namespace ?? 'default'}/${r.route.metadata?.name ?? ''}`;

const ACM_ARN = /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/;

const cond = (type: string, ok: boolean, reason: string, message: string): Cond => ({
  type,
  status: ok ? 'True' : 'False',
  reason,
  message,
});

/** Route kinds a listener protocol accepts, by default and at most (allowedRoutes.kinds narrows it). */
function kindsFor(l: GatewayListener): L4RouteKind[] {
  if (l.protocol === 'TCP') return ['TCPRoute'];
  if (l.protocol === 'UDP') return ['UDPRoute'];
  if (l.protocol === 'TLS')
    return (l.tls?.mode ?? 'Terminate') === 'Passthrough' ? ['TLSRoute'] : ['TLSRoute', 'TCPRoute'];
  return [];
}

function listenerBase(l: GatewayListener): ListenerAttachment {
  const base: ListenerAttachment = {
    listener: l,
    nlbProtocol: 'TCP',
    certificateArns: [],
    supportedKinds: [],
    attached: [],
    backends: [],
    conditions: [],
    valid: true,
  };
  const possible = kindsFor(l);
  if (possible.length === 0) {
    base.valid = false;
    base.conditions.push(
      cond(
        'Accepted',
        false,
        'UnsupportedProtocol',
        `protocol ${l.protocol} is not supported: a Network Load Balancer serves TCP, UDP and TLS`,
      ),
    );
    return base;
  }
  const asked = l.allowedRoutes?.kinds;
  const supported = asked
    ? possible.filter((k) => asked.some((a) => a.kind === k && (a.group ?? GATEWAY_GROUP) === GATEWAY_GROUP))
    : possible;
  base.supportedKinds = supported;
  if (asked && supported.length < asked.length) {
    base.conditions.push(
      cond(
        'ResolvedRefs',
        false,
        'InvalidRouteKinds',
        `route kinds not supported on a ${l.protocol} listener are ignored`,
      ),
    );
  }
  if (l.protocol === 'UDP') base.nlbProtocol = 'UDP';
  if (l.protocol === 'TLS' && (l.tls?.mode ?? 'Terminate') === 'Terminate') {
    base.nlbProtocol = 'TLS';
    const refs = l.tls?.certificateRefs ?? [];
    const bad = refs.filter((r) => !ACM_ARN.test(r.name));
    if (refs.length === 0 || bad.length > 0) {
      base.valid = false;
      base.conditions.push(
        cond(
          'ResolvedRefs',
          false,
          'InvalidCertificateRef',
          refs.length === 0
            ? 'a TLS listener in Terminate mode needs certificateRefs'
            : `certificateRefs must name ACM certificates by ARN (the NLB terminates TLS with ACM): ${bad.map((r) => r.name).join(', ')}`,
        ),
      );
    } else base.certificateArns = refs.map((r) => r.name);
  }
  return base;
}

/** TCP and UDP on one port become one TCP_UDP NLB listener elsewhere; any other pair on a port conflicts. */
function markConflicts(ls: ListenerAttachment[]): void {
  const byPort = new Map<number, ListenerAttachment[]>();
  for (const l of ls) byPort.set(l.listener.port, [...(byPort.get(l.listener.port) ?? []), l]);
  for (const group of byPort.values()) {
    if (group.length < 2) continue;
    const protos = group.map((l) => l.nlbProtocol).sort();
    const tcpUdp = group.length === 2 && protos[0] === 'TCP' && protos[1] === 'UDP';
    if (tcpUdp) continue;
    for (const l of group) {
      l.valid = false;
      l.conditions.push(
        cond(
          'Conflicted',
          true,
          'ProtocolConflict',
          `port ${l.listener.port} is used by another listener with a protocol one NLB listener cannot share`,
        ),
      );
    }
  }
}

function namespaceAllowed(l: GatewayListener, gwNs: string, routeNs: string, namespaces: V1Namespace[]): boolean {
  const from = l.allowedRoutes?.namespaces?.from ?? 'Same';
  if (from === 'All') return true;
  if (from === 'Same') return routeNs === gwNs;
  if (from === 'Selector') {
    const ns = namespaces.find((n) => n.metadata?.name === routeNs);
    return Boolean(ns) && labelSelectorMatches(l.allowedRoutes?.namespaces?.selector, ns?.metadata?.labels ?? {});
  }
  return false;
}

const refersTo = (p: ParentReference, gw: Gateway, routeNs: string): boolean =>
  (p.group ?? GATEWAY_GROUP) === GATEWAY_GROUP &&
  (p.kind ?? 'Gateway') === 'Gateway' &&
  p.name === gw.metadata?.name &&
  (p.namespace ?? routeNs) === (gw.metadata?.namespace ?? 'default');

/** TLSRoute hostnames must intersect the listener's hostname (wildcards as the Gateway API matches them). */
function hostnamesIntersect(listenerHost: string | undefined, routeHosts: string[] | undefined): boolean {
  if (!listenerHost || !routeHosts || routeHosts.length === 0) return true;
  const match = (a: string, b: string) =>
    a === b ||
    (a.startsWith('*.') && b.endsWith(a.slice(1)) && b.length > a.length - 1) ||
    (b.startsWith('*.') && a.endsWith(b.slice(1)) && a.length > b.length - 1);
  return routeHosts.some((h) => match(listenerHost, h));
}

const createdOrder = (a: RouteObject, b: RouteObject): number => {
  const ta = a.route.metadata?.creationTimestamp ? new Date(a.route.metadata.creationTimestamp).getTime() : 0;
  const tb = b.route.metadata?.creationTimestamp ? new Date(b.route.metadata.creationTimestamp).getTime() : 0;
  return ta - tb || routeKey(a).localeCompare(routeKey(b));
};

/** Attaches every route that names this Gateway and resolves the backends of the route each listener forwards to. */
export function attach(input: AttachInput): Attachment {
  const gw = input.gateway;
  const gwNs = gw.metadata?.namespace ?? 'default';
  const listeners = (gw.spec?.listeners ?? []).map(listenerBase);
  markConflicts(listeners);
  const routes = new Map<string, RouteParentResult[]>();
  const resolved = new Map<string, { backends: ResolvedBackend[]; conds: Cond }>();
  for (const r of [...input.routes].sort(createdOrder)) {
    const ns = r.route.metadata?.namespace ?? 'default';
    const results: RouteParentResult[] = [];
    for (const p of r.route.spec?.parentRefs ?? []) {
      if (!refersTo(p, gw, ns)) continue;
      const res = resolveBackends(r, input);
      resolved.set(routeKey(r), res);
      results.push({ parentRef: p, conditions: [attachOne(r, p, listeners, gw, input, gwNs), res.conds] });
    }
    if (results.length) routes.set(routeKey(r), results);
  }
  for (const l of listeners) finishListener(l, resolved);
  return { listeners, routes };
}

/** The Accepted condition of one parentRef, attaching the route to every listener it may attach to. */
function attachOne(
  r: RouteObject,
  p: ParentReference,
  listeners: ListenerAttachment[],
  gw: Gateway,
  input: AttachInput,
  gwNs: string,
): Cond {
  const ns = r.route.metadata?.namespace ?? 'default';
  const named = listeners.filter(
    (l) =>
      (p.sectionName === undefined || l.listener.name === p.sectionName) &&
      (p.port === undefined || l.listener.port === p.port),
  );
  if (named.length === 0)
    return cond(
      'Accepted',
      false,
      'NoMatchingParent',
      `Gateway ${gwNs}/${gw.metadata?.name} has no listener ${p.sectionName ?? `on port ${p.port}`}`,
    );
  const allowed = named.filter(
    (l) => l.valid && l.supportedKinds.includes(r.kind) && namespaceAllowed(l.listener, gwNs, ns, input.namespaces),
  );
  if (allowed.length === 0)
    return cond(
      'Accepted',
      false,
      'NotAllowedByListeners',
      `no listener of the Gateway allows a ${r.kind} from namespace ${ns}`,
    );
  const hosts = (r.route.spec as { hostnames?: string[] }).hostnames;
  const hosted = allowed.filter((l) => hostnamesIntersect(l.listener.hostname, hosts));
  if (hosted.length === 0)
    return cond('Accepted', false, 'NoMatchingListenerHostname', 'no listener hostname matches the route hostnames');
  const free = hosted.filter((l) => l.attached.length === 0);
  if (free.length === 0)
    return cond(
      'Accepted',
      false,
      'NotAllowedByListeners',
      `listener ${hosted.map((l) => l.listener.name).join(', ')} already forwards to ${hosted[0]!.attached[0]}: an NLB listener forwards to one route`,
    );
  for (const l of free) l.attached.push(routeKey(r));
  return cond('Accepted', true, 'Accepted', 'Route is accepted');
}

/** Resolves a route's backends (every rule's backendRefs together: L4 rules have no matches to choose between). */
function resolveBackends(r: RouteObject, input: AttachInput): { backends: ResolvedBackend[]; conds: Cond } {
  const ns = r.route.metadata?.namespace ?? 'default';
  const refs: BackendRef[] = (r.route.spec?.rules ?? []).flatMap((rule) => rule.backendRefs ?? []);
  const backends: ResolvedBackend[] = [];
  let failure: Cond | undefined;
  const fail = (reason: string, message: string) => (failure ??= cond('ResolvedRefs', false, reason, message));
  for (const b of refs) {
    if ((b.group ?? '') !== '' || (b.kind ?? 'Service') !== 'Service') {
      fail('InvalidKind', `backendRef ${b.name}: only core Services can be backends (got ${b.group ?? ''}/${b.kind})`);
      continue;
    }
    const bns = b.namespace ?? ns;
    if (bns !== ns && !granted(input.grants, r.kind, ns, bns, b.name)) {
      fail('RefNotPermitted', `backendRef ${bns}/${b.name}: no ReferenceGrant in ${bns} allows ${r.kind}s from ${ns}`);
      continue;
    }
    const svc = input.services.find((s) => s.metadata?.namespace === bns && s.metadata?.name === b.name);
    const protocol = r.kind === 'UDPRoute' ? 'UDP' : 'TCP';
    const sp = svc?.spec?.ports?.find((x) => x.port === b.port && (x.protocol ?? 'TCP') === protocol);
    if (!svc || svc.spec?.type === 'ExternalName' || !sp) {
      fail(
        'BackendNotFound',
        !svc
          ? `backendRef ${bns}/${b.name}: Service not found`
          : svc.spec?.type === 'ExternalName'
            ? `backendRef ${bns}/${b.name}: an ExternalName Service has no endpoints to forward to`
            : `backendRef ${bns}/${b.name}: the Service has no ${protocol} port ${b.port}`,
      );
      continue;
    }
    backends.push({
      namespace: bns,
      service: b.name,
      uid: svc.metadata?.uid ?? '',
      port: sp.port,
      protocol,
      ...(sp.nodePort ? { nodePort: sp.nodePort } : {}),
      weight: b.weight ?? 1,
    });
  }
  // The same Service port named twice is one target group (ELBv2 refuses a group twice in one forward): weights add.
  const merged = mergeBackends(backends);
  if (!failure && merged.length > MAX_WEIGHTED_TARGET_GROUPS)
    fail(
      'UnsupportedValue',
      `a route forwards to at most ${MAX_WEIGHTED_TARGET_GROUPS} Service ports on an NLB (weighted target groups); ` +
        `the first ${MAX_WEIGHTED_TARGET_GROUPS} are used`,
    );
  return {
    backends: merged.slice(0, MAX_WEIGHTED_TARGET_GROUPS),
    conds: failure ?? cond('ResolvedRefs', true, 'ResolvedRefs', 'Resolved all the Object references for the Route'),
  };
}

function mergeBackends(bs: ResolvedBackend[]): ResolvedBackend[] {
  const out = new Map<string, ResolvedBackend>();
  for (const b of bs) {
    const k = `${b.namespace}/${b.service}:${b.port}/${b.protocol}`;
    const seen = out.get(k);
    if (seen) seen.weight += b.weight;
    else out.set(k, { ...b });
  }
  return [...out.values()];
}

function granted(grants: ReferenceGrant[], kind: L4RouteKind, fromNs: string, toNs: string, name: string): boolean {
  return grants.some(
    (g) =>
      g.metadata?.namespace === toNs &&
      (g.spec?.from ?? []).some((f) => f.group === GATEWAY_GROUP && f.kind === kind && f.namespace === fromNs) &&
      (g.spec?.to ?? []).some(
        (t) => (t.group ?? '') === '' && t.kind === 'Service' && (t.name === undefined || t.name === name),
      ),
  );
}

/** The listener's own conditions once routes are attached; the oldest attached route's backends are programmed. */
function finishListener(l: ListenerAttachment, resolved: Map<string, { backends: ResolvedBackend[] }>): void {
  const has = (t: string) => l.conditions.some((c) => c.type === t);
  if (!has('Accepted')) l.conditions.push(cond('Accepted', true, 'Accepted', 'Listener is accepted'));
  if (!has('ResolvedRefs')) l.conditions.push(cond('ResolvedRefs', true, 'ResolvedRefs', 'Resolved all references'));
  if (!has('Conflicted')) l.conditions.push(cond('Conflicted', false, 'NoConflicts', 'No conflicts'));
  if (!l.valid || l.attached.length === 0) return;
  l.programmedRoute = l.attached[0];
  l.backends = resolved.get(l.programmedRoute!)?.backends ?? [];
}
