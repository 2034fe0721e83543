/** Desired managed security group of the NLB: one ingress rule per listener port, protocol and source range. Pure. */
import type { LoadBalancerAnnotations } from '../../model/annotations.js';
import type { V1Service } from '../../model/types.js';
import type { DesiredListener, DesiredSecurityGroup, IngressRule } from '../model.js';
import { securityGroupName } from '../naming.js';
import { resourceTags, type StackTagging } from '../ownership.js';

/** The managed SG, or undefined when the user names the NLB's security groups. */
export function desiredSecurityGroup(
  svc: V1Service,
  cfg: LoadBalancerAnnotations,
  listeners: DesiredListener[],
  cluster: string,
  tagging: StackTagging,
): DesiredSecurityGroup | undefined {
  if (cfg.securityGroups) return undefined;
  const ranges = svc.spec?.loadBalancerSourceRanges?.length
    ? svc.spec.loadBalancerSourceRanges
    : (cfg.sourceRanges ?? (cfg.ipAddressType === 'dualstack' ? ['0.0.0.0/0', '::/0'] : ['0.0.0.0/0']));
  const ingress: IngressRule[] = [];
  for (const l of listeners) {
    const protos: ('tcp' | 'udp')[] =
      l.protocol === 'TCP_UDP' ? ['tcp', 'udp'] : l.protocol === 'UDP' ? ['udp'] : ['tcp'];
    for (const p of protos)
      for (const cidr of ranges) ingress.push({ protocol: p, fromPort: l.port, toPort: l.port, cidr });
  }
  const ns = svc.metadata?.namespace ?? 'default';
  return {
    name: securityGroupName(cluster, ns, svc.metadata?.name ?? ''),
    description: `Managed security group of the NLB for Service ${tagging.stack} (cluster ${cluster})`,
    ingress: sortRules(ingress),
    tags: resourceTags.securityGroup(tagging),
  };
}

/** The one order of ingress rules (desired and revoked): protocol, ports, CIDR. */
export function sortRules(rules: IngressRule[]): IngressRule[] {
  return [...rules].sort(
    (a, b) =>
      a.protocol.localeCompare(b.protocol) ||
      a.fromPort - b.fromPort ||
      a.toPort - b.toPort ||
      a.cidr.localeCompare(b.cidr),
  );
}
