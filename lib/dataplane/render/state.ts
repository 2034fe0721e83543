/**
 * The data plane's input (`DataPlaneState`) and a normalised view of it that every renderer shares: which Service
 * ports exist, which endpoints serve them, and what the traffic policies say. Pure: no AWS SDK, no fs.
 */
import { throwIfInvalid, invalid, type FieldError } from '../../model/field-errors.js';
import type { ClusterConfig, NodeInfo, Protocol, ServiceEndpoints, StoredService } from '../../model/types.js';
import { endpointIPProblems, isIPv4, parseCidr } from '../../model/ip.js';

/** Everything a node's data plane is rendered from. Produced from the store by the controller. */
export interface DataPlaneState {
  /** Stored Services: defaulted and allocated (clusterIP, nodePorts, healthCheckNodePort). */
  services: StoredService[];
  /** Endpoints per Service (matched by namespace/name). */
  endpoints: ServiceEndpoints[];
  nodes: NodeInfo[];
  cfg: ClusterConfig;
  /**
   * Pod CIDR of the cluster (kube-proxy --cluster-cidr). Optional, as in kube-proxy: when set, traffic to a
   * ClusterIP from outside it is masqueraded, and pods reaching an externalTrafficPolicy=Local NodePort are
   * load-balanced cluster-wide instead of being restricted to the node's local endpoints.
   */
  podCidr?: string;
  /**
   * Node ports of the data plane's own (Gateway backends that are ClusterIP Services, lib/gateway/backend-ports.ts):
   * each is forwarded on every node exactly like a NodePort of its Service port, but the Service never shows it.
   */
  backendNodePorts?: BackendNodePort[];
}

/** One hidden node port: allocated from the NodePort range, owned by one Service port (by the Service's uid). */
export interface BackendNodePort {
  namespace: string;
  service: string;
  /** The uid of the Service it was allocated for: one left over from a deleted Service of the same name renders nothing. */
  uid: string;
  /** The Service port (spec.ports[].port) and its protocol (an NLB target group carries TCP or UDP). */
  port: number;
  protocol: 'TCP' | 'UDP';
  nodePort: number;
}

export interface BackendView {
  ip: string;
  port: number;
  nodeName?: string;
}

export interface ServicePortView {
  /** Service port name ('' for a single unnamed port). */
  name: string;
  protocol: Protocol;
  port: number;
  nodePort?: number;
  /** A node port of the data plane's own for this port (BackendNodePort): rendered like nodePort, not in the spec. */
  backendNodePort?: number;
  /** Ready endpoints serving this port, sorted by ip then port (deterministic rendering). */
  ready: BackendView[];
}

export interface ServiceView {
  namespace: string;
  name: string;
  type: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
  /** undefined for ExternalName; 'None' services are headless. */
  clusterIP?: string;
  headless: boolean;
  externalName?: string;
  externalIPs: string[];
  externalLocal: boolean;
  internalLocal: boolean;
  /** sessionAffinity ClientIP timeout in seconds (default 10800, as the API server defaults it). */
  affinitySeconds?: number;
  healthCheckNodePort?: number;
  ports: ServicePortView[];
  /** Ready endpoint addresses regardless of port (headless DNS). */
  readyIps: string[];
}

/** RFC 1123 label / RFC 1035 label: what the API server already enforces for namespaces, names and port names. */
const LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** RFC 1123 subdomain (spec.externalName, cluster domain). */
const SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\.?$/;

const isCidr4 = (s: string): boolean => parseCidr(s) !== undefined;
export const isLabel = (s: string): boolean => LABEL.test(s);
export const isSubdomain = (s: string): boolean => SUBDOMAIN.test(s.toLowerCase());

const PROTOCOLS: readonly string[] = ['TCP', 'UDP', 'SCTP'];
const validPort = (p: unknown): p is number => typeof p === 'number' && Number.isInteger(p) && p >= 1 && p <= 65535;

/**
 * Defence in depth. The API layer validates Services, but everything rendered here ends up in nft, dnsmasq and
 * env files on every node, so anything that could change the meaning of those files (a newline, a comma, a brace)
 * is refused here with an apiserver-style error, and nothing is rendered.
 */
