/**
 * API-server defaulting for Services, Pods and Endpoints. Everything here is pure and returns a deep copy: callers
 * keep the object the user sent (for error messages and dry runs) and store the defaulted one.
 *
 * Sources of truth, followed rule by rule:
 * - pkg/apis/core/v1/defaults.go SetDefaults_Service / SetDefaults_Pod / SetDefaults_Endpoints (run on decode);
 * - the Service registry's create/update preparation (strategy NormalizeClusterIPs, dropTypeDependentFields, REST
 *   patchAllocatedValues, allocator initIPFamilyFields), which also fills fields before validation runs.
 * The cluster is IPv4 single-stack (ClusterConfig.serviceCidr is an IPv4 CIDR), so the IP-family defaults are those
 * the API server computes for a single-stack IPv4 cluster.
 */
import type { V1Endpoints, V1Pod, V1Service, V1ServiceSpec } from '@kubernetes/client-node';
import { isIPv4, isIPv6 } from './ip.js';

export const DEFAULT_NAMESPACE = 'default';
/** v1.DefaultClientIPServiceAffinitySeconds: 3 hours. */
export const DEFAULT_CLIENT_IP_AFFINITY_SECONDS = 10800;
/** v1.MaxClientIPServiceAffinitySeconds: 1 day. */
export const MAX_CLIENT_IP_AFFINITY_SECONDS = 86400;

const clone = <T>(o: T): T => structuredClone(o);

/** The Service type a defaulted object has ('' before defaulting means ClusterIP). */
const typeOf = (svc: V1Service): string => svc.spec?.type || 'ClusterIP';

/** apiservice.ExternallyAccessible: NodePort, LoadBalancer, or ClusterIP with externalIPs. */
export function externallyAccessible(svc: V1Service): boolean {
  const t = typeOf(svc);
  return t === 'LoadBalancer' || t === 'NodePort' || (t === 'ClusterIP' && (svc.spec?.externalIPs?.length ?? 0) > 0);
}

/** apiservice.NeedsHealthCheck: LoadBalancer with externalTrafficPolicy Local gets a healthCheckNodePort. */
export function needsHealthCheck(svc: V1Service): boolean {
  return svc.spec?.type === 'LoadBalancer' && svc.spec?.externalTrafficPolicy === 'Local';
}

/** Every type but ExternalName carries a clusterIP (even if it is "None"). */
export const needsClusterIP = (svc: V1Service): boolean => typeOf(svc) !== 'ExternalName';
export const needsNodePort = (svc: V1Service): boolean => ['NodePort', 'LoadBalancer'].includes(typeOf(svc));

/** Headless as the API server defines it: exactly one clusterIPs entry and it is "None". */
export function isHeadless(svc: V1Service): boolean {
  const ips = svc.spec?.clusterIPs;
  return ips?.length === 1 && ips[0] === 'None';
}

const hasSelector = (svc: V1Service): boolean => Object.keys(svc.spec?.selector ?? {}).length > 0;

/**
 * Returns a defaulted deep copy of a Service, as the API server stores it on create (before allocation): decode-time
 * defaults, clusterIPs initialised from a lone clusterIP, and the IP-family fields of a single-stack IPv4 cluster.
 */
export function defaultService(input: V1Service): V1Service {
  const svc = clone(input);
  svc.apiVersion ??= 'v1';
  svc.kind ??= 'Service';
  svc.metadata ??= {};
  if (!svc.metadata.namespace) svc.metadata.namespace = DEFAULT_NAMESPACE;
  svc.spec ??= {};
  applySpecDefaults(svc);
  normalizeClusterIPs(svc, undefined);
  initIPFamilyFields(svc);
  return svc;
}

