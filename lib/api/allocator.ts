/**
 * ClusterIP and NodePort allocation, planned as data. Given the Service to store and the one stored before (if any),
 * `planAllocation` decides which values the Service must hold, picks random free values for fields the user left
 * empty, checks requested values against the ranges, and lists the claims and releases that the store then writes in
 * the SAME DynamoDB transaction as the Service. Ownership is therefore decided by DynamoDB's conditional writes, not
 * by this module: it only proposes values, and a proposal that loses a race comes back as an AllocationConflictError
 * for the caller to re-plan with the lost value avoided. No AWS SDK here (pure layer).
 *
 * Behaviour follows kube-apiserver's allocators:
 * - ClusterIPs come from cfg.serviceCidr minus its network and broadcast addresses; the first usable address
 *   (10.96.0.1 by default) is held by the `kubernetes` Service in `default`, so no other Service is ever given it.
 * - NodePorts and healthCheckNodePorts come from cfg.nodePortRange; a number is exclusive across Services, but one
 *   Service may use it for the TCP and the UDP variant of the same port (as for DNS on 53/TCP+UDP).
 * - Automatic choice is random, preferring the upper part of the range so that the lower part stays available for
 *   users who pick fixed values (KEP-3070 for ClusterIPs, KEP-3668 for NodePorts); the lower part is used when the
 *   upper part is full.
 * - Error texts are the API server's, e.g.
 *   `spec.clusterIPs[0]: Invalid value: "10.96.0.10": failed to allocate IP 10.96.0.10: provided IP is already allocated`.
 */
import type { V1Service, V1ServicePort, V1ServiceSpec } from '@kubernetes/client-node';
import type { ClusterConfig } from '../model/types.js';
import { invalid, type FieldError } from '../model/field-errors.js';
import { formatIPv4, parseCidr, parseIPv4, type Ipv4Cidr } from '../model/ip.js';

export const POOL_CLUSTER_IP = 'clusterip';
export const POOL_NODE_PORT = 'nodeport';
export type Pool = typeof POOL_CLUSTER_IP | typeof POOL_NODE_PORT;

/** Random picks tried before falling back to a linear scan of the band (bounded work per pick). */
const RANDOM_TRIES = 32;

/** A value the planned Service holds that the stored one did not: to be claimed in the write transaction. */
export interface PlannedClaim {
  pool: Pool;
  value: string;
  field: string;
  /** The user asked for this exact value: losing it is an Invalid error, not a reason to pick another. */
  explicit: boolean;
}

export interface PlannedRelease {
  pool: Pool;
  value: string;
}

export interface AllocationPlan {
  /** The Service with every needed clusterIP / nodePort / healthCheckNodePort filled in. */
  service: V1Service;
  claims: PlannedClaim[];
  releases: PlannedRelease[];
  /** Requested values that can never be honoured (outside the range, reserved, used twice in this Service). */
  errors: FieldError[];
  /** A pool in which no value outside `avoid` was left for an automatic pick. */
  exhausted?: Pool;
}

/** Values known to be taken (by anyone); automatic picks never return them. */
export interface AvoidSets {
  clusterIP: Set<string>;
  nodePort: Set<string>;
}

export const emptyAvoid = (): AvoidSets => ({ clusterIP: new Set(), nodePort: new Set() });

export type Rand = () => number;

export class ServiceAllocator {
  readonly cidr: Ipv4Cidr;
  readonly cidrText: string;
  /** First and last usable addresses (network and broadcast excluded). */
  readonly firstIP: number;
  readonly lastIP: number;
  readonly portMin: number;
  readonly portMax: number;