export function validateState(state: DataPlaneState): void {
  const errs: FieldError[] = [];
  if (!isCidr4(state.cfg.serviceCidr))
    errs.push(invalid('cfg.serviceCidr', state.cfg.serviceCidr, 'must be an IPv4 CIDR'));
  if (!isSubdomain(state.cfg.clusterDomain))
    errs.push(invalid('cfg.clusterDomain', state.cfg.clusterDomain, 'must be a DNS subdomain'));
  if (state.podCidr !== undefined && !isCidr4(state.podCidr))
    errs.push(invalid('podCidr', state.podCidr, 'must be an IPv4 CIDR'));
  state.services.forEach((svc, i) => {
    const f = `services[${i}]`;
    const ns = svc.metadata?.namespace ?? 'default';
    const name = svc.metadata?.name ?? '';
    if (!isLabel(ns)) errs.push(invalid(`${f}.metadata.namespace`, ns, 'must be a DNS label'));
    if (!isLabel(name)) errs.push(invalid(`${f}.metadata.name`, name, 'must be a DNS label'));
    const spec = svc.spec ?? {};
    if (spec.type === 'ExternalName') {
      if (!spec.externalName || !isSubdomain(spec.externalName))
        errs.push(invalid(`${f}.spec.externalName`, spec.externalName ?? '', 'must be a DNS subdomain'));
      return; // ports of ExternalName Services are ignored
    }
    if (spec.clusterIP !== undefined && spec.clusterIP !== 'None' && !isIPv4(spec.clusterIP))
      errs.push(invalid(`${f}.spec.clusterIP`, spec.clusterIP, 'must be an IPv4 address or "None"'));
    (spec.externalIPs ?? []).forEach((ip, j) => {
      if (!isIPv4(ip)) errs.push(invalid(`${f}.spec.externalIPs[${j}]`, ip, 'must be an IPv4 address'));
    });
    (spec.ports ?? []).forEach((p, j) => {
      const pf = `${f}.spec.ports[${j}]`;
      if (p.name && !isLabel(p.name)) errs.push(invalid(`${pf}.name`, p.name, 'must be a DNS label'));
      if (!PROTOCOLS.includes(p.protocol ?? 'TCP')) errs.push(invalid(`${pf}.protocol`, p.protocol, 'unsupported'));
      if (!validPort(p.port)) errs.push(invalid(`${pf}.port`, p.port, 'must be between 1 and 65535'));
      if (p.nodePort !== undefined && p.nodePort !== null && !validPort(p.nodePort))
        errs.push(invalid(`${pf}.nodePort`, p.nodePort, 'must be between 1 and 65535'));
    });
    if (
      spec.healthCheckNodePort !== undefined &&
      spec.healthCheckNodePort !== null &&
      !validPort(spec.healthCheckNodePort)
    )
      errs.push(invalid(`${f}.spec.healthCheckNodePort`, spec.healthCheckNodePort, 'must be between 1 and 65535'));
    const t = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds;
    if (t !== undefined && t !== null && !(Number.isInteger(t) && t >= 1 && t <= 86400))
      errs.push(invalid(`${f}.spec.sessionAffinityConfig.clientIP.timeoutSeconds`, t, 'must be between 1 and 86400'));
  });
  errs.push(...backendNodePortErrors(state.backendNodePorts ?? []));
  state.endpoints.forEach((se, i) => {
    se.endpoints.forEach((ep, j) => {
      const path = `endpoints[${i}].endpoints[${j}].ip`;
      if (!isIPv4(ep.ip)) errs.push(invalid(path, ep.ip, 'must be an IPv4 address'));
      // Never a DNAT target that is the node itself, its metadata service or a ClusterIP, whatever the input.
      else for (const m of endpointIPProblems(ep.ip, state.cfg.serviceCidr)) errs.push(invalid(path, ep.ip, m));
      ep.ports.forEach((p, k) => {
        if (!validPort(p.port))
          errs.push(invalid(`endpoints[${i}].endpoints[${j}].ports[${k}].port`, p.port, 'must be between 1 and 65535'));
      });
    });
  });
  state.nodes.forEach((n, i) => {
    if (!isIPv4(n.privateIp)) errs.push(invalid(`nodes[${i}].privateIp`, n.privateIp, 'must be an IPv4 address'));
    if (!/^i-[0-9a-f]{8,17}$/.test(n.instanceId) && !/^[A-Za-z0-9._-]{1,64}$/.test(n.instanceId))
      errs.push(invalid(`nodes[${i}].instanceId`, n.instanceId, 'must be an EC2 instance id'));
  });
  throwIfInvalid('DataPlaneState', 'state', errs);
}

