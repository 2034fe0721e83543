/**
 * Validation of Services, Pods and Endpoints with the API server's rules, field paths and messages
 * (k8s.io/kubernetes pkg/apis/core/validation ValidateService / ValidateServiceUpdate / ValidateEndpoints / pod
 * container ports, apimachinery ValidateObjectMeta), so `svcctl apply` rejects exactly what kubectl would be refused.
 *
 * Run on *defaulted* objects (lib/model/defaults.ts), as the API server does. On top of ValidateService, checks the
 * API server performs while allocating (and that only depend on ClusterConfig) are made here too, with the
 * allocator's wording, so bad input is refused before anything is stored or allocated:
 * nodePort/healthCheckNodePort inside --service-node-port-range, a requested clusterIP inside the service CIDR, and
 * IP families this IPv4 single-stack cluster cannot serve.
 *
 * Differences that cannot be avoided: Go prints struct and slice values with %#v (e.g. `[]string{"10.0.0.1"}`),
 * field-errors.ts renders them as JSON (`["10.0.0.1"]`); and Go iterates maps in random order while we sort keys.
 */
import type {
  V1Endpoint,
  V1EndpointSlice,
  V1Endpoints,
  V1ObjectMeta,
  V1Pod,
  V1Service,
  V1ServicePort,
  V1ServiceSpec,
} from '@kubernetes/client-node';
import { duplicate, forbidden, invalid, notSupported, required, tooLong, type FieldError } from './field-errors.js';
import type { ClusterConfig } from './types.js';
import { parseLoadBalancerAnnotations } from './annotations.js';
import {
  isDns1035Label,
  isDns1123Label,
  isDns1123Subdomain,
  isIanaSvcName,
  isQualifiedName,
  isValidLabelValue,
  isValidPortNum,
} from './names.js';
import { endpointIPProblems, isCidr, isIP, isIPv4, isIPv6, nonSpecialIPProblems, parseCidr, parseIPv4 } from './ip.js';
import { MAX_CLIENT_IP_AFFINITY_SECONDS, externallyAccessible, isHeadless, needsHealthCheck } from './defaults.js';

/** apimachinery TotalAnnotationSizeLimitB: 256 KiB over all keys and values. */
export const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;
export const SOURCE_RANGES_ANNOTATION = 'service.beta.kubernetes.io/load-balancer-source-ranges';

// "Unsupported value" lists are sorted, as sets.List() sorts them in Go.
const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const SESSION_AFFINITIES = ['ClientIP', 'None'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const TRAFFIC_POLICIES = ['Cluster', 'Local'];
const IP_FAMILIES = ['IPv4', 'IPv6'];
const IP_FAMILY_POLICIES = ['PreferDualStack', 'RequireDualStack', 'SingleStack'];
const TRAFFIC_DISTRIBUTIONS = ['PreferClose', 'PreferSameNode', 'PreferSameZone'];

const keyPath = (base: string, key: string): string => `${base}[${key}]`;
/**
 * The errors of a map's entries in key order: Go iterates maps in random order, sorted keys keep our messages
 * deterministic. Only entries that have errors are sorted (sorting 80,000 valid labels cost more than checking them).
 */
function inKeyOrder(perKey: [string, FieldError[]][]): FieldError[] {
  return perKey.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).flatMap(([, e]) => e);
}
const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

// ---------------------------------------------------------------------------------------------------------------
// Metadata

/** unversioned ValidateLabels: both key and value errors are reported at the map's path (not the key's). */
export function validateLabels(labels: Record<string, string> | undefined, path: string): FieldError[] {
  const perKey: [string, FieldError[]][] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    const errs = isQualifiedName(k).map((m) => invalid(path, k, m));
    if (typeof v !== 'string') errs.push(invalid(path, v, 'must be a string'));
    else for (const m of isValidLabelValue(v)) errs.push(invalid(path, v, m));
    if (errs.length > 0) perKey.push([k, errs]);
  }
  return inKeyOrder(perKey);
}

/** apimachinery ValidateAnnotations: keys are qualified names compared case-insensitively; 256 KiB in total. */
export function validateAnnotations(annotations: Record<string, string> | undefined, path: string): FieldError[] {
  const perKey: [string, FieldError[]][] = [];
  let total = 0;
  for (const [k, v] of Object.entries(annotations ?? {})) {
    const errs = isQualifiedName(k.toLowerCase()).map((m) => invalid(path, k, m));
    if (errs.length > 0) perKey.push([k, errs]);
    total += bytes(k) + (typeof v === 'string' ? bytes(v) : 0);
  }
  const errs = inKeyOrder(perKey);
  if (total > TOTAL_ANNOTATION_SIZE_LIMIT) errs.push(tooLong(path, TOTAL_ANNOTATION_SIZE_LIMIT));
  return errs;
}

/** ValidateObjectMeta for a namespaced object on create, with the kind's name rule. */
export function validateObjectMeta(
  meta: V1ObjectMeta | undefined,
  nameRule: (name: string) => string[],
  path = 'metadata',
): FieldError[] {
  const errs: FieldError[] = [];
  const name = meta?.name ?? '';
  if (name === '') errs.push(required(`${path}.name`, 'name or generateName is required'));
  else for (const m of nameRule(name)) errs.push(invalid(`${path}.name`, name, m));
  const ns = meta?.namespace ?? '';
  if (ns === '') errs.push(required(`${path}.namespace`));
  else for (const m of isDns1123Label(ns)) errs.push(invalid(`${path}.namespace`, ns, m));
  errs.push(...validateLabels(meta?.labels, `${path}.labels`));
  errs.push(...validateAnnotations(meta?.annotations, `${path}.annotations`));
  return errs;
}