  constructor(cfg: Pick<ClusterConfig, 'serviceCidr' | 'nodePortRange'>) {
    const c = parseCidr(cfg.serviceCidr);
    if (!c || c.prefix > 30) {
      // A /31 or /32 has no usable address once network and broadcast are excluded.
      throw new Error(`invalid service CIDR ${JSON.stringify(cfg.serviceCidr)}: need an IPv4 CIDR of /30 or larger`);
    }
    const { min, max } = cfg.nodePortRange;
    if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max > 65535 || min > max) {
      throw new Error(`invalid node port range ${min}-${max}`);
    }
    this.cidr = c;
    this.cidrText = cfg.serviceCidr;
    this.firstIP = c.base + 1;
    this.lastIP = c.base + c.size - 2;
    this.portMin = min;
    this.portMax = max;
  }

  /** The address kube-apiserver gives the `kubernetes` Service: the first usable one of the range. */
  get reservedIP(): string {
    return formatIPv4(this.firstIP);
  }

  ipInRange(ip: string): boolean {
    const n = parseIPv4(ip);
    return n !== undefined && n >= this.firstIP && n <= this.lastIP;
  }

  portInRange(port: number): boolean {
    return Number.isInteger(port) && port >= this.portMin && port <= this.portMax;
  }

  /** Random free ClusterIP outside `avoid` (and never the reserved first address), or undefined when none is left. */
  pickIP(avoid: ReadonlySet<string>, rand: Rand = Math.random): string | undefined {
    // Index 0 (the first usable address) is reserved, so dynamic picks use indices 1..count-1.
    const count = this.lastIP - this.firstIP + 1;
    const offset = bandOffset(count, 16, 256);
    const idx = pickIndex(1, count, offset, (i) => avoid.has(formatIPv4(this.firstIP + i)), rand);
    return idx === undefined ? undefined : formatIPv4(this.firstIP + idx);
  }

  /** Random free NodePort outside `avoid`, or undefined when none is left. */
  pickPort(avoid: ReadonlySet<string>, rand: Rand = Math.random): number | undefined {
    const count = this.portMax - this.portMin + 1;
    const offset = bandOffset(count, 16, 128, 32);
    const idx = pickIndex(0, count, offset, (i) => avoid.has(String(this.portMin + i)), rand);
    return idx === undefined ? undefined : this.portMin + idx;
  }

  notInRangeIP(field: string, ip: string): FieldError {
    return invalid(
      field,
      ip,
      `failed to allocate IP ${ip}: provided IP is not in the valid range. The range of valid IPs is ${this.cidrText}`,
    );
  }

  notInRangePort(field: string, port: number): FieldError {
    const why = `provided port is not in the valid range. The range of valid ports is ${this.portMin}-${this.portMax}`;
    return invalid(field, port, field === HC_FIELD ? hcDetail(port, why) : why);
  }
}

const HC_FIELD = 'spec.healthCheckNodePort';
const hcDetail = (port: number, why: string) => `failed to allocate requested HealthCheck NodePort ${port}: ${why}`;

/** The Invalid error for a requested value someone else holds, worded per field as the API server words it. */
export function alreadyAllocated(claim: Pick<PlannedClaim, 'pool' | 'value' | 'field'>): FieldError {
  if (claim.pool === POOL_CLUSTER_IP) {
    return invalid(claim.field, claim.value, `failed to allocate IP ${claim.value}: provided IP is already allocated`);
  }
  const port = Number(claim.value);
  const why = 'provided port is already allocated';
  return invalid(claim.field, port, claim.field === HC_FIELD ? hcDetail(port, why) : why);
}

/** The error when a pool has no free value left, in the API server's words. */
export function rangeFullMessage(pool: Pool): string {
  return pool === POOL_CLUSTER_IP
    ? 'Internal error occurred: failed to allocate a serviceIP: range is full'
    : 'Internal error occurred: failed to allocate a nodePort: range is full';
}

/**
 * Size of the lower ("static") band: min(max(floor, size/divisor), cap). Ranges not larger than the band have no
 * preference at all (the whole range is dynamic).
 */
function bandOffset(size: number, floor: number, cap: number, divisor = 16): number {
  const off = Math.min(Math.max(floor, Math.floor(size / divisor)), cap);
  return off >= size ? 0 : off;
}

/**
 * A random index in [start, count) not taken: first the upper band [max(start, offset), count), then the lower band
 * [start, offset). Within a band, a few random tries and then a linear scan from a random point, so the work is
 * bounded and a band with any free index always yields one.
 */
function pickIndex(
  start: number,
  count: number,
  offset: number,
  taken: (i: number) => boolean,
  rand: Rand,
): number | undefined {
  const bands: [number, number][] = [[Math.max(start, offset), count]];
  if (offset > start) bands.push([start, offset]);
  for (const [lo, hi] of bands) {
    const n = hi - lo;
    if (n <= 0) continue;
    for (let t = 0; t < RANDOM_TRIES; t++) {
      const i = lo + Math.floor(rand() * n);
      if (!taken(i)) return i;
    }
    const from = Math.floor(rand() * n);
    for (let k = 0; k < n; k++) {
      const i = lo + ((from + k) % n);
      if (!taken(i)) return i;
    }
  }
  return undefined;
}

// ------------------------------------------------------------------------------------------------ planning

