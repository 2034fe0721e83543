/**
 * Desired state of one LoadBalancer Service: a pure function from the stored Service, the VPC's subnets and the
 * cluster's nodes to a JSON DesiredStack. No AWS calls; what needs AWS (subnet list, node list, SG list) is an input.
 */
import type { NodeInfo, V1Service } from '../model/types.js';
import { keyOf } from '../model/types.js';
import { formatFieldError } from '../model/field-errors.js';
import { parseLoadBalancerAnnotations, type LoadBalancerAnnotations } from '../model/annotations.js';
import { eligibleNodes } from '../nodes/eligible.js';
import type {
  DesiredListener,
  DesiredNodeRule,
  DesiredSecurityGroup,
  DesiredStack,
  DesiredTargetGroup,
  HealthCheck,
  IngressRule,
  ListenerProtocol,
  NodePermission,
  SubnetMapping,
  TargetGroupProtocol,
} from './model.js';
import { loadBalancerName, securityGroupName, targetGroupName } from './naming.js';
import { selectSubnets, type SubnetInfo } from './subnets.js';
import {
  NAME_TAG,
  nodeRuleDescription,
  ownershipTags,
  RESOURCE_LOAD_BALANCER,
  RESOURCE_MANAGED_SG,
  RESOURCE_TAG,
  resourceForPort,
} from './tags.js';

export interface SecurityGroupInfo {
  groupId: string;
  groupName: string;
  tags: Record<string, string>;
}

export interface BuildEnv {
  clusterName: string;
  vpcId: string;
  /** Every subnet of the cluster VPC. */
  subnets: SubnetInfo[];
  /** Security groups of the VPC; needed only to resolve `aws-load-balancer-security-groups` names. */
  vpcSecurityGroups?: SecurityGroupInfo[];
  nodes: NodeInfo[];
  nodeSecurityGroupId?: string;
}

export type BuildResult = { desired: DesiredStack; errors: [] } | { desired?: undefined; errors: string[] };

/** NLB quota: 500 registered targets per Availability Zone per load balancer (each target × target group counts). */
export const TARGETS_PER_AZ_QUOTA = 500;
export const MANAGED = 'managed';

const DEFAULT_HC_CLUSTER = { intervalSeconds: 10, timeoutSeconds: 10, healthyThreshold: 3, unhealthyThreshold: 3 };
// kube-proxy's health check node port answers fast; the LB controller uses these tighter values for Local.
const DEFAULT_HC_LOCAL = { intervalSeconds: 10, timeoutSeconds: 6, healthyThreshold: 2, unhealthyThreshold: 2 };

interface PortGroup {
  key: string;
  port: number;
  nodePort: number;
  protocol: 'TCP' | 'UDP' | 'TCP_UDP';
  names: string[];
}

/** One group per Service port number; TCP+UDP on the same port (and NodePort) become one TCP_UDP listener. */
function groupPorts(svc: V1Service, errors: string[]): PortGroup[] {
  const byPort = new Map<number, PortGroup>();
  for (const [i, p] of (svc.spec?.ports ?? []).entries()) {
    const proto = (p.protocol ?? 'TCP') as string;
    if (proto !== 'TCP' && proto !== 'UDP') {
      errors.push(
        `spec.ports[${i}].protocol: Unsupported value: "${proto}": a Network Load Balancer supports TCP and UDP`,
      );
      continue;
    }
    if (!p.nodePort) {
      errors.push(`spec.ports[${i}].nodePort: Required value: a LoadBalancer Service needs an allocated nodePort`);
      continue;
    }
    const cur = byPort.get(p.port);
    if (!cur) {
      byPort.set(p.port, { key: '', port: p.port, nodePort: p.nodePort, protocol: proto, names: [p.name ?? ''] });
      continue;
    }
    if (cur.protocol === proto || cur.protocol === 'TCP_UDP') {
      errors.push(`spec.ports[${i}]: Duplicate value: port ${p.port}/${proto}`);
    } else if (cur.nodePort !== p.nodePort) {
      // An NLB listener on one port carries both protocols only as TCP_UDP, which forwards to ONE target port.
      errors.push(
        `spec.ports[${i}].nodePort: Invalid value: ${p.nodePort}: TCP and UDP on port ${p.port} share one ` +
          `TCP_UDP listener, so they must use the same nodePort (${cur.nodePort})`,
      );
    } else {
      cur.protocol = 'TCP_UDP';
      cur.names.push(p.name ?? '');
    }
  }
  const groups = [...byPort.values()].sort((a, b) => a.port - b.port);
  for (const g of groups) g.key = `${g.protocol.toLowerCase()}-${g.port}`;
  return groups;
}

