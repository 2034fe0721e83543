/** Desired rule on the nodes' security group: NodePorts (and health-check port) open to the NLB's SG. Pure. */
import type { LoadBalancerAnnotations } from '../../model/annotations.js';
import type { DesiredNodeRule, DesiredTargetGroup, HealthCheck, NodePermission } from '../model.js';
import { nodeRuleDescription } from '../ownership.js';

export function desiredNodeRule(
  cfg: LoadBalancerAnnotations,
  nodeSecurityGroupId: string | undefined,
  lbSecurityGroups: string[],
  targetGroups: DesiredTargetGroup[],
  hc: HealthCheck,
  cluster: string,
  stack: string,
): DesiredNodeRule | undefined {
  const manage = cfg.manageBackendSecurityGroupRules ?? !cfg.securityGroups;
  if (!nodeSecurityGroupId || !manage || lbSecurityGroups.length === 0) return undefined;
  // One SG-to-SG rule per protocol: the range min..max of the NodePorts (plus the health-check port for TCP).
  // Wider than the exact ports, but the source is this NLB's own security group only.
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
  return {
    groupId: nodeSecurityGroupId,
    sourceGroup: lbSecurityGroups[0]!,
    description: nodeRuleDescription(cluster, stack),
    permissions: perms,
  };
}
