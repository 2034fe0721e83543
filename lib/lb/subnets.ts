/**
 * Subnet choice for an NLB, a pure function over the VPC's subnets. An NLB takes at most one subnet per
 * Availability Zone (ELBv2 rejects two in the same AZ).
 *
 * Auto-discovery follows cloud-provider-aws: subnets of the cluster VPC that carry this cluster's tag or no
 * cluster tag at all (never another cluster's), skipping those whose role tag is set for the opposite scheme only;
 * per AZ the tie is broken by (1) the role tag for the scheme (`kubernetes.io/role/elb` for internet-facing,
 * `kubernetes.io/role/internal-elb` for internal), (2) this cluster's tag, (3) the lexicographically smallest id.
 * An internet-facing NLB only gets public subnets (route table with a route to an internet gateway), as
 * cloud-provider-aws's isSubnetPublic decides: an NLB in a private subnet would have an address nobody can reach.
 */
import { clusterTagKey, NAME_TAG, ROLE_ELB_TAG, ROLE_INTERNAL_ELB_TAG } from '../tags.js';

export interface SubnetInfo {
  subnetId: string;
  availabilityZone: string;
  vpcId: string;
  tags: Record<string, string>;
  /** Its IPv4 CIDR (the node rules of an NLB without security groups admit health checks from it). */
  cidrBlock?: string;
  /** Its route table (explicitly associated, else the VPC's main one) routes to an internet gateway; unknown: undefined. */
  public?: boolean;
}

export type SubnetChoice = { subnets: SubnetInfo[]; error?: undefined } | { subnets?: undefined; error: string };

/** A role tag counts when present with a value other than "0"/"false" ("" and "1" are the usual values). */
function hasRole(tags: Record<string, string>, key: string): boolean {
  const v = tags[key];
  return v !== undefined && v !== '0' && v.toLowerCase() !== 'false';
}

function otherClusterTagged(tags: Record<string, string>, cluster: string): boolean {
  const mine = clusterTagKey(cluster);
  return Object.keys(tags).some((k) => k.startsWith('kubernetes.io/cluster/') && k !== mine);
}

export function selectSubnets(
  all: SubnetInfo[],
  cluster: string,
  scheme: 'internet-facing' | 'internal',
  explicit?: string[],
): SubnetChoice {
  if (explicit) {
    const chosen: SubnetInfo[] = [];
    for (const ref of explicit) {
      const byId = all.filter((s) => s.subnetId === ref);
      const matches = byId.length > 0 ? byId : all.filter((s) => s.tags[NAME_TAG] === ref);
      if (matches.length === 0) return { error: `subnet "${ref}" not found in the cluster VPC (by ID or Name tag)` };
      if (matches.length > 1)
        return { error: `subnet Name "${ref}" matches ${matches.length} subnets; use subnet IDs` };
      chosen.push(matches[0]!);
    }
    const azs = new Set(chosen.map((s) => s.availabilityZone));
    if (azs.size !== chosen.length) {
      return { error: 'a Network Load Balancer takes at most one subnet per Availability Zone' };
    }
    return { subnets: chosen };
  }
  const role = scheme === 'internal' ? ROLE_INTERNAL_ELB_TAG : ROLE_ELB_TAG;
  const opposite = scheme === 'internal' ? ROLE_ELB_TAG : ROLE_INTERNAL_ELB_TAG;
  const mine = clusterTagKey(cluster);
  const byAz = new Map<string, SubnetInfo>();
  for (const s of all) {
    if (otherClusterTagged(s.tags, cluster)) continue;
    if (hasRole(s.tags, opposite) && !hasRole(s.tags, role)) continue;
    if (scheme === 'internet-facing' && s.public === false) continue;
    const cur = byAz.get(s.availabilityZone);
    if (!cur || better(s, cur)) byAz.set(s.availabilityZone, s);
  }
  function better(a: SubnetInfo, b: SubnetInfo): boolean {
    const ra = hasRole(a.tags, role);
    const rb = hasRole(b.tags, role);
    if (ra !== rb) return ra;
    const ca = a.tags[mine] !== undefined;
    const cb = b.tags[mine] !== undefined;
    if (ca !== cb) return ca;
    return a.subnetId < b.subnetId;
  }
  const subnets = [...byAz.values()].sort((a, b) => a.subnetId.localeCompare(b.subnetId));
  if (subnets.length === 0) {
    return {
      error:
        `no usable subnet for an ${scheme} load balancer in the cluster VPC: tag subnets with ` +
        `${role}=1 (and ${mine}=owned|shared)` +
        (scheme === 'internet-facing' ? ', in subnets routed to an internet gateway,' : '') +
        ` or set service.beta.kubernetes.io/aws-load-balancer-subnets`,
    };
  }
  return { subnets };
}

/** Route table facts for the public-subnet check (from DescribeRouteTables of the VPC). */
export interface RouteTableInfo {
  main: boolean;
  subnetIds: string[];
  /** Some route targets an internet gateway (`igw-...`). */
  toInternetGateway: boolean;
}

/** Marks each subnet public or not: its explicitly associated route table, else the VPC's main route table. */
export function markPublic(subnets: SubnetInfo[], tables: RouteTableInfo[]): SubnetInfo[] {
  const main = tables.find((t) => t.main);
  return subnets.map((s) => {
    const table = tables.find((t) => t.subnetIds.includes(s.subnetId)) ?? main;
    return table ? { ...s, public: table.toInternetGateway } : s;
  });
}