function healthCheckFor(svc: V1Service, cfg: LoadBalancerAnnotations): HealthCheck {
  const local = svc.spec?.externalTrafficPolicy === 'Local' && !!svc.spec?.healthCheckNodePort;
  const d = local ? DEFAULT_HC_LOCAL : DEFAULT_HC_CLUSTER;
  const a = cfg.healthCheck;
  const protocol = a.protocol ?? (local ? 'HTTP' : 'TCP');
  const port = a.port !== undefined ? String(a.port) : local ? String(svc.spec!.healthCheckNodePort) : 'traffic-port';
  const hc: HealthCheck = {
    protocol,
    port,
    intervalSeconds: a.intervalSeconds ?? d.intervalSeconds,
    timeoutSeconds: a.timeoutSeconds ?? d.timeoutSeconds,
    healthyThreshold: a.healthyThreshold ?? d.healthyThreshold,
    unhealthyThreshold: a.unhealthyThreshold ?? d.unhealthyThreshold,
  };
  if (protocol !== 'TCP') {
    hc.path = a.path ?? (local ? '/healthz' : '/');
    hc.matcher = a.successCodes ?? '200-399';
  }
  return hc;
}

function sslApplies(cfg: LoadBalancerAnnotations, g: PortGroup): boolean {
  if (!cfg.ssl) return false;
  if (cfg.ssl.ports === '*') return true;
  return cfg.ssl.ports.some((p) => p === g.port || (typeof p === 'string' && g.names.includes(p)));
}

