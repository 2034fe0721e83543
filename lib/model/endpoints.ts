/**
 * Endpoints of a Service, computed the way the EndpointSlice controller computes them and folded into one
 * ServiceEndpoints object (lib/model/types.ts), or mirrored from a manual Endpoints object for selector-less Services.
 *
 * Rules (k8s.io/kubernetes pkg/controller/endpointslice + endpointslice utils):
 * - candidate Pods: same namespace, labels match the selector, an IP assigned, not terminal (phase Succeeded/Failed);
 *   terminating Pods (deletionTimestamp set) are kept, marked terminating, so the data plane can let their
 *   connections drain and fall back to them when nothing else is left;
 * - ready = Ready condition True and not terminating; publishNotReadyAddresses makes every endpoint ready;
 * - ports are resolved per Pod: a numeric targetPort is used as is; a named targetPort is looked up among the Pod's
 *   container ports (and restartable init "sidecar" containers) by name *and* protocol; a Pod that lacks it gets no
 *   entry for that Service port (it stays an endpoint for the other ports);
 * - the cluster is IPv4-only, so the Pod's IPv4 address is used (status.podIP, else the first IPv4 of podIPs);
 * - an address that may not be an endpoint (loopback, link-local such as the instance metadata service 169.254.169.254,
 *   unspecified, multicast, inside the service CIDR: ip.ts endpointIPProblems) is left out, as the EndpointSlice the
 *   controller would build from it is refused by the apiserver: validation refuses such Pods and Endpoints at the
 *   door, this keeps any that were stored before from ever becoming a DNAT target;
 * - the result is sorted by IP (numerically), then Pod name, so that renderers produce stable output.
 */
import type { V1Container, V1Endpoints, V1Pod, V1Service, V1ServicePort } from '@kubernetes/client-node';
import type { Endpoint, EndpointPort, Protocol, ServiceEndpoints } from './types.js';
import { DEFAULT_NAMESPACE } from './defaults.js';
import { endpointIPProblems, isIPv4, parseIPv4 } from './ip.js';
import { hasSelector, selectorMatches, serviceSelectsPods } from './selector.js';

const nsOf = (o: { metadata?: { namespace?: string } }): string => o.metadata?.namespace || DEFAULT_NAMESPACE;

/** The label the Endpoints controller puts on the Endpoints objects it writes (Kubernetes 1.33+). */
export const ENDPOINTS_MANAGED_BY_LABEL = 'endpoints.kubernetes.io/managed-by';
export const ENDPOINTS_CONTROLLER_NAME = 'endpoint-controller';

/** Written by the Endpoints controller (for a selector Service), not by a user. */
export const isControllerManaged = (ep: V1Endpoints): boolean =>
  ep.metadata?.labels?.[ENDPOINTS_MANAGED_BY_LABEL] === ENDPOINTS_CONTROLLER_NAME;

