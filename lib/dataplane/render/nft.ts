/**
 * Node rules in the style of kube-proxy's nftables mode, in one table we own (`ip sscontroller`).
 *
 * Shape (the same dispatch kube-proxy's nftables proxier uses, so lookup cost does not grow with the number of
 * Services):
 *   nat-prerouting / nat-output -> services:
 *     ip daddr . meta l4proto . th dport vmap @service-ips            (ClusterIPs and externalIPs, one hash lookup)
 *     fib daddr type local ... meta l4proto . th dport vmap @service-nodeports   (NodePorts on every node address;
 *     also the data plane's own hidden node ports of Gateway backends, state.backendNodePorts, rendered alike)
 *   service-<hash>-<ns>/<name>/<proto>/<port>   all ready endpoints, equal random choice (numgen cascade), DNAT
 *   local-<hash>-...                            only this node's ready endpoints (internal/externalTrafficPolicy Local)
 *   external-<hash>-...                         NodePort/externalIP entry: masquerade (Cluster) or local-only (Local)
 *   endpoint-<hash>-...__<ip>/<port>            sessionAffinity only: affinity set update, then DNAT
 *   nat-postrouting: hairpin (a pod reaching itself through a Service) is masqueraded by one rule and a set of
 *   endpoint addresses, instead of a rule in an endpoint chain per (Service, endpoint).
 *
 * Why fewer chains than kube-proxy (which has an endpoint chain per endpoint): loading a table costs roughly per
 * chain, and an endpoint chain per endpoint doubles or triples the chain count. Measured here (Linux 6.18, nft
 * 1.0.6, 10,000 Services x 2 endpoints): 30,000 chains load in ~1.5 s, 10,000 in ~0.75 s. Endpoint chains remain
 * where per-endpoint state is needed: the `update @affinity-...` of sessionAffinity ClientIP.
 *   filter-input/forward/output: reject (no endpoints) or drop (no local endpoints) via @no-endpoint-* maps, and
 *   reject anything else addressed to a ClusterIP (ports the Service does not have).
 *
 * Pure: no AWS SDK, no fs. The model (`NftModel`) is also what `renderDelta` diffs.
 */
import { createHash } from 'node:crypto';
import {
  checkState,
  nodePortsOf,
  type BackendView,
  type CheckedState,
  type DataPlaneState,
  type ServicePortView,
  type ServiceView,
} from './state.js';

export const TABLE_FAMILY = 'ip';
export const TABLE_NAME = 'sscontroller';
const T = `${TABLE_FAMILY} ${TABLE_NAME}`;

/**
 * Masquerade mark bit. kube-proxy uses 0x4000 too; nodes run either kube-proxy or this data plane, never both, so
 * sharing the bit keeps tooling that knows kube-proxy's conventions (e.g. CNI masquerade exemptions) working.
 */
export const MASQ_MARK = '0x00004000';

/**
 * nftables object names are limited by the kernel's NFT_NAME_MAXLEN (256 bytes including the terminating NUL, since
 * Linux 4.15; it was 32 before), so 255 usable characters for chains, sets and maps. A Service name (<= 63) plus a
 * namespace (<= 63), a port name (<= 15), an endpoint IP (<= 15) and port (<= 5) and our fixed parts stay under
 * ~200, but the readable part is still cut at the limit for safety: uniqueness comes from the hash prefix, which is
 * computed over the full readable text, never from the readable part.
 */
export const NFT_NAME_MAX = 255;

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
function hash8(s: string): string {
  const digest = createHash('sha256').update(s).digest();
  // 8 base32 characters = 40 bits of the digest: collisions need ~1e6 objects on one node to become likely.
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < 8) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length >= 8) break;
  }
  return out;
}

/** Deterministic object name: prefix + hash of the readable part + the readable part (cut at the kernel limit). */
export function objectName(prefix: string, readable: string): string {
  const name = `${prefix}-${hash8(readable)}-${readable}`;
  return name.length <= NFT_NAME_MAX ? name : name.slice(0, NFT_NAME_MAX);
}

export interface NftSet {
  kind: 'set' | 'map';
  /** Declaration lines (type, flags, timeout). */
  spec: string[];
  /** key -> verdict/value for maps, key -> '' for sets. */
  elements: Map<string, string>;
  /** Sets whose declaration never changes between syncs (static skeleton). */
  static?: boolean;
}

