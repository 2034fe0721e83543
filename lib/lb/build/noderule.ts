/**
 * Desired rule on the nodes' security group. With an NLB security group: the NodePorts (and health-check port) open
 * to it, one SG-to-SG range per protocol. Without one (`disable-nlb-sg`): the AWS LB controller's rules for an NLB
 * without security groups, port by port from CIDRs: the traffic port from the client ranges (the NLB keeps the
 * client's address; when it does not, from the NLB's subnets), the health-check port from the NLB's subnets unless
 * the traffic rule already admits them. Pure.
 */
import type { LoadBalancerAnnotations } from '../../model/annotations.js';
import type { DesiredNodeRule, DesiredTargetGroup, HealthCheck, NodePermission } from '../model.js';
import { nodeRuleDescription } from '../ownership.js';

/** Where traffic to the nodes comes from when the NLB has no security group. */
export interface ClientNetworks {
  /** spec.loadBalancerSourceRanges or the source-ranges annotation; empty: none given. */
  sourceRanges: string[];
  /** Without source ranges: 0.0.0.0/0 for an internet-facing NLB, the VPC's CIDRs for an internal one. */
  defaultRanges: string[];
  /** CIDRs of the NLB's subnets: health checks (and traffic whose client address is not preserved) come from there. */
  subnetCidrs: string[];
}

export function desiredNodeRule(
  cfg: LoadBalancerAnnotations,
  nodeSecurityGroupId: string | undefined,
  lbSecurityGroups: string[],
  targetGroups: DesiredTargetGroup[],
  hc: HealthCheck,
  cluster: string,
  stack: string,
  clients?: ClientNetworks,
): DesiredNodeRule | undefined {
  const manage = cfg.manageBackendSecurityGroupRules ?? !cfg.securityGroups;
  if (!nodeSecurityGroupId || !manage) return undefined;
  const description = nodeRuleDescription(cluster, stack);
  if (lbSecurityGroups.length === 0) {
    if (!clients) return undefined;
    return { groupId: nodeSecurityGroupId, description, permissions: cidrPermissions(targetGroups, hc, clients) };
  }
  return {
    groupId: nodeSecurityGroupId,
    sourceGroup: lbSecurityGroups[0]!,
    description,
    permissions: rangePermissions(targetGroups, hc),
  };
}

/**
 * One SG-to-SG rule per protocol: the range min..max of the NodePorts (plus the health-check port for TCP). Wider
 * than the exact ports, but the source is this NLB's own security group only.
 */
function rangePermissions(targetGroups: DesiredTargetGroup[], hc: HealthCheck): NodePermission[] {
  const perms: NodePermission[] = [];
  const tcpPorts: number[] = [];
  const udpPorts: number[] = [];
  for (const tg of targetGroups) {
    if (tg.protocol !== 'UDP') tcpPorts.push(tg.port);
    if (tg.protocol === 'UDP' || tg.protocol === 'TCP_UDP') udpPorts.push(tg.port);
  }
  if (hc.port !== 'traffic-port') tcpPorts.push(Number(hc.port));
  if (tcpPorts.length) perms.push({ protocol: 'tcp', fromPort: Math.min(...tcpPorts), toPort: Math.max(...tcpPorts) });
  if (udpPorts.length) perms.push({ protocol: 'udp', fromPort: Math.min(...udpPorts), toPort: Math.max(...udpPorts) });
  // UDP health checks travel over TCP to the traffic port: the tcp range already includes it for TCP_UDP;
  // for pure UDP target groups add it.
  if (!tcpPorts.length && udpPorts.length)
    perms.push({ protocol: 'tcp', fromPort: Math.min(...udpPorts), toPort: Math.max(...udpPorts) });
  return perms;
}

const EVERYWHERE = new Set(['0.0.0.0/0', '::/0']);

/**
 * Exact ports from CIDRs: a CIDR source admits anyone in it, so never a range that would also open other Services'
 * NodePorts. UDP and TCP_UDP always keep the client's address; TCP and TLS unless preserve_client_ip.enabled=false.
 */
function cidrPermissions(targetGroups: DesiredTargetGroup[], hc: HealthCheck, nets: ClientNetworks): NodePermission[] {
  const out = new Map<string, NodePermission>();
  const add = (protocol: 'tcp' | 'udp', port: number, cidrs: string[]) => {
    for (const cidr of cidrs) out.set(`${protocol}:${port}:${cidr}`, { protocol, fromPort: port, toPort: port, cidr });
  };
  for (const tg of targetGroups) {
    const clientIp =
      tg.protocol === 'UDP' || tg.protocol === 'TCP_UDP' || tg.attributes['preserve_client_ip.enabled'] !== 'false';
    const defaulted = clientIp && nets.sourceRanges.length === 0;
    const traffic = !clientIp ? nets.subnetCidrs : defaulted ? nets.defaultRanges : nets.sourceRanges;
    const protos: ('tcp' | 'udp')[] =
      tg.protocol === 'TCP_UDP' ? ['tcp', 'udp'] : tg.protocol === 'UDP' ? ['udp'] : ['tcp'];
    for (const p of protos) add(p, tg.port, traffic);
    // Health checks (always TCP here) come from the NLB's subnets; on the traffic port of a TCP target group the
    // traffic rule admits them already when it admits the subnets, the default ranges or everyone.
    const hcPort = hc.port === 'traffic-port' ? tg.port : Number(hc.port);
    const covered =
      tg.protocol !== 'UDP' && hcPort === tg.port && (!clientIp || defaulted || traffic.some((c) => EVERYWHERE.has(c)));
    if (!covered) add('tcp', hcPort, nets.subnetCidrs);
  }
  return [...out.values()].sort(
    (a, b) => a.protocol.localeCompare(b.protocol) || a.fromPort - b.fromPort || a.cidr!.localeCompare(b.cidr!),
  );
}