/** podutil.IsPodReady: the Ready condition is True. */
export function isPodReady(pod: V1Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Terminal Pods have finished and will never serve again. */
export function isPodTerminal(pod: V1Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/** The Pod's IPv4 address, if it has one. */
export function podIPv4(pod: V1Pod): string | undefined {
  const ip = pod.status?.podIP;
  if (ip && isIPv4(ip)) return ip;
  return (pod.status?.podIPs ?? []).map((p) => p.ip).find((p) => isIPv4(p));
}

/** Containers whose ports a Service may target: regular containers, then sidecars (init, restartPolicy Always). */
function portContainers(pod: V1Pod): V1Container[] {
  const sidecars = (pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');
  return [...(pod.spec?.containers ?? []), ...sidecars];
}

/**
 * podutil.FindPort: the Pod port a Service port targets, or undefined when a named targetPort is not declared by the
 * Pod with the Service port's protocol. An unset targetPort means the Service port itself (defaulting normally fills it).
 */
export function resolveTargetPort(pod: V1Pod, sp: V1ServicePort): number | undefined {
  const tp = sp.targetPort;
  if (typeof tp === 'number' && tp !== 0) return tp;
  if (tp === undefined || tp === null || tp === 0 || tp === '') return sp.port;
  const protocol = sp.protocol || 'TCP';
  for (const c of portContainers(pod)) {
    for (const p of c.ports ?? []) {
      if (p.name === tp && (p.protocol || 'TCP') === protocol) return p.containerPort;
    }
  }
  return undefined;
}

function compareEndpoints(a: Endpoint, b: Endpoint): number {
  const ai = parseIPv4(a.ip);
  const bi = parseIPv4(b.ip);
  if (ai !== undefined && bi !== undefined && ai !== bi) return ai - bi;
  if (a.ip !== b.ip) return a.ip < b.ip ? -1 : 1;
  const an = a.targetRef?.name ?? '';
  const bn = b.targetRef?.name ?? '';
  return an < bn ? -1 : an > bn ? 1 : 0;
}

/** An address the data plane may send traffic to (see the module comment). */
const usableEndpointIP = (ip: string, serviceCidr: string | undefined): boolean =>
  endpointIPProblems(ip, serviceCidr).length === 0;

/**
 * The endpoints of a Service with a selector, from the Pods given (any namespace; others are ignored). `serviceCidr`
 * (the cluster's) also leaves out Pod IPs inside it.
 */
export function computeEndpoints(svc: V1Service, pods: readonly V1Pod[], serviceCidr?: string): ServiceEndpoints {
  const namespace = nsOf(svc);
  const result: ServiceEndpoints = { namespace, name: svc.metadata?.name ?? '', endpoints: [] };
  // ExternalName Services and selector-less Services get no Pod endpoints.
  if (!serviceSelectsPods(svc)) return result;
  const selector = svc.spec?.selector;
  const publishNotReady = svc.spec?.publishNotReadyAddresses === true;
  const servicePorts = svc.spec?.ports ?? [];
  for (const pod of pods) {
    if (nsOf(pod) !== namespace) continue;
    if (!selectorMatches(selector, pod.metadata?.labels)) continue;
    if (isPodTerminal(pod)) continue;
    const ip = podIPv4(pod);
    if (!ip || !usableEndpointIP(ip, serviceCidr)) continue;
    const terminating = pod.metadata?.deletionTimestamp != null;
    // For compatibility, "ready" is never true for a terminating Pod unless publishNotReadyAddresses is set.
    const ready = publishNotReady || (isPodReady(pod) && !terminating);
    const ports: EndpointPort[] = [];
    for (const sp of servicePorts) {
      const port = resolveTargetPort(pod, sp);
      if (port === undefined) continue;
      const ep: EndpointPort = { name: sp.name ?? '', port, protocol: (sp.protocol || 'TCP') as Protocol };
      if (sp.appProtocol) ep.appProtocol = sp.appProtocol;
      ports.push(ep);
    }
    const ep: Endpoint = {
      ip,
      targetRef: {
        kind: 'Pod',
        namespace,
        name: pod.metadata?.name ?? '',
        ...(pod.metadata?.uid ? { uid: pod.metadata.uid } : {}),
      },
      ready,
      // EndpointSlice's `serving`: Ready regardless of termination (the data plane's fallback when none is ready).
      serving: publishNotReady || isPodReady(pod),
      terminating,
      ports,
    };
    if (pod.spec?.nodeName) ep.nodeName = pod.spec.nodeName;
    // ShouldSetHostname: the Pod asked for a hostname in this Service's subdomain.
    if (pod.spec?.hostname && pod.spec.subdomain === svc.metadata?.name) ep.hostname = pod.spec.hostname;
    result.endpoints.push(ep);
  }
  result.endpoints.sort(compareEndpoints);
  return result;
}

/**
 * Endpoints of a selector-less Service, mirrored from its manual Endpoints object. `addresses` are ready,
 * `notReadyAddresses` are not; neither is terminating (the Endpoints API has no such notion). An address listed in
 * several subsets (each subset has its own port set) becomes one endpoint with the union of the ports, ready if any
 * subset lists it as ready. Addresses that are not IPv4 are skipped: the data plane is IPv4-only.
 */
export function endpointsFromManual(ep: V1Endpoints, serviceCidr?: string): ServiceEndpoints {
  const byIP = new Map<string, Endpoint>();
  for (const subset of ep.subsets ?? []) {
    const ports: EndpointPort[] = (subset.ports ?? []).map((p) => ({
      name: p.name ?? '',
      port: p.port,
      protocol: (p.protocol || 'TCP') as Protocol,
      ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
    }));
    const add = (addrs: typeof subset.addresses, ready: boolean) => {
      for (const a of addrs ?? []) {
        if (!isIPv4(a.ip) || !usableEndpointIP(a.ip, serviceCidr)) continue;
        let e = byIP.get(a.ip);
        if (!e) {
          e = { ip: a.ip, ready, terminating: false, ports: [] };
          if (a.nodeName) e.nodeName = a.nodeName;
          if (a.hostname) e.hostname = a.hostname;
          if (a.targetRef?.kind === 'Pod' && a.targetRef.name) {
            e.targetRef = {
              kind: 'Pod',
              namespace: a.targetRef.namespace || nsOf(ep),
              name: a.targetRef.name,
              ...(a.targetRef.uid ? { uid: a.targetRef.uid } : {}),
            };
          }
          byIP.set(a.ip, e);
        }
        e.ready ||= ready;
        for (const p of ports) {
          if (!e.ports.some((q) => q.name === p.name && q.port === p.port && q.protocol === p.protocol))
            e.ports.push({ ...p });
        }
      }
    };
    add(subset.addresses, true);
    add(subset.notReadyAddresses, false);
  }
  return { namespace: nsOf(ep), name: ep.metadata?.name ?? '', endpoints: [...byIP.values()].sort(compareEndpoints) };
}

/**
 * The endpoints of every Service that has any: computed from Pods for selector Services, mirrored from manual
 * Endpoints for selector-less ones; ExternalName Services have none. Order follows `services`. `serviceCidr` (the
 * cluster's) also leaves out addresses inside it.
 */
export function endpointsForServices(
  services: readonly V1Service[],
  pods: readonly V1Pod[],
  manual: readonly V1Endpoints[],
  serviceCidr?: string,
): { service: V1Service; endpoints: ServiceEndpoints }[] {
  const key = (o: { metadata?: { namespace?: string; name?: string } }) =>
    `${o.metadata?.namespace || 'default'}/${o.metadata?.name ?? ''}`;
  // Endpoints the Endpoints controller wrote for a Service that had a selector are not manual endpoints: they are
  // deleted once the selector goes (lib/controller/endpoints-controller.ts), and must never route meanwhile.
  const manualByKey = new Map(manual.filter((m) => !isControllerManaged(m)).map((m) => [key(m), m]));
  const out: { service: V1Service; endpoints: ServiceEndpoints }[] = [];
  for (const s of services) {
    if (s.spec?.type === 'ExternalName') continue;
    if (hasSelector(s.spec?.selector)) out.push({ service: s, endpoints: computeEndpoints(s, pods, serviceCidr) });
    else {
      const m = manualByKey.get(key(s));
      if (m) out.push({ service: s, endpoints: endpointsFromManual(m, serviceCidr) });
    }
  }
  return out;
}