export interface NftChain {
  /** Base chain header (`type nat hook prerouting priority dstnat; policy accept;`); absent for regular chains. */
  base?: string;
  rules: string[];
  static?: boolean;
}

export interface NftModel {
  sets: Map<string, NftSet>;
  chains: Map<string, NftChain>;
}

const lower = (p: string): string => p.toLowerCase();
const PROTOCOLS = ['tcp', 'udp', 'sctp'] as const;
type Proto = (typeof PROTOCOLS)[number];

/**
 * Names of the table's fixed chains, sets and maps, and the prefixes of per-Service chains and sets (kube-proxy's
 * nftables proxier names its objects as constants the same way). agent/nft-sync.awk keeps the affinity sets by the
 * AFFINITY prefix: keep the two in step.
 */
export const CHAIN = {
  filterInput: 'filter-input',
  filterForward: 'filter-forward',
  filterOutput: 'filter-output',
  natPrerouting: 'nat-prerouting',
  natOutput: 'nat-output',
  natPostrouting: 'nat-postrouting',
  services: 'services',
  serviceEndpointsCheck: 'service-endpoints-check',
  nodePortEndpointsCheck: 'nodeport-endpoints-check',
  clusterIPsCheck: 'cluster-ips-check',
  reject: 'reject-chain',
  markForMasquerade: 'mark-for-masquerade',
  masquerading: 'masquerading',
} as const;

export const SET = { clusterIPs: 'cluster-ips', hairpinEndpoints: 'hairpin-endpoints' } as const;

export const MAP = {
  serviceIPs: 'service-ips',
  serviceNodePorts: 'service-nodeports',
  noEndpointServices: 'no-endpoint-services',
  noEndpointNodePorts: 'no-endpoint-nodeports',
  serviceBackends: (proto: Proto) => `service-backends-${proto}`,
  nodePortBackends: (proto: Proto) => `nodeport-backends-${proto}`,
} as const;

export const PREFIX = {
  service: 'service',
  local: 'local',
  external: 'external',
  endpoint: 'endpoint',
  affinity: 'affinity',
  serviceSlots: 'service-slots',
  nodePortSlots: 'nodeport-slots',
} as const;

const REJECT = `goto ${CHAIN.reject}`;

/** The model under construction, with direct handles on the element maps of the skeleton's sets and maps. */
interface Builder {
  m: NftModel;
  clusterIPs: Map<string, string>;
  hairpin: Map<string, string>;
  serviceIPs: Map<string, string>;
  serviceNodePorts: Map<string, string>;
  noEndpointServices: Map<string, string>;
  noEndpointNodePorts: Map<string, string>;
  serviceBackends: Record<Proto, Map<string, string>>;
  nodePortBackends: Record<Proto, Map<string, string>>;
}

function staticSet(m: NftModel, name: string, kind: NftSet['kind'], spec: string): Map<string, string> {
  const elements = new Map<string, string>();
  m.sets.set(name, { kind, spec: [spec], elements, static: true });
  return elements;
}

function skeletonSets(m: NftModel): Omit<Builder, 'm'> {
  const vmap = (name: string, key: string) => staticSet(m, name, 'map', `type ${key} : verdict`);
  const clusterIPs = staticSet(m, SET.clusterIPs, 'set', 'type ipv4_addr');
  // "<ip> . <ip>" for every endpoint address: after DNAT, source == destination means a pod reached itself.
  const hairpin = staticSet(m, SET.hairpinEndpoints, 'set', 'type ipv4_addr . ipv4_addr');
  const serviceIPs = vmap(MAP.serviceIPs, 'ipv4_addr . inet_proto . inet_service');
  // Endpoint slots of plain Services (see addPlainPort), one map per protocol: "<ip> . <port> . <k>" (ClusterIP) or
  // "<nodePort> . <k>" -> "<endpoint ip> . <port>". `typeof` with a numgen key: the modulus in the declaration only
  // fixes the key's type; each slot chain uses its own. Per protocol because nft 1.0.6 refuses a generic
  // `meta l4proto . th dport` key next to `dnat ip` once the map exists ("conflicting protocols specified").
  const serviceBackends = {} as Record<Proto, Map<string, string>>;
  const nodePortBackends = {} as Record<Proto, Map<string, string>>;
  for (const proto of PROTOCOLS) {
    const target = `ip daddr . ${proto} dport`;
    serviceBackends[proto] = staticSet(
      m,
      MAP.serviceBackends(proto),
      'map',
      `typeof ip daddr . ${proto} dport . numgen random mod 2 : ${target}`,
    );
    nodePortBackends[proto] = staticSet(
      m,
      MAP.nodePortBackends(proto),
      'map',
      `typeof ${proto} dport . numgen random mod 2 : ${target}`,
    );
  }
  const serviceNodePorts = vmap(MAP.serviceNodePorts, 'inet_proto . inet_service');
  const noEndpointServices = vmap(MAP.noEndpointServices, 'ipv4_addr . inet_proto . inet_service');
  const noEndpointNodePorts = vmap(MAP.noEndpointNodePorts, 'inet_proto . inet_service');
  return {
    clusterIPs,
    hairpin,
    serviceIPs,
    serviceNodePorts,
    noEndpointServices,
    noEndpointNodePorts,
    serviceBackends,
    nodePortBackends,
  };
}