/** Builds the desired stack, or returns every reason it cannot be built (apiserver-style messages). */
export function buildDesiredStack(svc: V1Service, env: BuildEnv): BuildResult {
  const errors: string[] = [];
  const warnings: string[] = [];
  const stack = keyOf(svc);
  const ns = svc.metadata?.namespace ?? 'default';
  const name = svc.metadata?.name ?? '';
  const uid = svc.metadata?.uid;
  const cluster = env.clusterName;
  const { config: cfg, errors: annErrors } = parseLoadBalancerAnnotations(svc);
  errors.push(...annErrors.map(formatFieldError));

  const groups = groupPorts(svc, errors);
  if ((svc.spec?.ports ?? []).length === 0) errors.push('spec.ports: Required value');
  // NLB quota: 50 listeners per load balancer.
  if (groups.length > 50)
    errors.push(`spec.ports: Too many: ${groups.length}: a Network Load Balancer has at most 50 listeners`);

  const choice = selectSubnets(env.subnets, cluster, cfg.scheme, cfg.subnets);
  if (choice.error) errors.push(choice.error);
  const subnets = choice.subnets ?? [];
  const mappings: SubnetMapping[] = subnets.map((s) => ({ subnetId: s.subnetId }));
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

  // Security groups: the user's (resolved by ID or Name tag/group name) or one managed SG per NLB.
  let lbSecurityGroups: string[] = [MANAGED];
  if (cfg.securityGroups) {
    lbSecurityGroups = [];
    for (const ref of cfg.securityGroups) {
      const all = env.vpcSecurityGroups ?? [];
      const m = all.filter((g) => g.groupId === ref);
      const found = m.length > 0 ? m : all.filter((g) => g.groupName === ref || g.tags[NAME_TAG] === ref);
      if (found.length !== 1) {
        errors.push(
          `metadata.annotations[service.beta.kubernetes.io/aws-load-balancer-security-groups]: Invalid value: "${ref}": ` +
            (found.length === 0 ? 'no such security group in the cluster VPC' : 'matches more than one security group'),
        );
      } else lbSecurityGroups.push(found[0]!.groupId);
    }
  }
  if (errors.length > 0) return { errors };

  const own = ownershipTags(cluster, stack, uid);
  const extra = cfg.additionalTags;
  const lbName = cfg.name ?? loadBalancerName(cluster, ns, name, cfg.scheme);
  const hc = healthCheckFor(svc, cfg);
  const nodes = eligibleNodes(env.nodes, cfg.targetNodeLabels);
  const targets = nodes.map((n) => n.instanceId).sort();
  if (nodes.length === 0) warnings.push('no eligible nodes: the load balancer has no targets');

  const lbAttributes: Record<string, string> = {
    'load_balancing.cross_zone.enabled': 'false',
    'access_logs.s3.enabled': 'false',
    ...cfg.lbAttributes,
  };
  if (cfg.crossZoneEnabled !== undefined)
    lbAttributes['load_balancing.cross_zone.enabled'] = String(cfg.crossZoneEnabled);
  if (cfg.accessLog) {
    lbAttributes['access_logs.s3.enabled'] = String(cfg.accessLog.enabled);
    if (cfg.accessLog.enabled) {
      lbAttributes['access_logs.s3.bucket'] = cfg.accessLog.bucket ?? '';
      lbAttributes['access_logs.s3.prefix'] = cfg.accessLog.prefix ?? '';
    }
  }

  const targetGroups: DesiredTargetGroup[] = [];
  const listeners: DesiredListener[] = [];
  for (const g of groups) {
    const tls = sslApplies(cfg, g);
    if (tls && g.protocol !== 'TCP') {
      if (cfg.ssl!.ports !== '*') {
        return {
          errors: [
            `metadata.annotations[service.beta.kubernetes.io/aws-load-balancer-ssl-ports]: Invalid value: ` +
              `"${cfg.ssl!.ports.join(',')}": port ${g.port} is ${g.protocol}; TLS listeners need a TCP port`,
          ],
        };
      }
    }
    const useTls = tls && g.protocol === 'TCP';
    const tgProtocol: TargetGroupProtocol = useTls && cfg.ssl!.backendProtocol === 'ssl' ? 'TLS' : g.protocol;
    const tgAttributes: Record<string, string> = { 'deregistration_delay.timeout_seconds': '300' };
    if (tgProtocol === 'TCP' || tgProtocol === 'TLS')
      tgAttributes['proxy_protocol_v2.enabled'] = String(cfg.proxyProtocolV2);
    Object.assign(tgAttributes, cfg.targetGroupAttributes);
    const tgName = targetGroupName(cluster, ns, name, g.key, tgProtocol, g.nodePort, env.vpcId);
    targetGroups.push({
      key: g.key,
      name: tgName,
      protocol: tgProtocol,
      port: g.nodePort,
      vpcId: env.vpcId,
      targetType: 'instance',
      healthCheck: hc,
      attributes: tgAttributes,
      targets,
      tags: {
        ...extra,
        ...own,
        [RESOURCE_TAG]: resourceForPort('tg', g.key),
        [NAME_TAG]: `${stack}:${g.port}/${g.protocol}`,
      },
    });
    const listenerProtocol: ListenerProtocol = useTls ? 'TLS' : g.protocol;
    const l: DesiredListener = {
      key: g.key,
      port: g.port,
      protocol: listenerProtocol,
      targetGroupKey: g.key,
      tags: { ...extra, ...own, [RESOURCE_TAG]: resourceForPort('listener', g.key) },
    };
    if (useTls) {
      l.certificateArns = cfg.ssl!.certificateArns;
      // Default policy of the AWS LB controller for NLB TLS listeners.
      l.sslPolicy = cfg.ssl!.negotiationPolicy ?? 'ELBSecurityPolicy-2016-08';
      if (cfg.ssl!.alpnPolicy) l.alpnPolicy = cfg.ssl!.alpnPolicy;
    }
    listeners.push(l);
  }

  // Quota warning: nodes × target groups per AZ.
  const perAz = new Map<string, number>();
  for (const n of nodes) perAz.set(n.availabilityZone, (perAz.get(n.availabilityZone) ?? 0) + targetGroups.length);
  for (const [az, count] of [...perAz.entries()].sort()) {
    if (count > TARGETS_PER_AZ_QUOTA) {
      warnings.push(
        `${count} targets in ${az} exceed the NLB quota of ${TARGETS_PER_AZ_QUOTA} targets per Availability Zone ` +
          `(nodes × ports); restrict targets with aws-load-balancer-target-node-labels`,
      );
    } else if (count >= TARGETS_PER_AZ_QUOTA * 0.8) {
      warnings.push(
        `${count} targets in ${az}: near the NLB quota of ${TARGETS_PER_AZ_QUOTA} targets per Availability Zone`,
      );
    }
  }

  let securityGroup: DesiredSecurityGroup | undefined;
  if (!cfg.securityGroups) {
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
    securityGroup = {
      name: securityGroupName(cluster, ns, name),
      description: `Managed security group of the NLB for Service ${stack} (cluster ${cluster})`,
      ingress: sortRules(ingress),
      tags: { ...extra, ...own, [RESOURCE_TAG]: RESOURCE_MANAGED_SG, [NAME_TAG]: `k8s-elb-${stack}` },
    };
  }

  let nodeRule: DesiredNodeRule | undefined;
  const manage = cfg.manageBackendSecurityGroupRules ?? !cfg.securityGroups;
  if (env.nodeSecurityGroupId && manage && lbSecurityGroups.length > 0) {
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
    if (tcpPorts.length)
      perms.push({ protocol: 'tcp', fromPort: Math.min(...tcpPorts), toPort: Math.max(...tcpPorts) });
    if (udpPorts.length)
      perms.push({ protocol: 'udp', fromPort: Math.min(...udpPorts), toPort: Math.max(...udpPorts) });
    // UDP health checks travel over TCP to the traffic port: the tcp range already includes it for TCP_UDP;
    // for pure UDP target groups add it.
    if (!tcpPorts.length && udpPorts.length)
      perms.push({ protocol: 'tcp', fromPort: Math.min(...udpPorts), toPort: Math.max(...udpPorts) });
    nodeRule = {
      groupId: env.nodeSecurityGroupId,
      sourceGroup: lbSecurityGroups[0]!,
      description: nodeRuleDescription(cluster, stack),
      permissions: perms,
    };
  }

  return {
    desired: {
      cluster,
      stack,
      loadBalancer: {
        name: lbName,
        scheme: cfg.scheme,
        ipAddressType: cfg.ipAddressType,
        subnetMappings: mappings,
        securityGroups: lbSecurityGroups,
        attributes: lbAttributes,
        tags: { ...extra, ...own, [RESOURCE_TAG]: RESOURCE_LOAD_BALANCER, [NAME_TAG]: `k8s-elb-${stack}` },
      },
      securityGroup,
      nodeRule,
      targetGroups,
      listeners,
      warnings,
    },
    errors: [],
  };
}

export function sortRules(rules: IngressRule[]): IngressRule[] {
  return [...rules].sort(
    (a, b) =>
      a.protocol.localeCompare(b.protocol) ||
      a.fromPort - b.fromPort ||
      a.toPort - b.toPort ||
      a.cidr.localeCompare(b.cidr),
  );
}
