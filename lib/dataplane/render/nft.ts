/**
 * Node rules in the style of kube-proxy's nftables mode, in one table we own (`ip sscontroller`).
 *
 * Shape (the same dispatch kube-proxy's nftables proxier uses, so lookup cost does not grow with the number of
 * Services):
 *   nat-prerouting / nat-output -> services:
 *     ip daddr . meta l4proto . th dport vmap @service-ips            (ClusterIPs and externalIPs, one hash lookup)
 *     fib daddr type local ... meta l4proto . th dport vmap @service-nodeports   (NodePorts on every node address)
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
  isProxied,
  serviceViews,
  validateState,
  type BackendView,
  type DataPlaneState,
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

function skeleton(): NftModel {
  const sets = new Map<string, NftSet>();
  const vmap = (key: string): NftSet => ({
    kind: 'map',
    spec: [`type ${key} : verdict`],
    elements: new Map(),
    static: true,
  });
  sets.set('cluster-ips', { kind: 'set', spec: ['type ipv4_addr'], elements: new Map(), static: true });
  // "<ip> . <ip>" for every endpoint address: after DNAT, source == destination means a pod reached itself.
  sets.set('hairpin-endpoints', {
    kind: 'set',
    spec: ['type ipv4_addr . ipv4_addr'],
    elements: new Map(),
    static: true,
  });
  sets.set('service-ips', vmap('ipv4_addr . inet_proto . inet_service'));
  // Endpoint slots of plain Services (see buildModel), one map per protocol: "<ip> . <port> . <k>" (ClusterIP) or
  // "<nodePort> . <k>" -> "<endpoint ip> . <port>". `typeof` with a numgen key: the modulus in the declaration only
  // fixes the key's type; each slot chain uses its own. Per protocol because nft 1.0.6 refuses a generic
  // `meta l4proto . th dport` key next to `dnat ip` once the map exists ("conflicting protocols specified").
  for (const proto of PROTOCOLS) {
    sets.set(`service-backends-${proto}`, {
      kind: 'map',
      spec: [`typeof ip daddr . ${proto} dport . numgen random mod 2 : ip daddr . ${proto} dport`],
      elements: new Map(),
      static: true,
    });
    sets.set(`nodeport-backends-${proto}`, {
      kind: 'map',
      spec: [`typeof ${proto} dport . numgen random mod 2 : ip daddr . ${proto} dport`],
      elements: new Map(),
      static: true,
    });
  }
  sets.set('service-nodeports', vmap('inet_proto . inet_service'));
  sets.set('no-endpoint-services', vmap('ipv4_addr . inet_proto . inet_service'));
  sets.set('no-endpoint-nodeports', vmap('inet_proto . inet_service'));
  const chains = new Map<string, NftChain>();
  const c = (name: string, rules: string[], base?: string): void => {
    chains.set(name, { base, rules, static: true });
  };
  // Filter hooks run after DNAT, so only packets that were NOT translated (no endpoints, unknown port) reach these
  // checks. `reject` is only valid in input/forward/output hooks, which is why this is not done in nat chains.
  c(
    'filter-input',
    ['ct state new jump nodeport-endpoints-check', 'ct state new jump service-endpoints-check'],
    'type filter hook input priority filter - 10; policy accept;',
  );
  c(
    'filter-forward',
    ['ct state new jump service-endpoints-check', 'ct state new jump cluster-ips-check'],
    'type filter hook forward priority filter - 10; policy accept;',
  );
  c(
    'filter-output',
    ['ct state new jump service-endpoints-check', 'ct state new jump cluster-ips-check'],
    'type filter hook output priority filter - 10; policy accept;',
  );
  c('nat-prerouting', ['jump services'], 'type nat hook prerouting priority dstnat; policy accept;');
  c('nat-output', ['jump services'], 'type nat hook output priority -100; policy accept;');
  c(
    'nat-postrouting',
    // hairpin: without masquerade the pod would see a reply from itself to itself and drop it
    ['ct status dnat ip saddr . ip daddr @hairpin-endpoints jump mark-for-masquerade', 'jump masquerading'],
    'type nat hook postrouting priority srcnat; policy accept;',
  );
  c('services', [
    'ip daddr . meta l4proto . th dport vmap @service-ips',
    // NodePorts answer on every local address except loopback (kube-proxy nftables does not serve 127.0.0.1 either).
    'fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports',
  ]);
  c('service-endpoints-check', ['ip daddr . meta l4proto . th dport vmap @no-endpoint-services']);
  c('nodeport-endpoints-check', [
    'fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @no-endpoint-nodeports',
  ]);
  // Any other port of a ClusterIP is refused rather than silently routed off-node.
  c('cluster-ips-check', ['ip daddr @cluster-ips goto reject-chain']);
  // TCP gets a reset and everything else ICMP port-unreachable, so clients fail at once with "connection refused"
  // (kube-proxy's REJECT does the same) instead of waiting for a timeout.
  c('reject-chain', ['meta l4proto tcp reject with tcp reset', 'reject with icmp type port-unreachable']);
  c('mark-for-masquerade', [`meta mark set meta mark | ${MASQ_MARK}`]);
  c('masquerading', [
    `meta mark & ${MASQ_MARK} == 0 return`,
    // clear the bit so a packet re-entering the stack (e.g. through a tunnel) is not masqueraded twice
    `meta mark set meta mark ^ ${MASQ_MARK}`,
    'masquerade fully-random',
  ]);
  return { sets, chains };
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
    service: name('service', readable),
    local: name('local', readable),
    external: name('external', readable),
    endpoint: (b) => name('endpoint', `${readable}__${b.ip}/${b.port}`),
    // The timeout is part of the name so a changed timeout is a new set (a set's timeout cannot be altered in place).
    affinity: (b) => name('affinity', `${readable}__${b.ip}/${b.port}__${affinitySeconds ?? 0}`),
  };
}

/** The rules for one node as a model (sets, maps, chains). `nodeName` '' renders a node with no local endpoints. */
export function buildModel(state: DataPlaneState, nodeName: string): NftModel {
  validateState(state);
  const m = skeleton();
  const set = (name: string): Map<string, string> => m.sets.get(name)!.elements;
  for (const v of serviceViews(state)) {
    if (!isProxied(v)) continue; // headless and ExternalName: DNS only, no proxy rules (as kube-proxy)
    const cip = v.clusterIP!;
    set('cluster-ips').set(cip, '');
    for (const p of v.ports) {
      const proto = lower(p.protocol);
      const n = portNames(v, p.name, p.protocol, v.affinitySeconds);
      const all = p.ready;
      const local = all.filter((b) => nodeName !== '' && b.nodeName === nodeName);
      const needLocalChain = (v.internalLocal || v.externalLocal) && local.length > 0;
      const hasExternal = p.nodePort !== undefined || v.externalIPs.length > 0;

      // Plain Service ports (no session affinity, no Local traffic policy, no externalIPs: the common case) have no
      // chain of their own. Their endpoints are slots 0..N-1 of one map, and a chain shared by every port with N
      // endpoints picks slot `numgen random mod N` (an equal random choice, like the cascade below). An endpoint
      // change is then only map elements, and the table keeps a handful of chains instead of one per Service: the
      // nft CLI loads every chain of the table before applying anything that names one, which is what made a
      // one-Service change cost ~60 ms at 10,000 Services (docs/benchmarks.md).
      const plain =
        v.affinitySeconds === undefined && !v.internalLocal && !v.externalLocal && v.externalIPs.length === 0;
      if (plain) {
        const cipKey = `${cip} . ${proto} . ${p.port}`;
        if (all.length === 0) {
          set('no-endpoint-services').set(cipKey, 'goto reject-chain');
          if (p.nodePort !== undefined)
            set('no-endpoint-nodeports').set(`${proto} . ${p.nodePort}`, 'goto reject-chain');
          continue;
        }
        all.forEach((b, k) => {
          set('hairpin-endpoints').set(`${b.ip} . ${b.ip}`, '');
          set(`service-backends-${proto}`).set(`${cip} . ${p.port} . ${k}`, `${b.ip} . ${b.port}`);
          if (p.nodePort !== undefined)
            set(`nodeport-backends-${proto}`).set(`${p.nodePort} . ${k}`, `${b.ip} . ${b.port}`);
        });
        set('service-ips').set(cipKey, `goto ${slotChain(m, 'service', proto, all.length, state.podCidr)}`);
        if (p.nodePort !== undefined)
          set('service-nodeports').set(
            `${proto} . ${p.nodePort}`,
            `goto ${slotChain(m, 'nodeport', proto, all.length)}`,
          );
        continue;
      }

      const dnat = (b: BackendView): string => `meta l4proto ${proto} dnat to ${b.ip}:${b.port}`;
      if (all.length > 0) {
        for (const b of all) {
          set('hairpin-endpoints').set(`${b.ip} . ${b.ip}`, '');
          if (v.affinitySeconds === undefined) continue;
          m.sets.set(n.affinity(b), {
            kind: 'set',
            spec: ['type ipv4_addr', 'flags dynamic,timeout', `timeout ${v.affinitySeconds}s`],
            elements: new Map(),
          });
          m.chains.set(n.endpoint(b), { rules: [`update @${n.affinity(b)} { ip saddr }`, dnat(b)] });
        }
        const dispatch = (eps: BackendView[]): string[] => {
          const rules: string[] = [];
          if (state.podCidr) rules.push(`ip daddr ${cip} ip saddr != ${state.podCidr} jump mark-for-masquerade`);
          if (v.affinitySeconds !== undefined)
            for (const b of eps) rules.push(`ip saddr @${n.affinity(b)} goto ${n.endpoint(b)}`);
          // Equal random choice: rule k matches with probability 1/(N-k) among the packets that reach it, so each
          // endpoint gets 1/N overall (iptables' statistic cascade). Not `numgen random mod N vmap { ... }`: every
          // anonymous map is a kernel set named __map%d, and the kernel finds a free number by scanning every set of
          // the table, which makes loading N Services O(N^2) (measured on Linux 6.18: 64 s for 10,000 Services with
          // anonymous vmaps, 1.5 s without). Only a connection's first packet walks this chain (nat hooks).
          eps.forEach((b, k) => {
            const left = eps.length - k;
            const target = v.affinitySeconds !== undefined ? `goto ${n.endpoint(b)}` : dnat(b);
            rules.push(left > 1 ? `numgen random mod ${left} == 0 ${target}` : target);
          });
          return rules;
        };
        m.chains.set(n.service, { rules: dispatch(all) });
        if (needLocalChain) m.chains.set(n.local, { rules: dispatch(local) });
      }

      // ClusterIP (internal traffic).
      const cipKey = `${cip} . ${proto} . ${p.port}`;
      if (v.internalLocal) {
        if (local.length > 0) set('service-ips').set(cipKey, `goto ${n.local}`);
        else set('no-endpoint-services').set(cipKey, all.length > 0 ? 'drop' : 'goto reject-chain');
      } else if (all.length > 0) set('service-ips').set(cipKey, `goto ${n.service}`);
      else set('no-endpoint-services').set(cipKey, 'goto reject-chain');

      // NodePort and externalIPs (external traffic).
      if (!hasExternal) continue;
      const extKeys = v.externalIPs.map((ip) => ({ map: 'ips', key: `${ip} . ${proto} . ${p.port}` }));
      if (p.nodePort !== undefined) extKeys.push({ map: 'nodeports', key: `${proto} . ${p.nodePort}` });
      if (all.length === 0) {
        for (const k of extKeys)
          set(k.map === 'ips' ? 'no-endpoint-services' : 'no-endpoint-nodeports').set(k.key, 'goto reject-chain');
        continue;
      }
      const ext: string[] = [];
      if (v.externalLocal) {
        // Pods and the node itself reaching a Local NodePort are cluster traffic (kube-proxy does the same), so
        // they are balanced over every endpoint; only truly external clients are restricted to local endpoints,
        // and those keep their source address (no masquerade).
        if (state.podCidr) ext.push(`ip saddr ${state.podCidr} goto ${n.service}`);
        ext.push('fib saddr type local jump mark-for-masquerade');
        ext.push(`fib saddr type local goto ${n.service}`);
        // No local endpoint: drop (not reject), like kube-proxy; the LB health check steers clients elsewhere.
        ext.push(local.length > 0 ? `goto ${n.local}` : 'drop');
      } else {
        // externalTrafficPolicy Cluster: always masquerade, so replies return through this node.
        ext.push('jump mark-for-masquerade');
        ext.push(`goto ${n.service}`);
      }
      m.chains.set(n.external, { rules: ext });
      for (const k of extKeys)
        set(k.map === 'ips' ? 'service-ips' : 'service-nodeports').set(k.key, `goto ${n.external}`);
    }
  }
  return m;
}