/** The base chains hooked into netfilter, and the fixed chains they dispatch to. */
function skeletonChains(m: NftModel): void {
  const c = (name: string, rules: string[], base?: string): void => {
    m.chains.set(name, { base, rules, static: true });
  };
  const filter = (hook: string) => `type filter hook ${hook} priority filter - 10; policy accept;`;
  // Filter hooks run after DNAT, so only packets that were NOT translated (no endpoints, unknown port) reach these
  // checks. `reject` is only valid in input/forward/output hooks, which is why this is not done in nat chains.
  const newConn = (chain: string) => `ct state new jump ${chain}`;
  c(CHAIN.filterInput, [newConn(CHAIN.nodePortEndpointsCheck), newConn(CHAIN.serviceEndpointsCheck)], filter('input'));
  c(CHAIN.filterForward, [newConn(CHAIN.serviceEndpointsCheck), newConn(CHAIN.clusterIPsCheck)], filter('forward'));
  c(CHAIN.filterOutput, [newConn(CHAIN.serviceEndpointsCheck), newConn(CHAIN.clusterIPsCheck)], filter('output'));
  c(CHAIN.natPrerouting, [`jump ${CHAIN.services}`], 'type nat hook prerouting priority dstnat; policy accept;');
  c(CHAIN.natOutput, [`jump ${CHAIN.services}`], 'type nat hook output priority -100; policy accept;');
  c(
    CHAIN.natPostrouting,
    // hairpin: without masquerade the pod would see a reply from itself to itself and drop it
    [
      `ct status dnat ip saddr . ip daddr @${SET.hairpinEndpoints} jump ${CHAIN.markForMasquerade}`,
      `jump ${CHAIN.masquerading}`,
    ],
    'type nat hook postrouting priority srcnat; policy accept;',
  );
  // NodePorts answer on every local address except loopback (kube-proxy nftables does not serve 127.0.0.1 either).
  const onNodeAddress = 'fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap';
  c(CHAIN.services, [
    `ip daddr . meta l4proto . th dport vmap @${MAP.serviceIPs}`,
    `${onNodeAddress} @${MAP.serviceNodePorts}`,
  ]);
  c(CHAIN.serviceEndpointsCheck, [`ip daddr . meta l4proto . th dport vmap @${MAP.noEndpointServices}`]);
  c(CHAIN.nodePortEndpointsCheck, [`${onNodeAddress} @${MAP.noEndpointNodePorts}`]);
  // Any other port of a ClusterIP is refused rather than silently routed off-node.
  c(CHAIN.clusterIPsCheck, [`ip daddr @${SET.clusterIPs} ${REJECT}`]);
  // TCP gets a reset and everything else ICMP port-unreachable, so clients fail at once with "connection refused"
  // (kube-proxy's REJECT does the same) instead of waiting for a timeout.
  c(CHAIN.reject, ['meta l4proto tcp reject with tcp reset', 'reject with icmp type port-unreachable']);
  c(CHAIN.markForMasquerade, [`meta mark set meta mark | ${MASQ_MARK}`]);
  c(CHAIN.masquerading, [
    `meta mark & ${MASQ_MARK} == 0 return`,
    // clear the bit so a packet re-entering the stack (e.g. through a tunnel) is not masqueraded twice
    `meta mark set meta mark ^ ${MASQ_MARK}`,
    'masquerade fully-random',
  ]);
}