/** SetDefaults_Service. */
function applySpecDefaults(svc: V1Service): void {
  const spec = svc.spec as V1ServiceSpec;
  if (!spec.sessionAffinity) spec.sessionAffinity = 'None';
  if (spec.sessionAffinity === 'None') delete spec.sessionAffinityConfig;
  if (spec.sessionAffinity === 'ClientIP' && spec.sessionAffinityConfig?.clientIP?.timeoutSeconds == null) {
    spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: DEFAULT_CLIENT_IP_AFFINITY_SECONDS } };
  }
  if (!spec.type) spec.type = 'ClusterIP';
  for (const p of spec.ports ?? []) {
    if (!p.protocol) p.protocol = 'TCP';
    // targetPort 0 and "" both mean "unset" (intstr zero values), so both default to the Service port.
    if (p.targetPort === undefined || p.targetPort === null || p.targetPort === 0 || p.targetPort === '') {
      p.targetPort = p.port;
    }
  }
  if (externallyAccessible(svc) && !spec.externalTrafficPolicy) spec.externalTrafficPolicy = 'Cluster';
  // Only the three proxied types get a default; ExternalName (and unknown types) are left alone, as in Kubernetes.
  if (spec.internalTrafficPolicy == null && ['ClusterIP', 'NodePort', 'LoadBalancer'].includes(spec.type)) {
    spec.internalTrafficPolicy = 'Cluster';
  }
  if (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts == null) {
    spec.allocateLoadBalancerNodePorts = true;
  }
}

const sameList = (a: readonly string[] | undefined, b: readonly string[] | undefined): boolean =>
  (a ?? []).length === (b ?? []).length && (a ?? []).every((v, i) => v === (b ?? [])[i]);

/**
 * Strategy NormalizeClusterIPs: keeps clusterIP and clusterIPs coherent. On create, a lone clusterIP initialises
 * clusterIPs (old clients only know the singular field); the plural alone is *not* copied back, because clients that
 * know the plural field must send both, and validation reports it.
 */
function normalizeClusterIPs(svc: V1Service, old: V1Service | undefined): void {
  const spec = svc.spec as V1ServiceSpec;
  if (!old) {
    if (spec.clusterIP && !spec.clusterIPs?.length) spec.clusterIPs = [spec.clusterIP];
    return;
  }
  const oldSpec = old.spec ?? {};
  // An old client that patched some other field and dropped clusterIPs.
  if (oldSpec.clusterIPs?.length && !spec.clusterIPs?.length && (oldSpec.clusterIP ?? '') === (spec.clusterIP ?? '')) {
    spec.clusterIPs = [...oldSpec.clusterIPs];
  }
  if ((oldSpec.clusterIP ?? '') !== (spec.clusterIP ?? '')) {
    if (oldSpec.clusterIP && !spec.clusterIP) {
      // Clearing the singular clears the plural on the client's behalf (if it left the plural untouched).
      if (sameList(oldSpec.clusterIPs, spec.clusterIPs)) delete spec.clusterIPs;
    } else if (sameList(oldSpec.clusterIPs, spec.clusterIPs)) {
      spec.clusterIPs = [spec.clusterIP as string];
    }
  }
}

const familyOf = (ip: string): string | undefined => (isIPv4(ip) ? 'IPv4' : isIPv6(ip) ? 'IPv6' : undefined);

/**
 * Allocator initIPFamilyFields for a single-stack IPv4 cluster. ipFamilyPolicy defaults to SingleStack, except for
 * headless Services without a selector, which default to RequireDualStack and list both families (their DNS records
 * come from manually managed Endpoints that may hold either family). ipFamilies is inferred from clusterIPs, then
 * defaults to the cluster's family. Values the user chose are kept; validation reports those the cluster cannot serve.
 */
function initIPFamilyFields(svc: V1Service): void {
  const spec = svc.spec as V1ServiceSpec;
  if (spec.type === 'ExternalName') return;
  const headlessSelectorless = spec.clusterIP === 'None' && !hasSelector(svc);
  if (!spec.ipFamilyPolicy) {
    if ((spec.ipFamilies?.length ?? 0) > 1 || (spec.clusterIPs?.length ?? 0) > 1)
      spec.ipFamilyPolicy = 'RequireDualStack';
    else spec.ipFamilyPolicy = headlessSelectorless ? 'RequireDualStack' : 'SingleStack';
  }
  const families = [...(spec.ipFamilies ?? [])];
  (spec.clusterIPs ?? []).every((ip, i) => {
    if (ip === 'None') return false;
    const fam = familyOf(ip);
    if (fam === undefined) return false; // malformed: validation reports it, nothing to infer
    if (i >= families.length) families.push(fam);
    return true;
  });
  if (families.length === 0) families.push('IPv4');
  // Headless and selectorless: "this follows headful services", except that even a single-stack cluster lists the
  // alternate family unless the user asked for SingleStack.
  if (headlessSelectorless && families.length < 2 && spec.ipFamilyPolicy !== 'SingleStack') {
    families.push(families[0] === 'IPv4' ? 'IPv6' : 'IPv4');
  }
  spec.ipFamilies = families;
}

