/**
 * The Endpoints controller's object, pure (pkg/controller/endpoint/endpoints_controller.go syncService and
 * pkg/api/v1/endpoints RepackSubsets): the core/v1 Endpoints of a Service with a selector, from the endpoints
 * computed once for it (lib/model/endpoints.ts computeEndpoints). kubectl 1.32's `describe service` reads these.
 *
 * As upstream:
 * - a terminating Pod is listed only when the Service publishes not-ready addresses (ShouldPodBeInEndpoints with
 *   includeTerminating = publishNotReadyAddresses); a ready one goes to `addresses`, any other to
 *   `notReadyAddresses`;
 * - an address appears once per port it serves; the subsets are repacked so addresses serving the same ports share
 *   one subset (not ready wins over ready for one address and port); a headless Service without ports lists its
 *   addresses without ports; a Pod that resolves none of the ports is left out;
 * - labels: the Service's labels, `service.kubernetes.io/headless` for headless Services and
 *   `endpoints.kubernetes.io/managed-by: endpoint-controller` (Kubernetes 1.33+);
 * - more than 1000 addresses: truncated to 1000, ready ones first and spread over the subsets in proportion, and
 *   annotated `endpoints.kubernetes.io/over-capacity: truncated`;
 * - `endpoints.kubernetes.io/last-change-trigger-time` when a trigger time is known, removed otherwise;
 * - written only when subsets, labels or the capacity annotation differ from what is stored.
 * Sorting is canonical (addresses by IP then Pod uid, ports and subsets by their canonical JSON) rather than Go's
 * md5-of-spew order: the order is stable, which is what comparisons need.
 */
import type { V1EndpointAddress, V1EndpointSubset, V1Endpoints, V1Service } from '@kubernetes/client-node';
import { canonicalJson } from './canonical.js';
import { ENDPOINTS_CONTROLLER_NAME, ENDPOINTS_MANAGED_BY_LABEL } from './endpoints.js';
import { isHeadless, LABEL_HEADLESS, TRIGGER_TIME_ANNOTATION } from './endpoint-slices.js';
import type { Endpoint } from './types.js';

export const OVER_CAPACITY_ANNOTATION = 'endpoints.kubernetes.io/over-capacity';
/** The Endpoints controller's maxCapacity. */
export const MAX_ENDPOINTS_ADDRESSES = 1000;

type Port = NonNullable<V1EndpointSubset['ports']>[number];

function address(e: Endpoint): V1EndpointAddress {
  const a: V1EndpointAddress = { ip: e.ip };
  if (e.hostname) a.hostname = e.hostname;
  if (e.nodeName) a.nodeName = e.nodeName;
  if (e.targetRef) a.targetRef = { ...e.targetRef };
  return a;
}

const addressKey = (a: V1EndpointAddress): string => `${a.ip}\0${a.targetRef?.uid ?? ''}`;

/** LessEndpointAddress: by IP (as bytes of its text), then by the target's uid. */
function compareAddresses(a: V1EndpointAddress, b: V1EndpointAddress): number {
  if (a.ip !== b.ip) return a.ip < b.ip ? -1 : 1;
  const ua = a.targetRef?.uid ?? '';
  const ub = b.targetRef?.uid ?? '';
  return ua < ub ? -1 : ua > ub ? 1 : 0;
}

const byJson = <T>(a: T, b: T): number => {
  const x = canonicalJson(a);
  const y = canonicalJson(b);
  return x < y ? -1 : x > y ? 1 : 0;
};

/** RepackSubsets: one subset per distinct set of (address, ready) that serves the same ports. */
function repack(entries: { addr: V1EndpointAddress; ready: boolean; port?: Port }[]): V1EndpointSubset[] {
  const byPort = new Map<string, { port?: Port; addrs: Map<string, { addr: V1EndpointAddress; ready: boolean }> }>();
  for (const e of entries) {
    const pk = e.port ? canonicalJson(e.port) : '';
    const slot = byPort.get(pk) ?? { port: e.port, addrs: new Map() };
    const prev = slot.addrs.get(addressKey(e.addr));
    // Not ready trumps ready for the same address and port.
    slot.addrs.set(addressKey(e.addr), { addr: prev?.addr ?? e.addr, ready: (prev?.ready ?? true) && e.ready });
    byPort.set(pk, slot);
  }
  const bySet = new Map<string, V1EndpointSubset>();
  for (const { port, addrs } of byPort.values()) {
    const list = [...addrs.values()].sort((a, b) => compareAddresses(a.addr, b.addr));
    const key = canonicalJson(list.map((x) => [addressKey(x.addr), x.ready]));
    const subset = bySet.get(key) ?? subsetOf(list);
    if (port) subset.ports = [...(subset.ports ?? []), port].sort(byJson);
    bySet.set(key, subset);
  }
  return [...bySet.values()].sort(byJson);
}

function subsetOf(list: { addr: V1EndpointAddress; ready: boolean }[]): V1EndpointSubset {
  const ready = list.filter((x) => x.ready).map((x) => x.addr);
  const notReady = list.filter((x) => !x.ready).map((x) => x.addr);
  return {
    ...(ready.length ? { addresses: ready } : {}),
    ...(notReady.length ? { notReadyAddresses: notReady } : {}),
  };
}