const typeOf = (svc: V1Service | undefined): string => svc?.spec?.type || 'ClusterIP';
const needsClusterIP = (svc: V1Service): boolean => typeOf(svc) !== 'ExternalName';
const needsNodePorts = (svc: V1Service): boolean => ['NodePort', 'LoadBalancer'].includes(typeOf(svc));
/** LoadBalancer with allocateLoadBalancerNodePorts=false gets node ports only where the user asked for one. */
const autoNodePorts = (svc: V1Service): boolean =>
  typeOf(svc) === 'NodePort' || (typeOf(svc) === 'LoadBalancer' && svc.spec?.allocateLoadBalancerNodePorts !== false);
const needsHealthCheck = (svc: V1Service): boolean =>
  typeOf(svc) === 'LoadBalancer' && svc.spec?.externalTrafficPolicy === 'Local';
const isHeadless = (svc: V1Service): boolean => svc.spec?.clusterIP === 'None' || svc.spec?.clusterIPs?.[0] === 'None';

/** The values a stored Service holds in each pool (a stored Service holds exactly the values its spec shows). */
export function heldValues(svc: V1Service | undefined): { clusterIP: Set<string>; nodePort: Set<string> } {
  const out = { clusterIP: new Set<string>(), nodePort: new Set<string>() };
  if (!svc) return out;
  const ip = svc.spec?.clusterIPs?.[0] ?? svc.spec?.clusterIP;
  if (needsClusterIP(svc) && ip && ip !== 'None' && parseIPv4(ip) !== undefined) out.clusterIP.add(ip);
  if (needsNodePorts(svc)) for (const p of svc.spec?.ports ?? []) if (p.nodePort) out.nodePort.add(String(p.nodePort));
  if (needsHealthCheck(svc) && svc.spec?.healthCheckNodePort) out.nodePort.add(String(svc.spec.healthCheckNodePort));
  return out;
}

export interface PlanInput {
  /** The Service to store: defaulted and validated; allocated values carried over from `prev` where kept. */
  next: V1Service;
  /** The stored Service this write replaces (undefined on create). */
  prev?: V1Service;
  /** Values to avoid for automatic picks (taken by others, learned from failed claims or a pool listing). */
  avoid?: AvoidSets;
  rand?: Rand;
}

/**
 * Fills in allocations for `next` and lists the claims/releases relative to `prev`. Requested values outside the
 * ranges or otherwise impossible become `errors`; requested values held by another Service are discovered only by
 * the transaction (a claim's condition fails) and reported with `alreadyAllocated`.
 */
export function planAllocation(alloc: ServiceAllocator, input: PlanInput): AllocationPlan {
  const run = new AllocationRun(alloc, input);
  run.clusterIP();
  run.nodePorts();
  run.healthCheckNodePort();
  return run.plan();
}

/** One planAllocation call's working state: the Service being filled in and what it claims so far. */
class AllocationRun {
  private readonly svc: V1Service;
  private readonly spec: V1ServiceSpec;
  private readonly avoid: AvoidSets;
  private readonly rand: Rand;
  private readonly held: ReturnType<typeof heldValues>;
  private readonly errors: FieldError[] = [];
  private readonly claims: PlannedClaim[] = [];
  private exhausted: Pool | undefined;
  /** Node ports this Service uses, and which field first used them (a number may serve TCP+UDP of one port only). */
  private readonly used = new Map<string, { field: string; port: number; protocol: string }>();
  private readonly pickedPorts = new Set<string>();

  constructor(
    private readonly alloc: ServiceAllocator,
    input: PlanInput,
  ) {
    this.svc = structuredClone(input.next);
    this.spec = this.svc.spec ??= {};
    this.avoid = input.avoid ?? emptyAvoid();
    this.rand = input.rand ?? Math.random;
    this.held = heldValues(input.prev);
  }

  clusterIP(): void {
    const { svc, spec, alloc, held } = this;
    if (!needsClusterIP(svc) || isHeadless(svc)) return;
    const field = 'spec.clusterIPs[0]';
    const isKubernetesService =
      svc.metadata?.name === 'kubernetes' && (svc.metadata?.namespace ?? 'default') === 'default';
    let ip = spec.clusterIPs?.[0] || spec.clusterIP || '';
    if (!ip && isKubernetesService) ip = alloc.reservedIP;
    if (ip) {
      if (!alloc.ipInRange(ip)) this.errors.push(alloc.notInRangeIP(field, ip));
      else if (ip === alloc.reservedIP && !isKubernetesService && !held.clusterIP.has(ip)) {
        // kube-apiserver's bootstrap controller holds this address for the `kubernetes` Service.
        this.errors.push(alreadyAllocated({ pool: POOL_CLUSTER_IP, value: ip, field }));
      } else if (!held.clusterIP.has(ip)) this.claims.push({ pool: POOL_CLUSTER_IP, value: ip, field, explicit: true });
    } else {
      const picked = alloc.pickIP(new Set([...this.avoid.clusterIP, ...held.clusterIP]), this.rand);
      if (picked === undefined) this.exhausted = POOL_CLUSTER_IP;
      else {
        ip = picked;
        this.claims.push({ pool: POOL_CLUSTER_IP, value: ip, field, explicit: false });
      }
    }
    if (ip) {
      spec.clusterIP = ip;
      spec.clusterIPs = [ip, ...(spec.clusterIPs?.slice(1) ?? [])];
    }
  }