/**
 * Prepares an update the way the Service registry does before ValidateServiceUpdate runs, returning a deep copy of
 * `newSvc` with defaults applied and:
 * - allocated values the client left out patched back from `oldSvc` (clusterIP/clusterIPs, nodePorts matched by port
 *   name when that nodePort is not used by another port, healthCheckNodePort), so re-applying a manifest without
 *   them is a no-op, as with kubectl apply / replace;
 * - fields that only applied to the old type dropped when the user did not touch them (clusterIPs and IP families
 *   when switching to ExternalName, nodePorts when leaving NodePort/LoadBalancer, healthCheckNodePort,
 *   allocateLoadBalancerNodePorts, loadBalancerClass, externalTrafficPolicy, load-balancer status).
 */
export function defaultServiceUpdate(newInput: V1Service, oldSvc: V1Service): V1Service {
  const svc = clone(newInput);
  svc.apiVersion ??= 'v1';
  svc.kind ??= 'Service';
  svc.metadata ??= {};
  if (!svc.metadata.namespace) svc.metadata.namespace = oldSvc.metadata?.namespace ?? DEFAULT_NAMESPACE;
  svc.spec ??= {};
  applySpecDefaults(svc);
  patchAllocatedValues(svc, oldSvc);
  normalizeClusterIPs(svc, oldSvc);
  dropTypeDependentFields(svc, oldSvc);
  initIPFamilyFieldsForUpdate(svc, oldSvc);
  return svc;
}

function patchAllocatedValues(svc: V1Service, old: V1Service): void {
  const spec = svc.spec as V1ServiceSpec;
  const oldSpec = old.spec ?? {};
  if (needsClusterIP(old) && needsClusterIP(svc)) {
    if (!spec.clusterIP && oldSpec.clusterIP) spec.clusterIP = oldSpec.clusterIP;
    if (!spec.clusterIPs?.length && oldSpec.clusterIPs?.length) spec.clusterIPs = [...oldSpec.clusterIPs];
  }
  if (needsNodePort(old) && needsNodePort(svc)) {
    const usedBy = (s: V1Service) => new Set((s.spec?.ports ?? []).map((p) => p.nodePort ?? 0).filter((n) => n !== 0));
    const newUsed = usedBy(svc);
    const used = new Set([...usedBy(old)].filter((n) => newUsed.has(n)));
    // Matched by port name: the user may have changed the port number or protocol, and still means the same port.
    const byName = new Map((oldSpec.ports ?? []).map((p) => [p.name ?? '', p.nodePort ?? 0] as const));
    for (const p of spec.ports ?? []) {
      if (!p.nodePort) {
        const oldVal = byName.get(p.name ?? '') ?? 0;
        if (oldVal !== 0 && !used.has(oldVal)) p.nodePort = oldVal;
      }
    }
  }
  if (needsHealthCheck(old) && needsHealthCheck(svc) && !spec.healthCheckNodePort && oldSpec.healthCheckNodePort) {
    spec.healthCheckNodePort = oldSpec.healthCheckNodePort;
  }
}