function skeleton(): Builder {
  const m: NftModel = { sets: new Map(), chains: new Map() };
  const handles = skeletonSets(m);
  skeletonChains(m);
  return { m, ...handles };
}

interface PortNames {
  readable: string;
  service: string;
  local: string;
  external: string;
  endpoint: (b: BackendView) => string;
  affinity: (b: BackendView) => string;
}

function portNames(v: ServiceView, portName: string, protocol: string, affinitySeconds?: number): PortNames {
  const readable = `${v.namespace}/${v.name}/${lower(protocol)}/${portName}`;
  const memo = new Map<string, string>(); // names are hashed once per object, however often they are referenced
  const name = (prefix: string, text: string): string => {
    const k = `${prefix}|${text}`;
    let out = memo.get(k);
    if (out === undefined) memo.set(k, (out = objectName(prefix, text)));
    return out;
  };
  return {
    readable,
    service: name(PREFIX.service, readable),
    local: name(PREFIX.local, readable),
    external: name(PREFIX.external, readable),
    endpoint: (b) => name(PREFIX.endpoint, `${readable}__${b.ip}/${b.port}`),
    // The timeout is part of the name so a changed timeout is a new set (a set's timeout cannot be altered in place).
    affinity: (b) => name(PREFIX.affinity, `${readable}__${b.ip}/${b.port}__${affinitySeconds ?? 0}`),
  };
}

/** One Service port as the rules see it. */
interface PortCtx {
  v: ServiceView;
  p: ServicePortView;
  proto: Proto;
  n: PortNames;
  /** Ready endpoints, and those on this node. */
  all: BackendView[];
  local: BackendView[];
  /** `<clusterIP> . <proto> . <port>`: the key of the ClusterIP maps. */
  cipKey: string;
  podCidr?: string;
}

/** The rules for one node as a model (sets, maps, chains). `nodeName` '' renders a node with no local endpoints. */
export function buildModel(input: DataPlaneState | CheckedState, nodeName: string): NftModel {
  const { state, proxied } = checkState(input);
  const b = skeleton();
  for (const v of proxied) {
    b.clusterIPs.set(v.clusterIP!, '');
    for (const p of v.ports) {
      const proto = lower(p.protocol) as Proto;
      const all = p.ready;
      const local = all.filter((e) => nodeName !== '' && e.nodeName === nodeName);
      const n = portNames(v, p.name, p.protocol, v.affinitySeconds);
      const ctx: PortCtx = { v, p, proto, n, all, local, cipKey: `${v.clusterIP} . ${proto} . ${p.port}` };
      if (state.podCidr) ctx.podCidr = state.podCidr;
      if (isPlain(v)) addPlainPort(b, ctx);
      else addPolicyPort(b, ctx);
    }
  }
  return b.m;
}

/** No session affinity, no Local traffic policy, no externalIPs: the common case. */
const isPlain = (v: ServiceView): boolean =>
  v.affinitySeconds === undefined && !v.internalLocal && !v.externalLocal && v.externalIPs.length === 0;

/**
 * A plain Service port has no chain of its own. Its endpoints are slots 0..N-1 of one map, and a chain shared by
 * every port with N endpoints picks slot `numgen random mod N` (an equal random choice, like the cascade in
 * dispatchRules). An endpoint change is then only map elements, and the table keeps a handful of chains instead of
 * one per Service: the nft CLI loads every chain of the table before applying anything that names one, which is
 * what made a one-Service change cost ~60 ms at 10,000 Services (docs/benchmarks.md).
 */
function addPlainPort(b: Builder, c: PortCtx): void {
  const { p, proto, all } = c;
  // The NodePort and a hidden backend node port (BackendNodePort) are rendered the same way.
  const nodePorts = nodePortsOf(p);
  if (all.length === 0) {
    b.noEndpointServices.set(c.cipKey, REJECT);
    for (const np of nodePorts) b.noEndpointNodePorts.set(`${proto} . ${np}`, REJECT);
    return;
  }
  all.forEach((e, k) => {
    b.hairpin.set(`${e.ip} . ${e.ip}`, '');
    b.serviceBackends[proto].set(`${c.v.clusterIP} . ${p.port} . ${k}`, `${e.ip} . ${e.port}`);
    for (const np of nodePorts) b.nodePortBackends[proto].set(`${np} . ${k}`, `${e.ip} . ${e.port}`);
  });
  b.serviceIPs.set(c.cipKey, `goto ${slotChain(b.m, 'service', proto, all.length, c.podCidr)}`);
  for (const np of nodePorts)
    b.serviceNodePorts.set(`${proto} . ${np}`, `goto ${slotChain(b.m, 'nodeport', proto, all.length)}`);
}