/**
 * The shared chain choosing among N endpoint slots: `service-slots-N` for ClusterIP traffic (masquerading sources
 * outside the pod CIDR when it is known, as the per-Service chains do), `nodeport-slots-N` for NodePort traffic
 * (externalTrafficPolicy Cluster: always masqueraded, so replies return through this node).
 */
function slotChain(m: NftModel, kind: 'service' | 'nodeport', proto: string, n: number, podCidr?: string): string {
  const name = `${kind}-slots-${proto}-${n}`;
  if (m.chains.has(name)) return name;
  const rules: string[] = [];
  if (kind === 'service') {
    if (podCidr) rules.push(`ip saddr != ${podCidr} jump mark-for-masquerade`);
    rules.push(
      `meta l4proto ${proto} dnat ip to ip daddr . ${proto} dport . numgen random mod ${n} map @service-backends-${proto}`,
    );
  } else {
    rules.push('jump mark-for-masquerade');
    rules.push(
      `meta l4proto ${proto} dnat ip to ${proto} dport . numgen random mod ${n} map @nodeport-backends-${proto}`,
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

/** Full `nft -f` text for a model: creates the table if missing, deletes it, defines it — one atomic transaction. */
export function renderModel(m: NftModel): string {
  const out: string[] = [
    '#!/usr/sbin/nft -f',
    '# Generated by serverless-service-controller; replaces table ip sscontroller atomically.',
    `add table ${T}`,
    `delete table ${T}`,
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

/** `nft -f` input that atomically replaces our table with the rules for `nodeName`. */
export function renderRuleset(state: DataPlaneState, nodeName: string): string {
  return renderModel(buildModel(state, nodeName));
}

const sameList = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * A small transaction taking a node from `prev`'s rules to `next`'s: new sets and chains are added, changed chains
 * are flushed and refilled, map/set elements are deleted and added, and obsolete chains and sets are removed last
 * (after every reference to them is gone), all inside one `nft -f` run, so the kernel applies it atomically. Its size
 * is proportional to what changed. When the skeleton itself differs (e.g. a changed pod CIDR) the full ruleset is
 * returned instead, which is also a valid single transaction.
 */
export function renderDelta(prev: DataPlaneState, next: DataPlaneState, nodeName: string): string {
  return diffModels(buildModel(prev, nodeName), buildModel(next, nodeName));
}

export function diffModels(a: NftModel, b: NftModel): string {
  for (const [name, c] of b.chains) {
    if (!c.static) continue;
    const o = a.chains.get(name);
    if (!o || o.base !== c.base || !sameList(o.rules, c.rules)) return renderModel(b);
  }
  const out: string[] = ['#!/usr/sbin/nft -f', '# Incremental update of table ip sscontroller (one transaction).'];
  // 1. new sets; a set whose declaration changed cannot be altered in place: fall back to the full ruleset.
  for (const [name, s] of b.sets) {
    const o = a.sets.get(name);
    if (!o) out.push(`add ${s.kind} ${T} ${name} { ${s.spec.join('; ')}; }`);
    else if (o.kind !== s.kind || !sameList(o.spec, s.spec)) return renderModel(b);
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