/** ValidateObjectMetaUpdate (the parts a manifest can touch): name and namespace are immutable. */
export function validateObjectMetaUpdate(
  meta: V1ObjectMeta | undefined,
  oldMeta: V1ObjectMeta | undefined,
  path = 'metadata',
): FieldError[] {
  const errs: FieldError[] = [];
  if ((meta?.name ?? '') !== (oldMeta?.name ?? '')) {
    errs.push(invalid(`${path}.name`, meta?.name ?? '', 'field is immutable'));
  }
  if ((meta?.namespace ?? '') !== (oldMeta?.namespace ?? '')) {
    errs.push(invalid(`${path}.namespace`, meta?.namespace ?? '', 'field is immutable'));
  }
  return errs;
}

// ---------------------------------------------------------------------------------------------------------------
// IP helpers with apimachinery's wording

function validateIP(path: string, value: string): FieldError[] {
  return isIP(value) ? [] : [invalid(path, value, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)')];
}

function validateCidr(path: string, value: string): FieldError[] {
  return isCidr(value) ? [] : [invalid(path, value, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)')];
}

/** ValidateEndpointIP (externalIPs): not unspecified, loopback or link-local (ip.ts has the rule). */
export function validateNonSpecialIP(path: string, value: string): FieldError[] {
  return nonSpecialIPProblems(value).map((m) => invalid(path, value, m));
}

/**
 * An endpoint address (Pod IP, Endpoints or EndpointSlice address): a valid IP, then everything that may not be a
 * DNAT target on a node (ip.ts endpointIPProblems), the service CIDR included when the cluster's is known.
 */
export function validateEndpointAddress(path: string, value: string, cfg?: ClusterConfig): FieldError[] {
  const e = validateIP(path, value);
  return e.length > 0 ? e : endpointIPProblems(value, cfg?.serviceCidr).map((m) => invalid(path, value, m));
}

// ---------------------------------------------------------------------------------------------------------------
// Service

export interface ValidateServiceOptions {
  /**
   * True once the allocator has run (stored objects): then a LoadBalancer Service with externalTrafficPolicy Local
   * must carry its healthCheckNodePort, as the API server demands after its own allocation. Default false: a
   * manifest may leave it out and have one allocated.
   */
  allocated?: boolean;
}

function validateServicePort(sp: V1ServicePort, requireName: boolean, names: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const name = sp.name ?? '';
  if (requireName && name === '') {
    errs.push(required(`${path}.name`));
  } else if (name !== '') {
    for (const m of isDns1123Label(name)) errs.push(invalid(`${path}.name`, name, m));
    if (names.has(name)) errs.push(duplicate(`${path}.name`, name));
    else names.add(name);
  }
  for (const m of isValidPortNum(sp.port ?? 0)) errs.push(invalid(`${path}.port`, sp.port ?? 0, m));
  if (!sp.protocol) errs.push(required(`${path}.protocol`));
  else if (!PROTOCOLS.includes(sp.protocol)) errs.push(notSupported(`${path}.protocol`, sp.protocol, PROTOCOLS));
  errs.push(...validatePortNumOrName(sp.targetPort, `${path}.targetPort`));
  if (sp.appProtocol != null) {
    for (const m of isQualifiedName(sp.appProtocol)) errs.push(invalid(`${path}.appProtocol`, sp.appProtocol, m));
  }
  // In the v1 API a targetPort different from port on a headless Service is tolerated (and ignored), so no check.
  return errs;
}

/** ValidatePortNumOrName: an int must be a port number, a string an IANA_SVC_NAME. */
export function validatePortNumOrName(port: number | string | undefined, path: string): FieldError[] {
  if (typeof port === 'string') return isIanaSvcName(port).map((m) => invalid(path, port, m));
  const n = port ?? 0;
  return isValidPortNum(n).map((m) => invalid(path, n, m));
}

/** The allocator's error for a requested port outside --service-node-port-range. */
function nodePortRangeError(path: string, port: number, cfg: ClusterConfig): FieldError[] {
  const { min, max } = cfg.nodePortRange;
  if (port >= min && port <= max) return [];
  return [invalid(path, port, `provided port is not in the valid range. The range of valid ports is ${min}-${max}`)];
}

/** ValidateServiceClusterIPsRelatedFields (skipped for ExternalName, whose fields are checked as forbidden). */
function validateClusterIPsRelatedFields(svc: V1Service): FieldError[] {
  const spec = svc.spec ?? {};
  if (spec.type === 'ExternalName') return [];
  const errs: FieldError[] = [];
  const clusterIPs = spec.clusterIPs ?? [];
  const families = spec.ipFamilies ?? [];
  if (spec.clusterIP) {
    if (clusterIPs.length === 0) errs.push(required('spec.clusterIPs'));
    else if (clusterIPs[0] !== spec.clusterIP) {
      errs.push(invalid('spec.clusterIPs', clusterIPs, 'first value must match `clusterIP`'));
    }
  } else if (clusterIPs.length !== 0) {
    errs.push(invalid('spec.clusterIPs', clusterIPs, 'must be empty when `clusterIP` is not specified'));
  }
  const seen = new Set<string>();
  families.forEach((f, i) => {
    if (!IP_FAMILIES.includes(f)) errs.push(notSupported(`spec.ipFamilies[${i}]`, f, IP_FAMILIES));
    if (seen.has(f)) errs.push(duplicate(`spec.ipFamilies[${i}]`, f));
    seen.add(f);
  });
  if (spec.ipFamilyPolicy != null && !IP_FAMILY_POLICIES.includes(spec.ipFamilyPolicy)) {
    errs.push(notSupported('spec.ipFamilyPolicy', spec.ipFamilyPolicy, IP_FAMILY_POLICIES));
  }
  let hasInvalidIPs = false;
  clusterIPs.forEach((ip, i) => {
    if (i === 0 && ip === 'None') {
      if (clusterIPs.length > 1) {
        hasInvalidIPs = true;
        errs.push(invalid('spec.clusterIPs', clusterIPs, "'None' must be the first and only value"));
      }
      return;
    }
    const e = validateIP(`spec.clusterIPs[${i}]`, ip);
    if (e.length > 0) hasInvalidIPs = true;
    errs.push(...e);
  });
  if (clusterIPs.length > 2) errs.push(invalid('spec.clusterIPs', clusterIPs, 'may only hold up to 2 values'));
  // Further checks on bad IPs would only produce confusing follow-up errors.
  if (hasInvalidIPs) return errs;
  if (clusterIPs.length > 1) {
    const v4 = clusterIPs.filter(isIPv4).length;
    if (clusterIPs.length !== 2 || v4 !== 1) {
      errs.push(invalid('spec.clusterIPs', clusterIPs, 'may specify no more than one IP for each IP family'));
    }
  }
  if (!isHeadless(svc) && clusterIPs.length > 0 && families.length > 0) {
    clusterIPs.forEach((ip, i) => {
      if (i > families.length - 1) return;
      if (families[i] === 'IPv4' && isIPv6(ip)) {
        errs.push(invalid(`spec.clusterIPs[${i}]`, ip, `expected an IPv4 value as indicated by \`ipFamilies[${i}]\``));
      }
      if (families[i] === 'IPv6' && !isIPv6(ip)) {
        errs.push(invalid(`spec.clusterIPs[${i}]`, ip, `expected an IPv6 value as indicated by \`ipFamilies[${i}]\``));
      }
    });
  }
  return errs;
}

/**
 * What the allocator refuses on this IPv4 single-stack cluster, worded as it words it: IPv6 families, dual-stack
 * policies that cannot be met, and requested clusterIPs outside the service CIDR (or its reserved network and
 * broadcast addresses). Headless Services without a selector are exempt from the family checks, as in Kubernetes.
 */
function validateAgainstCluster(svc: V1Service, cfg: ClusterConfig): FieldError[] {
  const spec = svc.spec ?? {};
  if (spec.type === 'ExternalName') return [];
  const errs: FieldError[] = [];
  const families = spec.ipFamilies ?? [];
  const clusterIPs = spec.clusterIPs ?? [];
  if (spec.ipFamilyPolicy === 'SingleStack') {
    if (clusterIPs.length === 2) {
      errs.push(
        invalid(
          'spec.ipFamilyPolicy',
          spec.ipFamilyPolicy,
          "must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified",
        ),
      );
    }
    if (families.length === 2) {
      errs.push(
        invalid(
          'spec.ipFamilyPolicy',
          spec.ipFamilyPolicy,
          "must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified",
        ),
      );
    }
  }
  const headlessSelectorless = spec.clusterIP === 'None' && Object.keys(spec.selector ?? {}).length === 0;
  if (headlessSelectorless) return errs;
  if (spec.ipFamilyPolicy === 'RequireDualStack') {
    errs.push(
      invalid('spec.ipFamilyPolicy', spec.ipFamilyPolicy, 'this cluster is not configured for dual-stack services'),
    );
  }
  families.forEach((f, i) => {
    if (f === 'IPv6') errs.push(invalid(`spec.ipFamilies[${i}]`, f, 'not configured on this cluster'));
  });
  const range = parseCidr(cfg.serviceCidr);
  clusterIPs.forEach((ip) => {
    if (ip === 'None' || !isIPv4(ip) || !range) return;
    const n = parseIPv4(ip) as number;
    // The allocator hands out neither the network address nor (for prefixes shorter than /31) the broadcast address.
    const first = range.prefix >= 31 ? range.base : range.base + 1;
    const last = range.prefix >= 31 ? range.base + range.size - 1 : range.base + range.size - 2;
    if (n < first || n > last) {
      errs.push(
        invalid(
          'spec.clusterIPs',
          clusterIPs,
          `failed to allocate IP ${ip}: the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${cfg.serviceCidr}`,
        ),
      );
    }
  });
  return errs;
}

/** ValidateService (+ the allocator's cluster-dependent checks, + the LB annotations for type LoadBalancer). */
export function validateService(svc: V1Service, cfg: ClusterConfig, opts: ValidateServiceOptions = {}): FieldError[] {
  const errs: FieldError[] = validateObjectMeta(svc.metadata, isDns1035Label);
  const spec = svc.spec ?? {};
  const type = spec.type ?? '';
  const ports = spec.ports ?? [];
  // The order of the checks is the apiserver's: clients (and tests) see the causes in the same order.
  errs.push(...validateTypeShape(svc));
  const names = new Set<string>();
  ports.forEach((p, i) => errs.push(...validateServicePort(p, ports.length > 1, names, `spec.ports[${i}]`)));
  if (spec.selector != null) errs.push(...validateLabels(spec.selector, 'spec.selector'));
  errs.push(...validateSessionAffinity(spec));
  errs.push(...validateClusterIPsRelatedFields(svc));
  (spec.externalIPs ?? []).forEach((ip, i) => {
    const path = `spec.externalIPs[${i}]`;
    const e = validateIP(path, ip);
    errs.push(...(e.length > 0 ? e : validateNonSpecialIP(path, ip)));
  });
  if (!type) errs.push(required('spec.type'));
  else if (!SERVICE_TYPES.includes(type)) errs.push(notSupported('spec.type', type, SERVICE_TYPES));
  errs.push(...validatePortUniqueness(type, ports));
  errs.push(...validateSourceRanges(svc));
  errs.push(...validateLoadBalancerOnlyFields(spec));
  errs.push(...validateTrafficPolicies(svc, cfg, opts));
  // What the allocator would refuse (nodePort range, clusterIP range, families).
  if (type === 'NodePort' || type === 'LoadBalancer') {
    ports.forEach((p, i) => {
      if (p.nodePort) errs.push(...nodePortRangeError(`spec.ports[${i}].nodePort`, p.nodePort, cfg));
    });
  }
  errs.push(...validateAgainstCluster(svc, cfg));
  if (type === 'LoadBalancer') errs.push(...parseLoadBalancerAnnotations(svc).errors);
  return errs;
}

/** Ports required unless headless or ExternalName; what each type forbids (None clusterIP, ExternalName's fields). */
function validateTypeShape(svc: V1Service): FieldError[] {
  const errs: FieldError[] = [];
  const spec = svc.spec ?? {};
  const type = spec.type ?? '';
  const headless = isHeadless(svc);
  if ((spec.ports ?? []).length === 0 && !headless && type !== 'ExternalName') errs.push(required('spec.ports'));
  if (headless && (type === 'LoadBalancer' || type === 'NodePort'))
    errs.push(invalid('spec.clusterIPs[0]', 'None', `may not be set to 'None' for ${type} services`));
  if (type !== 'ExternalName') return errs;
  if ((spec.clusterIPs?.length ?? 0) > 0)
    errs.push(forbidden('spec.clusterIPs', 'may not be set for ExternalName services'));
  if ((spec.ipFamilies?.length ?? 0) > 0)
    errs.push(forbidden('spec.ipFamilies', 'may not be set for ExternalName services'));
  if (spec.ipFamilyPolicy != null)
    errs.push(forbidden('spec.ipFamilyPolicy', 'may not be set for ExternalName services'));
  // A CNAME target may carry a trailing dot to mark it fully qualified.
  const cname = (spec.externalName ?? '').replace(/\.$/, '');
  if (cname.length > 0) for (const m of isDns1123Subdomain(cname)) errs.push(invalid('spec.externalName', cname, m));
  else errs.push(required('spec.externalName'));
  return errs;
}

function validateSessionAffinity(spec: V1ServiceSpec): FieldError[] {
  const errs: FieldError[] = [];
  if (!spec.sessionAffinity) errs.push(required('spec.sessionAffinity'));
  else if (!SESSION_AFFINITIES.includes(spec.sessionAffinity)) {
    errs.push(notSupported('spec.sessionAffinity', spec.sessionAffinity, SESSION_AFFINITIES));
  }
  if (spec.sessionAffinity === 'ClientIP') {
    const when = 'when session affinity type is ClientIP';
    const cfgPath = 'spec.sessionAffinityConfig';
    const t = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds;
    if (spec.sessionAffinityConfig == null) errs.push(required(cfgPath, when));
    else if (spec.sessionAffinityConfig.clientIP == null) errs.push(required(`${cfgPath}.clientIP`, when));
    else if (t == null) errs.push(required(`${cfgPath}.clientIP.timeoutSeconds`, when));
    else if (!Number.isInteger(t) || t <= 0 || t > MAX_CLIENT_IP_AFFINITY_SECONDS) {
      const msg = `must be greater than 0 and less than ${MAX_CLIENT_IP_AFFINITY_SECONDS}`;
      errs.push(invalid(`${cfgPath}.clientIP.timeoutSeconds`, t, msg));
    }
  } else if (spec.sessionAffinity === 'None' && spec.sessionAffinityConfig != null) {
    errs.push(forbidden('spec.sessionAffinityConfig', 'must not be set when session affinity is None'));
  }
  return errs;
}

/** No nodePort on a ClusterIP Service; no repeated protocol/nodePort or protocol/port. */
function validatePortUniqueness(type: string, ports: V1ServicePort[]): FieldError[] {
  const errs: FieldError[] = [];
  if (type === 'ClusterIP') {
    ports.forEach((p, i) => {
      if (p.nodePort) errs.push(forbidden(`spec.ports[${i}].nodePort`, "may not be used when `type` is 'ClusterIP'"));
    });
  }
  // A nodePort may be shared only by ports of different protocols (e.g. DNS on TCP and UDP 53).
  const nodePorts = new Set<string>();
  ports.forEach((p, i) => {
    if (!p.nodePort) return;
    const key = `${p.protocol}/${p.nodePort}`;
    if (nodePorts.has(key)) errs.push(duplicate(`spec.ports[${i}].nodePort`, p.nodePort));
    nodePorts.add(key);
  });
  const servicePorts = new Set<string>();
  ports.forEach((p, i) => {
    const key = `${p.protocol}/${p.port}`;
    if (servicePorts.has(key))
      errs.push(duplicate(`spec.ports[${i}]`, { protocol: p.protocol ?? '', port: p.port ?? 0 }));
    servicePorts.add(key);
  });
  return errs;
}

/** spec.loadBalancerSourceRanges, and the annotation of the same meaning on a Service that is not a LoadBalancer. */
function validateSourceRanges(svc: V1Service): FieldError[] {
  const errs: FieldError[] = [];
  const type = svc.spec?.type ?? '';
  // The Go code names this path with a capital L; kept so messages match the API server's.
  const sourceRanges = svc.spec?.loadBalancerSourceRanges ?? [];
  const annotationRanges = svc.metadata?.annotations?.[SOURCE_RANGES_ANNOTATION];
  if (sourceRanges.length > 0) {
    if (type !== 'LoadBalancer') {
      errs.push(forbidden('spec.LoadBalancerSourceRanges', "may only be used when `type` is 'LoadBalancer'"));
    }
    // Values may be space-padded: a historical accident of the transition from the annotation.
    sourceRanges.forEach((r, i) => errs.push(...validateCidr(`spec.LoadBalancerSourceRanges[${i}]`, String(r).trim())));
  } else if (annotationRanges !== undefined && type !== 'LoadBalancer') {
    // For LoadBalancer Services the annotation's CIDRs are checked by parseLoadBalancerAnnotations.
    const path = keyPath('metadata.annotations', SOURCE_RANGES_ANNOTATION);
    errs.push(forbidden(path, "may only be used when `type` is 'LoadBalancer'"));
    const v = annotationRanges.trim();
    if (v !== '') for (const c of v.split(',')) errs.push(...validateCidr(path, c.trim()));
  }
  return errs;
}

/** allocateLoadBalancerNodePorts and loadBalancerClass: required, checked or forbidden by type. */
function validateLoadBalancerOnlyFields(spec: V1ServiceSpec): FieldError[] {
  const errs: FieldError[] = [];
  const lb = spec.type === 'LoadBalancer';
  const onlyLb = "may only be used when `type` is 'LoadBalancer'";
  if (spec.allocateLoadBalancerNodePorts != null && !lb)
    errs.push(forbidden('spec.allocateLoadBalancerNodePorts', onlyLb));
  // The Go code reports this one without the "spec." prefix; kept verbatim.
  if (lb && spec.allocateLoadBalancerNodePorts == null) errs.push(required('allocateLoadBalancerNodePorts'));
  if (spec.loadBalancerClass == null) return errs;
  if (!lb) errs.push(forbidden('spec.loadBalancerClass', onlyLb));
  else
    for (const m of isQualifiedName(spec.loadBalancerClass))
      errs.push(invalid('spec.loadBalancerClass', spec.loadBalancerClass, m));
  return errs;
}

/** externalTrafficPolicy, healthCheckNodePort, internalTrafficPolicy and trafficDistribution. */
function validateTrafficPolicies(svc: V1Service, cfg: ClusterConfig, opts: ValidateServiceOptions): FieldError[] {
  const errs: FieldError[] = [];
  const spec = svc.spec ?? {};
  const type = spec.type ?? '';
  if (!externallyAccessible(svc)) {
    if (spec.externalTrafficPolicy) {
      const msg = 'may only be set for externally-accessible services';
      errs.push(invalid('spec.externalTrafficPolicy', spec.externalTrafficPolicy, msg));
    }
  } else if (!spec.externalTrafficPolicy) {
    errs.push(required('spec.externalTrafficPolicy'));
  } else if (!TRAFFIC_POLICIES.includes(spec.externalTrafficPolicy)) {
    errs.push(notSupported('spec.externalTrafficPolicy', spec.externalTrafficPolicy, TRAFFIC_POLICIES));
  }
  errs.push(...validateHealthCheckNodePort(svc, cfg, opts));
  if (spec.internalTrafficPolicy == null) {
    // Not required for other types: stored objects from before the field existed must stay valid.
    if (['NodePort', 'LoadBalancer', 'ClusterIP'].includes(type)) errs.push(required('spec.internalTrafficPolicy'));
  } else if (!TRAFFIC_POLICIES.includes(spec.internalTrafficPolicy)) {
    errs.push(notSupported('spec.internalTrafficPolicy', spec.internalTrafficPolicy, TRAFFIC_POLICIES));
  }
  if (spec.trafficDistribution != null && !TRAFFIC_DISTRIBUTIONS.includes(spec.trafficDistribution)) {
    errs.push(notSupported('spec.trafficDistribution', spec.trafficDistribution, TRAFFIC_DISTRIBUTIONS));
  }
  return errs;
}

function validateHealthCheckNodePort(svc: V1Service, cfg: ClusterConfig, opts: ValidateServiceOptions): FieldError[] {
  const hc = svc.spec?.healthCheckNodePort ?? 0;
  if (!needsHealthCheck(svc)) {
    const msg = "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'";
    return hc !== 0 ? [invalid('spec.healthCheckNodePort', hc, msg)] : [];
  }
  if (hc === 0) return opts.allocated ? [required('spec.healthCheckNodePort')] : [];
  const e = isValidPortNum(hc).map((m) => invalid('spec.healthCheckNodePort', hc, m));
  return e.length > 0 ? e : nodePortRangeError('spec.healthCheckNodePort', hc, cfg);
}

function validateUpgradeDowngradeClusterIPs(old: V1Service, svc: V1Service): FieldError[] {
  if (svc.spec?.type === 'ExternalName' || old.spec?.type === 'ExternalName') return [];
  if (isHeadless(old) && isHeadless(svc)) return [];
  const errs: FieldError[] = [];
  const oldIPs = old.spec?.clusterIPs ?? [];
  const newIPs = svc.spec?.clusterIPs ?? [];
  if (oldIPs.length === newIPs.length) {
    oldIPs.forEach((ip, i) => {
      if (ip !== newIPs[i]) errs.push(invalid(`spec.clusterIPs[${i}]`, newIPs, 'may not change once set'));
    });
  } else if (oldIPs.length > newIPs.length) {
    if (newIPs.length === 0) errs.push(invalid('spec.clusterIPs[0]', newIPs, 'primary clusterIP can not be unset'));
    if (oldIPs.length > 0 && newIPs.length > 0 && newIPs[0] !== oldIPs[0]) {
      errs.push(invalid('spec.clusterIPs[0]', newIPs, 'may not change once set'));
    }
    if (newIPs.length === 1 && svc.spec?.ipFamilyPolicy !== 'SingleStack') {
      errs.push(
        invalid(
          'spec.ipFamilyPolicy',
          svc.spec?.ipFamilyPolicy ?? null,
          "must be set to 'SingleStack' when releasing the secondary clusterIP",
        ),
      );
    }
  } else if (oldIPs.length > 0 && newIPs[0] !== oldIPs[0]) {
    errs.push(invalid('spec.clusterIPs[0]', newIPs, 'may not change once set'));
  }
  return errs;
}

function validateUpgradeDowngradeIPFamilies(old: V1Service, svc: V1Service): FieldError[] {
  if (svc.spec?.type === 'ExternalName' || old.spec?.type === 'ExternalName') return [];
  // Changing to or from headless, or staying headless, may change families.
  if (isHeadless(svc) !== isHeadless(old) || isHeadless(svc)) return [];
  const errs: FieldError[] = [];
  const oldF = old.spec?.ipFamilies ?? [];
  const newF = svc.spec?.ipFamilies ?? [];
  if (oldF.length === newF.length) {
    oldF.forEach((f, i) => {
      if (f !== newF[i]) errs.push(invalid('spec.ipFamilies[0]', newF, 'may not change once set'));
    });
  } else if (oldF.length > newF.length) {
    if ((svc.spec?.clusterIPs ?? []).length === 0) {
      errs.push(invalid('spec.ipFamilies[0]', newF, 'primary ipFamily can not be unset'));
    }
    if (newF.length > 0 && newF[0] !== oldF[0])
      errs.push(invalid('spec.ipFamilies[0]', svc.spec?.clusterIPs ?? [], 'may not change once set'));
    if (newF.length === 1 && svc.spec?.ipFamilyPolicy !== 'SingleStack') {
      errs.push(
        invalid(
          'spec.ipFamilyPolicy',
          svc.spec?.ipFamilyPolicy ?? null,
          "must be set to 'SingleStack' when releasing the secondary ipFamily",
        ),
      );
    }
  } else if (oldF.length > 0 && newF.length > 0 && newF[0] !== oldF[0]) {
    errs.push(invalid('spec.ipFamilies[0]', svc.spec?.clusterIPs ?? [], 'may not change once set'));
  }
  return errs;
}

/**
 * ValidateServiceUpdate, on a new object prepared with defaultServiceUpdate: metadata name/namespace immutable;
 * primary clusterIP and ipFamily immutable except when switching to or from ExternalName (and headless may change
 * families); loadBalancerClass immutable while LoadBalancer; healthCheckNodePort immutable while it is needed; then
 * every create rule.
 */
export function validateServiceUpdate(
  newSvc: V1Service,
  oldSvc: V1Service,
  cfg: ClusterConfig,
  opts: ValidateServiceOptions = {},
): FieldError[] {
  const errs = validateObjectMetaUpdate(newSvc.metadata, oldSvc.metadata);
  errs.push(...validateUpgradeDowngradeClusterIPs(oldSvc, newSvc));
  errs.push(...validateUpgradeDowngradeIPFamilies(oldSvc, newSvc));
  if (oldSvc.spec?.type === 'LoadBalancer' && newSvc.spec?.type === 'LoadBalancer') {
    if ((oldSvc.spec.loadBalancerClass ?? null) !== (newSvc.spec.loadBalancerClass ?? null)) {
      errs.push(invalid('spec.loadBalancerClass', newSvc.spec.loadBalancerClass ?? null, 'may not change once set'));
    }
  }
  if (needsHealthCheck(oldSvc) && needsHealthCheck(newSvc)) {
    if ((oldSvc.spec?.healthCheckNodePort ?? 0) !== (newSvc.spec?.healthCheckNodePort ?? 0)) {
      errs.push(forbidden('spec.healthCheckNodePort', 'field is immutable'));
    }
  }
  errs.push(...validateService(newSvc, cfg, opts));
  return errs;
}

// ---------------------------------------------------------------------------------------------------------------
// Pod (the parts Services depend on)

/**
 * Pod validation limited to what this controller consumes: metadata (name is a DNS subdomain), containers
 * (required, DNS-1123 names), container ports (IANA_SVC_NAME names unique per Pod, containerPort 1-65535, hostPort,
 * protocol) and status.podIP/podIPs, which become endpoint addresses. Kubernetes accepts any valid IP in a Pod's
 * status and only refuses the EndpointSlice built from it; here the producer that writes the Pod owns its status, so
 * the address is held to the endpoint rules at once (with the service CIDR when `cfg` is given), and a Pod that
 * reports 169.254.169.254 is refused with a message instead of silently never becoming an endpoint.
 */
export function validatePod(pod: V1Pod, cfg?: ClusterConfig): FieldError[] {
  const errs = validateObjectMeta(pod.metadata, isDns1123Subdomain);
  const containers = pod.spec?.containers ?? [];
  if (containers.length === 0) errs.push(required('spec.containers'));
  // Port names are unique across all containers of the Pod: a named targetPort must resolve to one port.
  const portNames = new Set<string>();
  const containerNames = new Set<string>();
  const check = (list: typeof containers, base: string) =>
    list.forEach((c, ci) => {
      const cPath = `${base}[${ci}]`;
      if (!c.name) errs.push(required(`${cPath}.name`));
      else {
        for (const m of isDns1123Label(c.name)) errs.push(invalid(`${cPath}.name`, c.name, m));
        if (containerNames.has(c.name)) errs.push(duplicate(`${cPath}.name`, c.name));
        containerNames.add(c.name);
      }
      (c.ports ?? []).forEach((p, pi) => {
        const path = `${cPath}.ports[${pi}]`;
        if (p.name) {
          const msgs = isIanaSvcName(p.name);
          if (msgs.length > 0) for (const m of msgs) errs.push(invalid(`${path}.name`, p.name, m));
          else if (portNames.has(p.name)) errs.push(duplicate(`${path}.name`, p.name));
          else portNames.add(p.name);
        }
        if (!p.containerPort) errs.push(required(`${path}.containerPort`));
        else
          for (const m of isValidPortNum(p.containerPort))
            errs.push(invalid(`${path}.containerPort`, p.containerPort, m));
        if (p.hostPort)
          for (const m of isValidPortNum(p.hostPort)) errs.push(invalid(`${path}.hostPort`, p.hostPort, m));
        if (!p.protocol) errs.push(required(`${path}.protocol`));
        else if (!PROTOCOLS.includes(p.protocol)) errs.push(notSupported(`${path}.protocol`, p.protocol, PROTOCOLS));
      });
    });
  check(containers, 'spec.containers');
  check(pod.spec?.initContainers ?? [], 'spec.initContainers');
  errs.push(...validatePodIPs(pod, cfg));
  return errs;
}

function validatePodIPs(pod: V1Pod, cfg: ClusterConfig | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const podIP = pod.status?.podIP;
  if (podIP) errs.push(...validateEndpointAddress('status.podIP', podIP, cfg));
  const podIPs = pod.status?.podIPs ?? [];
  podIPs.forEach((p, i) => errs.push(...validateEndpointAddress(`status.podIPs[${i}].ip`, p.ip, cfg)));
  if (podIP && podIPs.length > 0 && podIPs[0]?.ip !== podIP) {
    errs.push(invalid('status.podIPs[0].ip', podIPs[0]?.ip ?? '', 'must be equal to `podIP`'));
  }
  return errs;
}

// ---------------------------------------------------------------------------------------------------------------
// Endpoints

/**
 * ValidateEndpointsCreate: addresses are valid endpoint IPs (validateEndpointAddress, with the service CIDR when `cfg`
 * is given); ports as Service ports (names required if many).
 */
export function validateEndpoints(ep: V1Endpoints, cfg?: ClusterConfig): FieldError[] {
  const errs = validateObjectMeta(ep.metadata, isDns1123Subdomain);
  (ep.subsets ?? []).forEach((ss, i) => {
    const path = `subsets[${i}]`;
    if ((ss.addresses?.length ?? 0) === 0 && (ss.notReadyAddresses?.length ?? 0) === 0) {
      errs.push(required(path, 'must specify `addresses` or `notReadyAddresses`'));
    }
    const addr = (list: typeof ss.addresses, kind: string) =>
      (list ?? []).forEach((a, j) => {
        const aPath = `${path}.${kind}[${j}]`;
        errs.push(...validateEndpointAddress(`${aPath}.ip`, a.ip ?? '', cfg));
        if (a.hostname)
          for (const m of isDns1123Label(a.hostname)) errs.push(invalid(`${aPath}.hostname`, a.hostname, m));
        if (a.nodeName != null) {
          for (const m of isDns1123Subdomain(a.nodeName)) errs.push(invalid(`${aPath}.nodeName`, a.nodeName, m));
        }
      });
    addr(ss.addresses, 'addresses');
    addr(ss.notReadyAddresses, 'notReadyAddresses');
    const ports = ss.ports ?? [];
    ports.forEach((p, j) => {
      const pPath = `${path}.ports[${j}]`;
      if (ports.length > 1 && !p.name) errs.push(required(`${pPath}.name`));
      else if (p.name) for (const m of isDns1123Label(p.name)) errs.push(invalid(`${pPath}.name`, p.name, m));
      for (const m of isValidPortNum(p.port ?? 0)) errs.push(invalid(`${pPath}.port`, p.port ?? 0, m));
      if (!p.protocol) errs.push(required(`${pPath}.protocol`));
      else if (!PROTOCOLS.includes(p.protocol)) errs.push(notSupported(`${pPath}.protocol`, p.protocol, PROTOCOLS));
    });
  });
  return errs;
}

// ---------------------------------------------------------------------------------------------------------------
// EndpointSlice (discovery.k8s.io/v1)

const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];
/** pkg/apis/discovery/validation limits. */
const MAX_SLICE_ENDPOINTS = 1000;
const MAX_SLICE_ADDRESSES = 100;
const MAX_SLICE_PORTS = 20000;
const MAX_TOPOLOGY_LABELS = 16;
const MAX_ZONE_HINTS = 8;

const tooMany = (field: string, n: number, max: number): FieldError => ({
  type: 'TooMany',
  field,
  value: n,
  detail: `must have at most ${max} items`,
});

/**
 * ValidateEndpointSliceCreate: metadata (name a DNS subdomain), addressType, at most 1000 endpoints of 1-100 addresses
 * each (IPv4/IPv6 addresses held to the endpoint rules, with the service CIDR when `cfg` is given; FQDNs to
 * IsFullyQualifiedDomainName), nodeName, deprecatedTopology, hostname, zone hints, and ports (unique names,
 * protocol, appProtocol).
 */
export function validateEndpointSlice(slice: V1EndpointSlice, cfg?: ClusterConfig): FieldError[] {
  const errs = validateObjectMeta(slice.metadata, isDns1123Subdomain);
  const type = slice.addressType;
  if (!type) errs.push(required('addressType'));
  else if (!ADDRESS_TYPES.includes(type)) errs.push(notSupported('addressType', type, ADDRESS_TYPES));
  const endpoints = slice.endpoints ?? [];
  if (endpoints.length > MAX_SLICE_ENDPOINTS) errs.push(tooMany('endpoints', endpoints.length, MAX_SLICE_ENDPOINTS));
  else endpoints.forEach((e, i) => errs.push(...validateSliceEndpoint(e, type, `endpoints[${i}]`, cfg)));
  errs.push(...validateSlicePorts(slice.ports ?? []));
  return errs;
}

function validateSliceEndpoint(e: V1Endpoint, type: string, path: string, cfg?: ClusterConfig): FieldError[] {
  const errs: FieldError[] = [];
  const addresses = e.addresses ?? [];
  if (addresses.length === 0) errs.push(required(`${path}.addresses`, 'must contain at least 1 address'));
  else if (addresses.length > MAX_SLICE_ADDRESSES) {
    errs.push(tooMany(`${path}.addresses`, addresses.length, MAX_SLICE_ADDRESSES));
  }
  addresses.forEach((a, i) => {
    const aPath = `${path}.addresses[${i}]`;
    if (type === 'IPv4' || type === 'IPv6') {
      // IsValidIPv4Address / IsValidIPv6Address, then ValidateEndpointIP (plus our rules), as Kubernetes lists them.
      if (!(type === 'IPv4' ? isIPv4(a) : isIPv6(a))) errs.push(invalid(aPath, a, `must be a valid ${type} address`));
      errs.push(...endpointIPProblems(a, cfg?.serviceCidr).map((m) => invalid(aPath, a, m)));
    } else if (type === 'FQDN') errs.push(...validateFqdn(aPath, a));
  });
  if (e.nodeName != null)
    for (const m of isDns1123Subdomain(e.nodeName)) errs.push(invalid(`${path}.nodeName`, e.nodeName, m));
  const topology = e.deprecatedTopology ?? {};
  if (Object.keys(topology).length > MAX_TOPOLOGY_LABELS) {
    errs.push(tooMany(`${path}.deprecatedTopology`, Object.keys(topology).length, MAX_TOPOLOGY_LABELS));
  }
  errs.push(...validateLabels(topology, `${path}.deprecatedTopology`));
  if (e.hostname != null)
    for (const m of isDns1123Label(e.hostname)) errs.push(invalid(`${path}.hostname`, e.hostname, m));
  errs.push(...validateZoneHints(e.hints?.forZones ?? [], `${path}.hints.forZones`));
  return errs;
}

function validateZoneHints(zones: readonly { name: string }[], path: string): FieldError[] {
  if (zones.length > MAX_ZONE_HINTS) return [tooMany(path, zones.length, MAX_ZONE_HINTS)];
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  zones.forEach((z, i) => {
    const zPath = `${path}[${i}].name`;
    if (seen.has(z.name)) errs.push(duplicate(zPath, z.name));
    seen.add(z.name);
    for (const m of isValidLabelValue(z.name ?? '')) errs.push(invalid(zPath, z.name, m));
  });
  return errs;
}

/** IsFullyQualifiedDomainName: a trailing dot allowed, a DNS subdomain of at least two labels. */
function validateFqdn(path: string, value: string): FieldError[] {
  if (value === '') return [required(path)];
  const name = value.endsWith('.') ? value.slice(0, -1) : value;
  const sub = isDns1123Subdomain(name);
  if (sub.length > 0) return [invalid(path, name, sub.join(','))];
  const labels = name.split('.');
  if (labels.length < 2)
    return [invalid(path, name, 'should be a domain with at least two segments separated by dots')];
  for (const l of labels) {
    const m = isDns1123Label(l);
    if (m.length > 0) return [invalid(path, l, m.join(','))];
  }
  return [];
}

function validateSlicePorts(ports: NonNullable<V1EndpointSlice['ports']>): FieldError[] {
  if (ports.length > MAX_SLICE_PORTS) return [tooMany('ports', ports.length, MAX_SLICE_PORTS)];
  const errs: FieldError[] = [];
  const names = new Set<string>();
  ports.forEach((p, i) => {
    const path = `ports[${i}]`;
    const name = p.name ?? '';
    if (name !== '') for (const m of isDns1123Label(name)) errs.push(invalid(`${path}.name`, name, m));
    if (names.has(name)) errs.push(duplicate(`${path}.name`, name));
    names.add(name);
    if (!p.protocol) errs.push(required(`${path}.protocol`));
    else if (!PROTOCOLS.includes(p.protocol)) errs.push(notSupported(`${path}.protocol`, p.protocol, PROTOCOLS));
    if (p.appProtocol != null) {
      for (const m of isQualifiedName(p.appProtocol)) errs.push(invalid(`${path}.appProtocol`, p.appProtocol, m));
    }
  });
  return errs;
}