/** A port with session affinity, a Local traffic policy or externalIPs: chains of its own. */
function addPolicyPort(b: Builder, c: PortCtx): void {
  if (c.all.length > 0) addServiceChains(b, c);
  addClusterIPEntry(b, c);
  addExternalEntry(b, c);
}

const dnatTo = (proto: Proto, e: BackendView): string => `meta l4proto ${proto} dnat to ${e.ip}:${e.port}`;

/** The endpoint chains (sessionAffinity only) and the chains choosing among all / this node's endpoints. */
function addServiceChains(b: Builder, c: PortCtx): void {
  const { v, n } = c;
  for (const e of c.all) {
    b.hairpin.set(`${e.ip} . ${e.ip}`, '');
    if (v.affinitySeconds === undefined) continue;
    b.m.sets.set(n.affinity(e), {
      kind: 'set',
      spec: ['type ipv4_addr', 'flags dynamic,timeout', `timeout ${v.affinitySeconds}s`],
      elements: new Map(),
    });
    b.m.chains.set(n.endpoint(e), { rules: [`update @${n.affinity(e)} { ip saddr }`, dnatTo(c.proto, e)] });
  }
  b.m.chains.set(n.service, { rules: dispatchRules(c, c.all) });
  const needLocalChain = (v.internalLocal || v.externalLocal) && c.local.length > 0;
  if (needLocalChain) b.m.chains.set(n.local, { rules: dispatchRules(c, c.local) });
}

/**
 * Equal random choice: rule k matches with probability 1/(N-k) among the packets that reach it, so each endpoint
 * gets 1/N overall (iptables' statistic cascade). Not `numgen random mod N vmap { ... }`: every anonymous map is a
 * kernel set named __map%d, and the kernel finds a free number by scanning every set of the table, which makes
 * loading N Services O(N^2) (measured on Linux 6.18: 64 s for 10,000 Services with anonymous vmaps, 1.5 s
 * without). Only a connection's first packet walks this chain (nat hooks).
 */
function dispatchRules(c: PortCtx, eps: BackendView[]): string[] {
  const { v, n } = c;
  const rules: string[] = [];
  if (c.podCidr) rules.push(`ip daddr ${v.clusterIP} ip saddr != ${c.podCidr} jump ${CHAIN.markForMasquerade}`);
  if (v.affinitySeconds !== undefined)
    for (const e of eps) rules.push(`ip saddr @${n.affinity(e)} goto ${n.endpoint(e)}`);
  eps.forEach((e, k) => {
    const left = eps.length - k;
    const target = v.affinitySeconds !== undefined ? `goto ${n.endpoint(e)}` : dnatTo(c.proto, e);
    rules.push(left > 1 ? `numgen random mod ${left} == 0 ${target}` : target);
  });
  return rules;
}

/** ClusterIP (internal traffic): internalTrafficPolicy Local drops when only other nodes have endpoints. */
function addClusterIPEntry(b: Builder, c: PortCtx): void {
  const { v, n, cipKey } = c;
  if (v.internalLocal) {
    if (c.local.length > 0) b.serviceIPs.set(cipKey, `goto ${n.local}`);
    else b.noEndpointServices.set(cipKey, c.all.length > 0 ? 'drop' : REJECT);
  } else if (c.all.length > 0) b.serviceIPs.set(cipKey, `goto ${n.service}`);
  else b.noEndpointServices.set(cipKey, REJECT);
}

