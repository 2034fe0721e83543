/**
 * Desired state of one LoadBalancer Service: a pure function from the stored Service, the VPC's subnets and the
 * cluster's nodes to a JSON DesiredStack. No AWS calls; what needs AWS (subnet list, node list, SG list) is an input.
 * One file per resource beside this one (ports, loadbalancer, targetgroup, targets, listener, securitygroup,
 * noderule); the tags of each come from lib/lb/ownership.ts.
 */
import type { NodeInfo, V1Service } from '../../model/types.js';
import { keyOf } from '../../model/types.js';
import { formatFieldError } from '../../model/field-errors.js';
import { parseLoadBalancerAnnotations, type LoadBalancerAnnotations } from '../../model/annotations.js';
import { eligibleNodes } from '../../nodes/eligible.js';
import type { DesiredListener, DesiredStack, DesiredTargetGroup, HealthCheck, SubnetMapping } from '../model.js';
import { loadBalancerName } from '../naming.js';
import { ownershipTags, type StackTagging } from '../ownership.js';
import type { SubnetInfo } from '../subnets.js';
import { desiredListener, listenerAttributeErrors, sslApplies, tlsPortError } from './listener.js';
import {
  desiredLoadBalancer,
  loadBalancerSecurityGroups,
  subnetMappings,
  type SecurityGroupInfo,
} from './loadbalancer.js';
import { desiredNodeRule, type ClientNetworks } from './noderule.js';
import { groupPorts, type PortGroup } from './ports.js';
import { desiredSecurityGroup } from './securitygroup.js';
import { desiredTargetGroup, healthCheckFor, type TargetGroupCommon } from './targetgroup.js';
import { targetQuotaWarnings } from './targets.js';

export interface BuildEnv {
  clusterName: string;
  vpcId: string;
  /** Every subnet of the cluster VPC. */
  subnets: SubnetInfo[];
  /** Security groups of the VPC; needed only to resolve `aws-load-balancer-security-groups` names. */
  vpcSecurityGroups?: SecurityGroupInfo[];
  nodes: NodeInfo[];
  nodeSecurityGroupId?: string;
  /** The VPC's IPv4 CIDRs: the clients of an internal NLB without security groups (read only when one needs them). */
  vpcCidrs?: string[];
}

export type BuildResult = { desired: DesiredStack; errors: [] } | { desired?: undefined; errors: string[] };

/** Builds the desired stack, or returns every reason it cannot be built (apiserver-style messages). */
export function buildDesiredStack(svc: V1Service, env: BuildEnv): BuildResult {
  const errors: string[] = [];
  const cluster = env.clusterName;
  const { config: cfg, errors: annErrors } = parseLoadBalancerAnnotations(svc);
  errors.push(...annErrors.map(formatFieldError));

  const groups = groupPorts(svc, errors);
  if ((svc.spec?.ports ?? []).length === 0) errors.push('spec.ports: Required value');
  // NLB quota: 50 listeners per load balancer.
  if (groups.length > 50)
    errors.push(`spec.ports: Too many: ${groups.length}: a Network Load Balancer has at most 50 listeners`);
  const mappings = subnetMappings(env.subnets, cluster, cfg, errors);
  const lbSecurityGroups = loadBalancerSecurityGroups(cfg, env.vpcSecurityGroups, errors);
  if (errors.length > 0) return { errors };

  const stack = keyOf(svc);
  const ns = svc.metadata?.namespace ?? 'default';
  const name = svc.metadata?.name ?? '';
  const tagging: StackTagging = {
    stack,
    own: ownershipTags(cluster, stack, svc.metadata?.uid),
    extra: cfg.additionalTags,
  };
  const inUseHostname = svc.status?.loadBalancer?.ingress?.[0]?.hostname;
  const hc = healthCheckFor(svc, cfg);
  const nodes = eligibleNodes(env.nodes, cfg.targetNodeLabels);
  const warnings: string[] = [];
  if (nodes.length === 0) warnings.push('no eligible nodes: the load balancer has no targets');
  const common: TargetGroupCommon = {
    cluster,
    namespace: ns,
    name,
    vpcId: env.vpcId,
    healthCheck: hc,
    targets: nodes.map((n) => n.instanceId).sort(),
    tagging,
  };
  const ports = buildPorts(cfg, groups, common);
  if ('error' in ports) return { errors: [ports.error] };
  const { targetGroups, listeners } = ports;
  const attributeErrors = listenerAttributeErrors(cfg, listeners, svc.metadata?.annotations ?? {});
  if (attributeErrors.length) return { errors: attributeErrors };
  warnings.push(...targetQuotaWarnings(nodes, targetGroups.length));

  const front = buildFrontEnd({ svc, cfg, env, mappings, lbSecurityGroups, listeners, targetGroups, hc, tagging });
  if ('error' in front) return { errors: [front.error] };
  const { loadBalancer, securityGroup, nodeRule } = front;
  return {
    desired: {
      cluster,
      stack,
      ...(inUseHostname ? { inUseHostname } : {}),
      loadBalancer,
      securityGroup,
      nodeRule,
      targetGroups,
      listeners,
      warnings,
    },
    errors: [],
  };
}