function backendNodePortErrors(ports: readonly BackendNodePort[]): FieldError[] {
  const errs: FieldError[] = [];
  ports.forEach((b, i) => {
    const f = `backendNodePorts[${i}]`;
    if (!isLabel(b.namespace)) errs.push(invalid(`${f}.namespace`, b.namespace, 'must be a DNS label'));
    if (!isLabel(b.service)) errs.push(invalid(`${f}.service`, b.service, 'must be a DNS label'));
    if (typeof b.uid !== 'string') errs.push(invalid(`${f}.uid`, b.uid, 'must be a string'));
    if (b.protocol !== 'TCP' && b.protocol !== 'UDP') errs.push(invalid(`${f}.protocol`, b.protocol, 'unsupported'));
    if (!validPort(b.port)) errs.push(invalid(`${f}.port`, b.port, 'must be between 1 and 65535'));
    if (!validPort(b.nodePort)) errs.push(invalid(`${f}.nodePort`, b.nodePort, 'must be between 1 and 65535'));
  });
  return errs;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const backendKey = (namespace: string, service: string, uid: string, port: number, protocol: string): string =>
  `${namespace}/${service}/${uid}/${port}/${protocol}`;

/**
 * The hidden node port of each Service port that has one, keyed by backendKey. The allocator keeps them apart from
 * every Service's node ports (one allocation pool); should the input still hold a number twice, the Service's own
 * NodePort (or the first hidden one, in key order) keeps it and the other is left out, so no key is rendered twice.
 */
function backendNodePortIndex(state: DataPlaneState): Map<string, number> {
  const taken = new Set<number>();
  for (const svc of state.services) {
    const type = svc.spec?.type ?? 'ClusterIP';
    if (type !== 'NodePort' && type !== 'LoadBalancer') continue;
    for (const p of svc.spec?.ports ?? []) if (p.nodePort) taken.add(p.nodePort);
    if (svc.spec?.healthCheckNodePort) taken.add(svc.spec.healthCheckNodePort);
  }
  const out = new Map<string, number>();
  const entries = (state.backendNodePorts ?? []).map((b) => ({
    key: backendKey(b.namespace, b.service, b.uid, b.port, b.protocol),
    nodePort: b.nodePort,
  }));
  entries.sort((a, b) => cmp(a.key, b.key));
  for (const e of entries) {
    if (taken.has(e.nodePort) || out.has(e.key)) continue;
    taken.add(e.nodePort);
    out.set(e.key, e.nodePort);
  }
  return out;
}

/** The node ports a Service port answers on: its NodePort and its hidden backend node port, if any. */
export const nodePortsOf = (p: ServicePortView): number[] =>
  [p.nodePort, p.backendNodePort].filter((n): n is number => n !== undefined);
const ipKey = (ip: string): string =>
  ip
    .split('.')
    .map((o) => o.padStart(3, '0'))
    .join('.');

/** Services as the renderers see them, sorted by namespace/name so output is deterministic. */
export function serviceViews(state: DataPlaneState): ServiceView[] {
  const epsByKey = new Map<string, ServiceEndpoints>();
  for (const se of state.endpoints) epsByKey.set(`${se.namespace}/${se.name}`, se);
  const hidden = backendNodePortIndex(state);
  const views: ServiceView[] = [];
  for (const svc of state.services) {
    const spec = svc.spec ?? {};
    const namespace = svc.metadata?.namespace ?? 'default';
    const name = svc.metadata?.name ?? '';
    const type = (spec.type ?? 'ClusterIP') as ServiceView['type'];
    const eps = epsByKey.get(`${namespace}/${name}`)?.endpoints ?? [];
    const readyEps = eps.filter((e) => e.ready && !e.terminating);
    // kube-proxy's terminating-endpoint fallback: with no ready endpoint, serving-but-terminating ones take the
    // traffic instead of a reject. readyIps (health checks, headless DNS) stays strictly ready, so an NLB still drains.
    const trafficEps = readyEps.length ? readyEps : eps.filter((e) => e.terminating && e.serving === true);
    const readyIps = [...new Set(readyEps.map((e) => e.ip))].sort((a, b) => cmp(ipKey(a), ipKey(b)));
    if (type === 'ExternalName') {
      views.push({
        namespace,
        name,
        type,
        headless: false,
        externalName: spec.externalName?.replace(/\.$/, '').toLowerCase(),
        externalIPs: [],
        externalLocal: false,
        internalLocal: false,
        ports: [],
        readyIps: [],
      });
      continue;
    }
    const ports: ServicePortView[] = (spec.ports ?? []).map((p) => {
      const protocol = (p.protocol ?? 'TCP') as Protocol;
      const portName = p.name ?? '';
      const ready: BackendView[] = [];
      const seen = new Set<string>();
      for (const e of trafficEps) {
        const ep = e.ports.find((x) => x.name === portName && x.protocol === protocol);
        if (!ep) continue;
        const k = `${e.ip}:${ep.port}`;
        if (seen.has(k)) continue;
        seen.add(k);
        ready.push({ ip: e.ip, port: ep.port, nodeName: e.nodeName });
      }
      ready.sort((a, b) => cmp(ipKey(a.ip), ipKey(b.ip)) || a.port - b.port);
      const backendNodePort = hidden.get(backendKey(namespace, name, svc.metadata?.uid ?? '', p.port, protocol));
      return {
        name: portName,
        protocol,
        port: p.port,
        nodePort: type === 'NodePort' || type === 'LoadBalancer' ? (p.nodePort ?? undefined) : undefined,
        ...(backendNodePort !== undefined ? { backendNodePort } : {}),
        ready,
      };
    });
    const affinity = spec.sessionAffinity === 'ClientIP';
    views.push({
      namespace,
      name,
      type,
      clusterIP: spec.clusterIP,
      headless: spec.clusterIP === 'None',
      externalIPs: [...(spec.externalIPs ?? [])],
      externalLocal: spec.externalTrafficPolicy === 'Local' && (type === 'NodePort' || type === 'LoadBalancer'),
      internalLocal: spec.internalTrafficPolicy === 'Local',
      affinitySeconds: affinity ? (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800) : undefined,
      healthCheckNodePort:
        type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local'
          ? (spec.healthCheckNodePort ?? undefined)
          : undefined,
      ports,
      readyIps,
    });
  }
  views.sort((a, b) => cmp(a.namespace, b.namespace) || cmp(a.name, b.name));
  return views;
}

/**
 * The state after its one validation, with the views every renderer reads: `checkState` validates and builds the
 * views once per push (the renderers used to do both, each, seven times per render). Renderers accept a raw state too
 * (tests, benchmarks) and check it themselves; a CheckedState passes through unchanged. Built only by checkState.
 */
export class CheckedState {
  private constructor(
    readonly state: DataPlaneState,
    /** Every Service, sorted by namespace/name. */
    readonly views: readonly ServiceView[],
    /** The Services that get proxy rules (isProxied). */
    readonly proxied: readonly ServiceView[],
  ) {}

  static of(state: DataPlaneState): CheckedState {
    validateState(state);
    const views = serviceViews(state);
    return new CheckedState(state, views, views.filter(isProxied));
  }
}

export function checkState(input: DataPlaneState | CheckedState): CheckedState {
  return input instanceof CheckedState ? input : CheckedState.of(input);
}

/** True when a Service gets proxy rules: has a ClusterIP that is not None (headless and ExternalName get none). */
export function isProxied(v: ServiceView): boolean {
  return v.type !== 'ExternalName' && !v.headless && v.clusterIP !== undefined && v.clusterIP !== '';
}
