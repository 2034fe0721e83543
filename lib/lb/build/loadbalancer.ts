/** Desired NLB: subnets (with EIPs / private IPs), security groups, attributes. Pure. */
import type { LoadBalancerAnnotations } from '../../model/annotations.js';
import { NAME_TAG } from '../../tags.js';
import type { DesiredLoadBalancer, SubnetMapping } from '../model.js';
import { resourceTags, type StackTagging } from '../ownership.js';
import { selectSubnets, type SubnetInfo } from '../subnets.js';

/** The literal that stands for the stack's managed security group until it exists (resolved by the planner). */
export const MANAGED = 'managed';

export interface SecurityGroupInfo {
  groupId: string;
  groupName: string;
  tags: Record<string, string>;
}

/** Subnet mappings of the NLB: the chosen subnets, with the EIP / private IP of each when annotated. */
export function subnetMappings(
  subnets: SubnetInfo[],
  cluster: string,
  cfg: LoadBalancerAnnotations,
  errors: string[],
): SubnetMapping[] {
  const choice = selectSubnets(subnets, cluster, cfg.scheme, cfg.subnets);
  if (choice.error) errors.push(choice.error);
  const mappings: SubnetMapping[] = (choice.subnets ?? []).map((s) => ({ subnetId: s.subnetId }));
  for (const [list, field, label] of [
    [cfg.eipAllocations, 'allocationId', 'eip-allocations'],
    [cfg.privateIpv4Addresses, 'privateIPv4Address', 'private-ipv4-addresses'],
  ] as const) {
    if (!list) continue;
    if (list.length !== mappings.length) {
      errors.push(
        `metadata.annotations[service.beta.kubernetes.io/aws-load-balancer-${label}]: Invalid value: ` +
          `"${list.join(',')}": must list one entry per subnet (${mappings.length} subnets selected)`,
      );
    } else list.forEach((v, i) => (mappings[i]![field] = v));
  }
  return mappings;
}

/** The user's security groups (by ID, else group name or Name tag), the one managed SG per NLB, or none. */
export function loadBalancerSecurityGroups(
  cfg: LoadBalancerAnnotations,
  vpcSecurityGroups: SecurityGroupInfo[] | undefined,
  errors: string[],
): string[] {
  if (cfg.disableNlbSecurityGroup) return [];
  if (!cfg.securityGroups) return [MANAGED];
  const out: string[] = [];
  for (const ref of cfg.securityGroups) {
    const all = vpcSecurityGroups ?? [];
    const m = all.filter((g) => g.groupId === ref);
    const found = m.length > 0 ? m : all.filter((g) => g.groupName === ref || g.tags[NAME_TAG] === ref);
    if (found.length !== 1) {
      errors.push(
        `metadata.annotations[service.beta.kubernetes.io/aws-load-balancer-security-groups]: Invalid value: "${ref}": ` +
          (found.length === 0 ? 'no such security group in the cluster VPC' : 'matches more than one security group'),
      );
    } else out.push(found[0]!.groupId);
  }
  return out;
}

function loadBalancerAttributes(cfg: LoadBalancerAnnotations): Record<string, string> {
  const attrs: Record<string, string> = {
    'load_balancing.cross_zone.enabled': 'false',
    'access_logs.s3.enabled': 'false',
    ...cfg.lbAttributes,
  };
  if (cfg.crossZoneEnabled !== undefined) attrs['load_balancing.cross_zone.enabled'] = String(cfg.crossZoneEnabled);
  if (cfg.accessLog) {
    attrs['access_logs.s3.enabled'] = String(cfg.accessLog.enabled);
    if (cfg.accessLog.enabled) {
      attrs['access_logs.s3.bucket'] = cfg.accessLog.bucket ?? '';
      attrs['access_logs.s3.prefix'] = cfg.accessLog.prefix ?? '';
    }
  }
  return attrs;
}

export function desiredLoadBalancer(
  name: string,
  cfg: LoadBalancerAnnotations,
  mappings: SubnetMapping[],
  securityGroups: string[],
  tagging: StackTagging,
): DesiredLoadBalancer {
  return {
    name,
    scheme: cfg.scheme,
    ipAddressType: cfg.ipAddressType,
    subnetMappings: mappings,
    securityGroups,
    attributes: loadBalancerAttributes(cfg),
    // CapacityUnits=0 asks for no reservation, as the annotation's absence does.
    ...(cfg.minimumCapacityUnits ? { minimumCapacityUnits: cfg.minimumCapacityUnits } : {}),
    tags: resourceTags.loadBalancer(tagging),
  };
}