  nodePorts(): void {
    if (!needsNodePorts(this.svc)) {
      for (const p of this.spec.ports ?? []) delete p.nodePort;
      return;
    }
    // Requested values first, so automatic picks avoid them.
    (this.spec.ports ?? []).forEach((p, i) => this.requestedNodePort(p, i));
    if (autoNodePorts(this.svc)) (this.spec.ports ?? []).forEach((p, i) => this.automaticNodePort(p, i));
  }

  private requestedNodePort(p: V1ServicePort, i: number): void {
    if (!p.nodePort) return;
    const field = `spec.ports[${i}].nodePort`;
    if (!this.alloc.portInRange(p.nodePort)) {
      this.errors.push(this.alloc.notInRangePort(field, p.nodePort));
      return;
    }
    const k = String(p.nodePort);
    const first = this.used.get(k);
    const protocol = p.protocol ?? 'TCP';
    if (first && !(first.port === p.port && first.protocol !== protocol)) {
      // Only the other protocol of the same Service port may share the number (validation also reports it).
      this.errors.push(alreadyAllocated({ pool: POOL_NODE_PORT, value: k, field }));
      return;
    }
    if (!first) this.used.set(k, { field, port: p.port, protocol });
    this.claimPort(p.nodePort, field, true);
  }

  private automaticNodePort(p: V1ServicePort, i: number): void {
    if (p.nodePort) return;
    const ports = this.spec.ports ?? [];
    const field = `spec.ports[${i}].nodePort`;
    // The same Service port under another protocol shares its node port, as the API server does.
    const sibling = ports.find((q, j) => j !== i && q.port === p.port && q.protocol !== p.protocol && q.nodePort);
    let value = sibling?.nodePort;
    if (!value) {
      value = this.autoPort();
      if (value === undefined) return;
      this.claimPort(value, field, false);
    }
    p.nodePort = value;
    this.used.set(String(value), { field, port: p.port, protocol: p.protocol ?? 'TCP' });
  }

  healthCheckNodePort(): void {
    const { spec } = this;
    if (!needsHealthCheck(this.svc)) {
      delete spec.healthCheckNodePort;
      return;
    }
    const requested = spec.healthCheckNodePort;
    if (requested) {
      if (!this.alloc.portInRange(requested)) this.errors.push(this.alloc.notInRangePort(HC_FIELD, requested));
      else if (this.used.has(String(requested))) {
        this.errors.push(alreadyAllocated({ pool: POOL_NODE_PORT, value: String(requested), field: HC_FIELD }));
      } else this.claimPort(requested, HC_FIELD, true);
      return;
    }
    const value = this.autoPort();
    if (value !== undefined) {
      spec.healthCheckNodePort = value;
      this.claimPort(value, HC_FIELD, false);
    }
  }

  private claimPort(value: number, field: string, explicit: boolean): void {
    const k = String(value);
    if (!this.held.nodePort.has(k) && !this.claims.some((c) => c.pool === POOL_NODE_PORT && c.value === k)) {
      this.claims.push({ pool: POOL_NODE_PORT, value: k, field, explicit });
    }
  }

  private autoPort(): number | undefined {
    const avoid = new Set([...this.avoid.nodePort, ...this.held.nodePort, ...this.used.keys(), ...this.pickedPorts]);
    const p = this.alloc.pickPort(avoid, this.rand);
    if (p === undefined) this.exhausted ??= POOL_NODE_PORT;
    else this.pickedPorts.add(String(p));
    return p;
  }

  plan(): AllocationPlan {
    const { held } = this;
    const nowHeld = heldValues(this.svc);
    const releases: PlannedRelease[] = [
      ...[...held.clusterIP]
        .filter((v) => !nowHeld.clusterIP.has(v))
        .map((value) => ({ pool: POOL_CLUSTER_IP, value })),
      ...[...held.nodePort].filter((v) => !nowHeld.nodePort.has(v)).map((value) => ({ pool: POOL_NODE_PORT, value })),
    ] as PlannedRelease[];
    const { svc, claims, errors, exhausted } = this;
    return { service: svc, claims, releases, errors, exhausted };
  }
}
