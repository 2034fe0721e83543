/**
 * Desired managed security group of the NLB: per listener port and protocol, one ingress rule per source range and
 * per managed prefix list; with `enable-icmp-for-path-mtu-discovery: "on"`, ICMP "fragmentation needed" from each
 * source range (what the AWS LB controller builds). Pure.
 */
import type { LoadBalancerAnnotations } from '../../model/annotations.js';
import type { V1Service } from '../../model/types.js';
import type { DesiredListener, DesiredSecurityGroup, IngressRule } from '../model.js';
import { securityGroupName } from '../naming.js';
import { resourceTags, type StackTagging } from '../ownership.js';

/** ICMP "destination unreachable: fragmentation needed" (type 3 code 4) and ICMPv6 "packet too big" (type 2 code 0). */
const PATH_MTU_V4 = { protocol: 'icmp', fromPort: 3, toPort: 4 } as const;
const PATH_MTU_V6 = { protocol: 'icmpv6', fromPort: 2, toPort: 0 } as const;

/**
 * The client ranges: spec.loadBalancerSourceRanges, else the source-ranges annotation, else everything (0.0.0.0/0,
 * plus ::/0 for dualstack) unless prefix lists are given: then only they (the AWS LB controller's rule).
 */
export function sourceRanges(svc: V1Service, cfg: LoadBalancerAnnotations): string[] {
  if (svc.spec?.loadBalancerSourceRanges?.length) return svc.spec.loadBalancerSourceRanges;
  if (cfg.sourceRanges) return cfg.sourceRanges;
  if (cfg.securityGroupPrefixLists?.length) return [];
  return cfg.ipAddressType === 'dualstack' ? ['0.0.0.0/0', '::/0'] : ['0.0.0.0/0'];
}

/** The managed SG, or undefined when the user names the NLB's security groups or the NLB has none. */
export function desiredSecurityGroup(
  svc: V1Service,
  cfg: LoadBalancerAnnotations,
  listeners: DesiredListener[],
  cluster: string,
  tagging: StackTagging,
): DesiredSecurityGroup | undefined {
  if (cfg.securityGroups || cfg.disableNlbSecurityGroup) return undefined;
  const ranges = sourceRanges(svc, cfg);
  const ingress: IngressRule[] = [];
  for (const l of listeners) {
    const protos: ('tcp' | 'udp')[] =
      l.protocol === 'TCP_UDP' ? ['tcp', 'udp'] : l.protocol === 'UDP' ? ['udp'] : ['tcp'];
    for (const p of protos) {
      for (const cidr of ranges) ingress.push({ protocol: p, fromPort: l.port, toPort: l.port, cidr });
      for (const prefixListId of cfg.securityGroupPrefixLists ?? [])
        ingress.push({ protocol: p, fromPort: l.port, toPort: l.port, prefixListId });
    }
  }
  if (cfg.icmpForPathMtuDiscovery)
    for (const cidr of ranges) ingress.push({ ...(cidr.includes(':') ? PATH_MTU_V6 : PATH_MTU_V4), cidr });
  const ns = svc.metadata?.namespace ?? 'default';
  return {
    name: securityGroupName(cluster, ns, svc.metadata?.name ?? ''),
    description: `Managed security group of the NLB for Service ${tagging.stack} (cluster ${cluster})`,
    ingress: sortRules(ingress),
    tags: resourceTags.securityGroup(tagging),
  };
}

/** The source of a rule: its CIDR or its prefix list. */
export const ruleSource = (r: IngressRule): string => r.cidr ?? r.prefixListId ?? '';

/** The one order of ingress rules (desired and revoked): protocol, ports, source. */
export function sortRules(rules: IngressRule[]): IngressRule[] {
  return [...rules].sort(
    (a, b) =>
      a.protocol.localeCompare(b.protocol) ||
      a.fromPort - b.fromPort ||
      a.toPort - b.toPort ||
      ruleSource(a).localeCompare(ruleSource(b)),
  );
}