function dropTypeDependentFields(svc: V1Service, old: V1Service): void {
  const spec = svc.spec as V1ServiceSpec;
  const oldSpec = old.spec ?? {};
  if (needsClusterIP(old) && !needsClusterIP(svc)) {
    if (sameList(oldSpec.clusterIPs, spec.clusterIPs)) {
      delete spec.clusterIP;
      delete spec.clusterIPs;
    }
    if (sameList(oldSpec.ipFamilies, spec.ipFamilies)) delete spec.ipFamilies;
    if ((oldSpec.ipFamilyPolicy ?? '') === (spec.ipFamilyPolicy ?? '')) delete spec.ipFamilyPolicy;
  }
  if (needsNodePort(old) && !needsNodePort(svc)) {
    const sameNodePorts =
      (oldSpec.ports ?? []).length === (spec.ports ?? []).length &&
      (oldSpec.ports ?? []).every((p, i) => (p.nodePort ?? 0) === (spec.ports?.[i]?.nodePort ?? 0));
    if (sameNodePorts) for (const p of spec.ports ?? []) delete p.nodePort;
  }
  if (needsHealthCheck(old) && !needsHealthCheck(svc)) {
    if ((oldSpec.healthCheckNodePort ?? 0) === (spec.healthCheckNodePort ?? 0)) delete spec.healthCheckNodePort;
  }
  if (oldSpec.type === 'LoadBalancer' && spec.type !== 'LoadBalancer') {
    if (
      spec.allocateLoadBalancerNodePorts != null &&
      oldSpec.allocateLoadBalancerNodePorts === spec.allocateLoadBalancerNodePorts
    ) {
      delete spec.allocateLoadBalancerNodePorts;
    }
    if (oldSpec.loadBalancerClass === spec.loadBalancerClass) delete spec.loadBalancerClass;
  }
  if (externallyAccessible(old) && !externallyAccessible(svc)) {
    if (oldSpec.externalTrafficPolicy === spec.externalTrafficPolicy) delete spec.externalTrafficPolicy;
  }
  if (spec.type !== 'LoadBalancer' && svc.status?.loadBalancer) delete svc.status.loadBalancer;
}

/** On update a policy/families the client left out are kept from the old object (same type family of fields). */
function initIPFamilyFieldsForUpdate(svc: V1Service, old: V1Service): void {
  const spec = svc.spec as V1ServiceSpec;
  if (spec.type === 'ExternalName') return;
  const oldSpec = old.spec ?? {};
  if (needsClusterIP(old) && isHeadless(svc) === isHeadless(old)) {
    if (!spec.ipFamilyPolicy && oldSpec.ipFamilyPolicy) spec.ipFamilyPolicy = oldSpec.ipFamilyPolicy;
    if (!spec.ipFamilies?.length && oldSpec.ipFamilies?.length) spec.ipFamilies = [...oldSpec.ipFamilies];
  }
  initIPFamilyFields(svc);
}

/**
 * SetDefaults_Pod (the parts this controller reads): namespace, container and restartable-init-container port
 * protocols (TCP), which named targetPorts are matched against.
 */
export function defaultPod(input: V1Pod): V1Pod {
  const pod = clone(input);
  pod.apiVersion ??= 'v1';
  pod.kind ??= 'Pod';
  pod.metadata ??= {};
  if (!pod.metadata.namespace) pod.metadata.namespace = DEFAULT_NAMESPACE;
  for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]) {
    for (const p of c.ports ?? []) if (!p.protocol) p.protocol = 'TCP';
  }
  normalizePodIPs(pod.status);
  return pod;
}

/**
 * The v1 -> internal PodStatus conversion's rule for addresses (what printers and the endpoint controllers read):
 * a podIP that is set is podIPs[0], and wins when the two differ (podIPs becomes [podIP], for older clients that only
 * know podIP). An invalid podIP is left alone, so validation reports it once, at status.podIP. Every write of a Pod's
 * status goes through it, as every v1 body goes through the conversion upstream.
 */
export function normalizePodIPs(status: V1Pod['status']): void {
  const ip = status?.podIP;
  if (!status || !ip || !(isIPv4(ip) || isIPv6(ip))) return;
  if (status.podIPs?.[0]?.ip !== ip) status.podIPs = [{ ip }];
}

/** SetDefaults_Endpoints / SetDefaults_EndpointPort: namespace and port protocol TCP. */
export function defaultEndpoints(input: V1Endpoints): V1Endpoints {
  const ep = clone(input);
  ep.apiVersion ??= 'v1';
  ep.kind ??= 'Endpoints';
  ep.metadata ??= {};
  if (!ep.metadata.namespace) ep.metadata.namespace = DEFAULT_NAMESPACE;
  for (const s of ep.subsets ?? []) for (const p of s.ports ?? []) if (!p.protocol) p.protocol = 'TCP';
  return ep;
}