/** NodePort and externalIPs (external traffic), through the port's external chain. */
function addExternalEntry(b: Builder, c: PortCtx): void {
  const { v, p, proto } = c;
  const viaIP = v.externalIPs.map((ip) => `${ip} . ${proto} . ${p.port}`);
  const viaNodePort = nodePortsOf(p).map((np) => `${proto} . ${np}`);
  if (viaIP.length === 0 && viaNodePort.length === 0) return;
  if (c.all.length === 0) {
    for (const k of viaIP) b.noEndpointServices.set(k, REJECT);
    for (const k of viaNodePort) b.noEndpointNodePorts.set(k, REJECT);
    return;
  }
  b.m.chains.set(c.n.external, { rules: externalRules(c) });
  for (const k of viaIP) b.serviceIPs.set(k, `goto ${c.n.external}`);
  for (const k of viaNodePort) b.serviceNodePorts.set(k, `goto ${c.n.external}`);
}

function externalRules(c: PortCtx): string[] {
  const { n } = c;
  const mark = `jump ${CHAIN.markForMasquerade}`;
  // externalTrafficPolicy Cluster: always masquerade, so replies return through this node.
  if (!c.v.externalLocal) return [mark, `goto ${n.service}`];
  // Pods and the node itself reaching a Local NodePort are cluster traffic (kube-proxy does the same), so they are
  // balanced over every endpoint; only truly external clients are restricted to local endpoints, and those keep
  // their source address (no masquerade).
  const ext: string[] = [];
  if (c.podCidr) ext.push(`ip saddr ${c.podCidr} goto ${n.service}`);
  ext.push(`fib saddr type local ${mark}`);
  ext.push(`fib saddr type local goto ${n.service}`);
  // No local endpoint: drop (not reject), like kube-proxy; the LB health check steers clients elsewhere.
  ext.push(c.local.length > 0 ? `goto ${n.local}` : 'drop');
  return ext;
}

/**
 * The shared chain choosing among N endpoint slots: `service-slots-N` for ClusterIP traffic (masquerading sources
 * outside the pod CIDR when it is known, as the per-Service chains do), `nodeport-slots-N` for NodePort traffic
 * (externalTrafficPolicy Cluster: always masqueraded, so replies return through this node).
 */
function slotChain(m: NftModel, kind: 'service' | 'nodeport', proto: Proto, n: number, podCidr?: string): string {
  const name = `${kind === 'service' ? PREFIX.serviceSlots : PREFIX.nodePortSlots}-${proto}-${n}`;
  if (m.chains.has(name)) return name;
  const mark = `jump ${CHAIN.markForMasquerade}`;
  const rules: string[] = [];
  if (kind === 'service') {
    if (podCidr) rules.push(`ip saddr != ${podCidr} ${mark}`);
    rules.push(
      `meta l4proto ${proto} dnat ip to ip daddr . ${proto} dport . numgen random mod ${n} map @${MAP.serviceBackends(proto)}`,
    );
  } else {
    rules.push(mark);
    rules.push(
      `meta l4proto ${proto} dnat ip to ${proto} dport . numgen random mod ${n} map @${MAP.nodePortBackends(proto)}`,
    );
  }
  m.chains.set(name, { rules });
  return name;
}

function setBlock(name: string, s: NftSet): string[] {
  const out = [`\t${s.kind} ${name} {`, ...s.spec.map((l) => `\t\t${l}`)];
  if (s.elements.size > 0) {
    const els = [...s.elements].map(([k, val]) => (s.kind === 'map' ? `${k} : ${val}` : k));
    out.push(`\t\telements = {`);
    els.forEach((e, i) => out.push(`\t\t\t${e}${i < els.length - 1 ? ',' : ''}`));
    out.push(`\t\t}`);
  }
  out.push('\t}');
  return out;
}

/**
 * Full `nft -f` text for a model: the whole table, declared. It is never preceded by `delete table` (that would wipe
 * the sessionAffinity sets, whose elements are the clients' remembered endpoints): the node agent prepends a prelude
 * made from what the kernel holds (agent/nft-sync.awk) that flushes and deletes every chain and every set except the
 * affinity sets this model still declares, and applies both as ONE transaction. Re-declaring an existing affinity set
 * with the same declaration keeps its elements and their timeouts (its name carries the timeout, so a changed timeout
 * is a new set).
 */
export function renderModel(m: NftModel): string {
  const out: string[] = [
    '#!/usr/sbin/nft -f',
    "# Generated by serverless-service-controller: table ip sscontroller (applied after the agent's prelude).",
    `add table ${T}`,
    `table ${T} {`,
    '\tcomment "rules for serverless-service-controller"',
  ];
  for (const [name, s] of [...m.sets].sort(sortByName)) out.push(...setBlock(name, s));
  for (const [name, c] of [...m.chains].sort(sortChains)) {
    out.push(`\tchain ${name} {`);
    if (c.base) out.push(`\t\t${c.base}`);
    for (const r of c.rules) out.push(`\t\t${r}`);
    out.push('\t}');
  }
  out.push('}', '');
  return out.join('\n');
}