/** The Service's subsets: its endpoints that belong in Endpoints, one entry per port they serve, repacked. */
export function endpointsSubsets(svc: V1Service, endpoints: readonly Endpoint[]): V1EndpointSubset[] {
  const publishNotReady = svc.spec?.publishNotReadyAddresses === true;
  const noPorts = (svc.spec?.ports ?? []).length === 0;
  const entries: { addr: V1EndpointAddress; ready: boolean; port?: Port }[] = [];
  for (const e of endpoints) {
    if (e.terminating && !publishNotReady) continue;
    const addr = address(e);
    if (noPorts) {
      // Only headless Services may have no ports: their addresses are listed without any.
      if (svc.spec?.clusterIP === 'None') entries.push({ addr, ready: e.ready });
      continue;
    }
    for (const p of e.ports) {
      const port: Port = { name: p.name, port: p.port, protocol: p.protocol };
      if (p.appProtocol) port.appProtocol = p.appProtocol;
      entries.push({ addr, ready: e.ready, port });
    }
  }
  return repack(entries);
}

const countAddresses = (subsets: readonly V1EndpointSubset[]): number =>
  subsets.reduce((n, s) => n + (s.addresses?.length ?? 0) + (s.notReadyAddresses?.length ?? 0), 0);

/** truncateEndpoints: at most 1000 addresses, ready ones first, spread over the subsets in proportion. */
export function truncateSubsets(subsets: V1EndpointSubset[]): { subsets: V1EndpointSubset[]; truncated: boolean } {
  const ready = subsets.reduce((n, s) => n + (s.addresses?.length ?? 0), 0);
  const total = countAddresses(subsets);
  if (total <= MAX_ENDPOINTS_ADDRESSES) return { subsets, truncated: false };
  const truncateReady = ready > MAX_ENDPOINTS_ADDRESSES;
  const max = truncateReady ? MAX_ENDPOINTS_ADDRESSES : MAX_ENDPOINTS_ADDRESSES - ready;
  const numTotal = truncateReady ? ready : total - ready;
  let canBeAdded = max;
  const out = subsets.map((s) => {
    const n = (truncateReady ? s.addresses : s.notReadyAddresses)?.length ?? 0;
    const take = Math.min(Math.ceil((n / numTotal) * max), canBeAdded);
    const next: V1EndpointSubset = { ...s };
    if (truncateReady) {
      next.addresses = (s.addresses ?? []).slice(0, take);
      delete next.notReadyAddresses;
      canBeAdded -= next.addresses.length;
    } else {
      next.notReadyAddresses = (s.notReadyAddresses ?? []).slice(0, take);
      canBeAdded -= next.notReadyAddresses.length;
    }
    return next;
  });
  return { subsets: out, truncated: true };
}

/** The Endpoints object's labels: the Service's, plus the headless and managed-by labels. */
export function endpointsLabels(svc: V1Service): Record<string, string> {
  const out: Record<string, string> = { ...(svc.metadata?.labels ?? {}) };
  if (isHeadless(svc)) out[LABEL_HEADLESS] = '';
  else delete out[LABEL_HEADLESS];
  out[ENDPOINTS_MANAGED_BY_LABEL] = ENDPOINTS_CONTROLLER_NAME;
  return out;
}

/**
 * The Endpoints to write for `svc`, or undefined when what is stored (`current`) already says it: the subsets (as
 * truncated), labels and capacity annotation are compared, so a sync that changes nothing writes nothing. (Upstream
 * compares the untruncated subsets and relies on the apiserver to drop a no-op update; comparing what would be
 * stored keeps an over-capacity Service from being rewritten on every sync.)
 */
export function desiredEndpoints(
  svc: V1Service,
  endpoints: readonly Endpoint[],
  current: V1Endpoints | undefined,
  triggerTime?: string,
): V1Endpoints | undefined {
  const t = truncateSubsets(endpointsSubsets(svc, endpoints));
  const labels = endpointsLabels(svc);
  const annotated = current?.metadata?.annotations?.[OVER_CAPACITY_ANNOTATION] !== undefined;
  if (
    current &&
    canonicalJson(current.subsets ?? []) === canonicalJson(t.subsets) &&
    canonicalJson(current.metadata?.labels ?? {}) === canonicalJson(labels) &&
    annotated === t.truncated
  )
    return undefined;
  const annotations: Record<string, string> = { ...(current?.metadata?.annotations ?? {}) };
  if (triggerTime) annotations[TRIGGER_TIME_ANNOTATION] = triggerTime;
  else delete annotations[TRIGGER_TIME_ANNOTATION];
  if (t.truncated) annotations[OVER_CAPACITY_ANNOTATION] = 'truncated';
  else delete annotations[OVER_CAPACITY_ANNOTATION];
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: {
      ...(current?.metadata ?? {}),
      name: svc.metadata?.name,
      namespace: svc.metadata?.namespace,
      labels,
      annotations: Object.keys(annotations).length ? annotations : undefined,
    },
    subsets: t.subsets,
  };
}