/** What the NLB's front end is built from: the (Service-shaped) owner, its listeners and target groups. */
export interface FrontEndInput {
  /** The Service, or a Gateway as a Service-shaped object (lib/gateway/build.ts annotationsOf). */
  svc: V1Service;
  cfg: LoadBalancerAnnotations;
  env: BuildEnv;
  mappings: SubnetMapping[];
  lbSecurityGroups: string[];
  listeners: DesiredListener[];
  targetGroups: DesiredTargetGroup[];
  hc: HealthCheck;
  tagging: StackTagging;
}

/**
 * The NLB, its managed security group and the node security group's rule: shared by a Service's stack and a
 * Gateway's, so both name, secure and open the nodes the same way (disable-nlb-sg included).
 */
export function buildFrontEnd(
  i: FrontEndInput,
): Pick<DesiredStack, 'loadBalancer' | 'securityGroup' | 'nodeRule'> | { error: string } {
  const { svc, cfg, env, tagging } = i;
  const cluster = env.clusterName;
  const ns = svc.metadata?.namespace ?? 'default';
  const loadBalancer = desiredLoadBalancer(
    cfg.name ?? loadBalancerName(cluster, ns, svc.metadata?.name ?? '', cfg.scheme, cfg.disableNlbSecurityGroup),
    cfg,
    i.mappings,
    i.lbSecurityGroups,
    tagging,
  );
  const securityGroup = desiredSecurityGroup(svc, cfg, i.listeners, cluster, tagging);
  const clients = i.lbSecurityGroups.length === 0 ? clientNetworks(svc, cfg, env, i.mappings) : undefined;
  if (clients && 'error' in clients) return { error: clients.error };
  const nodeRule = desiredNodeRule(
    cfg,
    env.nodeSecurityGroupId,
    i.lbSecurityGroups,
    i.targetGroups,
    i.hc,
    cluster,
    tagging.stack,
    clients,
  );
  return { loadBalancer, securityGroup, nodeRule };
}

/**
 * Where the nodes' traffic comes from when the NLB has no security group (the node rule admits these CIDRs). Exported
 * for the other stacks built from these parts (lib/gateway/build.ts), which need it for disable-nlb-sg too.
 */
export function clientNetworks(
  svc: V1Service,
  cfg: LoadBalancerAnnotations,
  env: BuildEnv,
  mappings: SubnetMapping[],
): ClientNetworks | { error: string } {
  const explicit = svc.spec?.loadBalancerSourceRanges?.length ? svc.spec.loadBalancerSourceRanges : cfg.sourceRanges;
  const sourceRanges = explicit ?? [];
  const used = new Set(mappings.map((m) => m.subnetId));
  const subnetCidrs = env.subnets.flatMap((s) => (used.has(s.subnetId) && s.cidrBlock ? [s.cidrBlock] : []));
  let defaultRanges = ['0.0.0.0/0'];
  if (cfg.scheme === 'internal') {
    // Clients of an internal NLB are in the VPC: admitting 0.0.0.0/0 would open the NodePorts to every address.
    if (!env.vpcCidrs?.length && sourceRanges.length === 0)
      return { error: 'internal: the VPC CIDR is unknown; an internal NLB without security groups needs it' };
    defaultRanges = env.vpcCidrs ?? [];
  }
  return { sourceRanges, defaultRanges, subnetCidrs: [...new Set(subnetCidrs)].sort() };
}

/** A target group and a listener per port group; the first port that cannot be TLS as asked stops the build. */
function buildPorts(
  cfg: LoadBalancerAnnotations,
  groups: PortGroup[],
  common: TargetGroupCommon,
): { targetGroups: DesiredTargetGroup[]; listeners: DesiredListener[] } | { error: string } {
  const targetGroups: DesiredTargetGroup[] = [];
  const listeners: DesiredListener[] = [];
  for (const g of groups) {
    const error = tlsPortError(cfg, g);
    if (error) return { error };
    const useTls = sslApplies(cfg, g) && g.protocol === 'TCP';
    targetGroups.push(desiredTargetGroup(common, cfg, g, useTls));
    listeners.push(desiredListener(cfg, g, useTls, common.tagging));
  }
  return { targetGroups, listeners };
}