const sortByName = <V>(a: [string, V], b: [string, V]): number => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
/** Skeleton chains first (in definition order), then per-service chains by name. */
function sortChains(a: [string, NftChain], b: [string, NftChain]): number {
  if (a[1].static && b[1].static) return 0;
  if (a[1].static) return -1;
  if (b[1].static) return 1;
  return sortByName(a, b);
}

/** `nft -f` input declaring our table with the rules for `nodeName` (see renderModel for how it is applied). */
export function renderRuleset(state: DataPlaneState | CheckedState, nodeName: string): string {
  return renderModel(buildModel(state, nodeName));
}

const sameList = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * A small transaction taking a node from `prev`'s rules to `next`'s: new sets and chains are added, changed chains
 * are flushed and refilled, map/set elements are deleted and added, and obsolete chains and sets are removed last
 * (after every reference to them is gone), all inside one `nft -f` run, so the kernel applies it atomically. Its size
 * is proportional to what changed. undefined when the change cannot be a delta (the static skeleton or a set's
 * declaration differs, i.e. after an upgrade of this renderer): the node then takes the full ruleset.
 */
export function renderDelta(
  prev: DataPlaneState | CheckedState,
  next: DataPlaneState | CheckedState,
  nodeName: string,
): string | undefined {
  return diffModels(buildModel(prev, nodeName), buildModel(next, nodeName));
}

export function diffModels(a: NftModel, b: NftModel): string | undefined {
  for (const [name, c] of b.chains) {
    if (!c.static) continue;
    const o = a.chains.get(name);
    if (!o || o.base !== c.base || !sameList(o.rules, c.rules)) return undefined;
  }
  const out: string[] = ['#!/usr/sbin/nft -f', '# Incremental update of table ip sscontroller (one transaction).'];
  // 1. new sets; a set whose declaration changed cannot be altered in place: fall back to the full ruleset.
  for (const [name, s] of b.sets) {
    const o = a.sets.get(name);
    if (!o) out.push(`add ${s.kind} ${T} ${name} { ${s.spec.join('; ')}; }`);
    else if (o.kind !== s.kind || !sameList(o.spec, s.spec)) return undefined;
  }
  // 2. declare new chains first, so rules and map elements may refer to them in any order.
  for (const name of b.chains.keys()) if (!a.chains.has(name)) out.push(`add chain ${T} ${name}`);
  // 3. (re)fill new and changed chains.
  for (const [name, c] of b.chains) {
    const o = a.chains.get(name);
    if (o && sameList(o.rules, c.rules)) continue;
    if (o) out.push(`flush chain ${T} ${name}`);
    for (const r of c.rules) out.push(`add rule ${T} ${name} ${r}`);
  }
  // 4. elements: delete removed/changed keys, then add new/changed ones (a key's verdict cannot be replaced in place).
  for (const [name, s] of b.sets) {
    const old = a.sets.get(name)?.elements ?? new Map<string, string>();
    const del = [...old].filter(([k, val]) => s.elements.get(k) !== val).map(([k]) => k);
    const add = [...s.elements].filter(([k, val]) => old.get(k) !== val);
    if (del.length) out.push(`delete element ${T} ${name} { ${del.join(', ')} }`);
    if (add.length)
      out.push(
        `add element ${T} ${name} { ${add.map(([k, val]) => (s.kind === 'map' ? `${k} : ${val}` : k)).join(', ')} }`,
      );
  }
  // 5. obsolete chains: empty them all first (dropping their references to each other), then delete.
  const gone = [...a.chains.keys()].filter((n) => !b.chains.has(n));
  for (const name of gone) out.push(`flush chain ${T} ${name}`);
  for (const name of gone) out.push(`delete chain ${T} ${name}`);
  // 6. obsolete sets, now unreferenced.
  for (const [name, s] of a.sets) if (!b.sets.has(name)) out.push(`delete ${s.kind} ${T} ${name}`);
  out.push('');
  return out.join('\n');
}
