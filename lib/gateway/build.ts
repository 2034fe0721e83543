/**
 * Desired NLB stack of one Gateway: the same JSON DesiredStack a LoadBalancer Service builds (lib/lb/build), so the
 * same observer, planner and apply converge it. One NLB; one NLB listener per Gateway listener that has a programmed
 * route (a TCP and a UDP listener on one port share one TCP_UDP listener, as an NLB requires); one target group per
 * backend Service port (instance targets on every eligible node at the backend's node port); weighted forwarding
 * when a route has several backends. NLB-level settings come from the Gateway's annotations (and
 * spec.infrastructure.annotations), read by the same parser as a Service's `service.beta.kubernetes.io/aws-load-
 * balancer-*` annotations. Pure.
 */
import type { V1Service } from '@kubernetes/client-node';
import { parseLoadBalancerAnnotations } from '../model/annotations.js';
import { formatFieldError } from '../model/field-errors.js';
import type { Gateway } from '../model/gateway/types.js';
import { eligibleNodes } from '../nodes/eligible.js';
import type { BuildEnv } from '../lb/build/index.js';
import { buildFrontEnd } from '../lb/build/index.js';
import { listenerAttributeErrors } from '../lb/build/listener.js';
import { loadBalancerSecurityGroups, subnetMappings } from '../lb/build/loadbalancer.js';
import { targetQuotaWarnings } from '../lb/build/targets.js';
import type {
  DesiredListener,
  DesiredStack,
  DesiredTargetGroup,
  HealthCheck,
  TargetGroupProtocol,
} from '../lb/model.js';
import { targetGroupName } from '../lb/naming.js';
import { ownershipTags, resourceTags, type StackTagging } from '../lb/ownership.js';
import { SERVICE_NAME_TAG } from '../tags.js';
import { MAX_NLB_WEIGHT, type Attachment, type ListenerAttachment, type ResolvedBackend } from './attach.js';
import { backendKeyOf, gatewayStack } from './names.js';

/** The target group health check of a backend: TCP on the traffic port, the service controller's cluster defaults. */
const HEALTH_CHECK: HealthCheck = {
  protocol: 'TCP',
  port: 'traffic-port',
  intervalSeconds: 10,
  timeoutSeconds: 10,
  healthyThreshold: 3,
  unhealthyThreshold: 3,
};

/** AWS's default policy for new TLS listeners (TLS 1.3 and 1.2). */
export const GATEWAY_TLS_POLICY = 'ELBSecurityPolicy-TLS13-1-2-2021-06';

export interface GatewayBuildResult {
  desired?: DesiredStack;
  errors: string[];
  /** Listeners that are valid but cannot be programmed as asked, by listener name, with why. */
  listenerErrors: Map<string, string>;
}

/** The Gateway as the Service-shaped input of the shared annotation parser (only metadata.annotations is read). */
export function annotationsOf(gw: Gateway): V1Service {
  const annotations = { ...(gw.metadata?.annotations ?? {}), ...(gw.spec?.infrastructure?.annotations ?? {}) };
  return { metadata: { namespace: gw.metadata?.namespace, name: gw.metadata?.name, annotations } };
}

/**
 * `nodePorts` gives each backend's node port (backendKeyOf): the Service's own NodePort, or the one the data plane
 * allocated for a ClusterIP Service. A backend without one is left out (its route reports it).
 */
export function buildGatewayStack(
  gw: Gateway,
  a: Attachment,
  nodePorts: Map<string, number>,
  env: BuildEnv,
): GatewayBuildResult {
  const listenerErrors = new Map<string, string>();
  const cluster = env.clusterName;
  const svcLike = annotationsOf(gw);
  const { config: cfg, errors: annErrors } = parseLoadBalancerAnnotations(svcLike);
  const errors = annErrors.map(formatFieldError);
  const mappings = subnetMappings(env.subnets, cluster, cfg, errors);
  const lbSecurityGroups = loadBalancerSecurityGroups(cfg, env.vpcSecurityGroups, errors);
  if (errors.length) return { errors, listenerErrors };

  const ns = gw.metadata?.namespace ?? 'default';
  // Hashed into the NLB, target group and SG names: "<name>.gateway" can never be a Service's name (a DNS label has
  // no dots), so a Gateway's names never collide with those of a Service of the same name.
  const name = `${gw.metadata?.name ?? ''}.gateway`;
  const stack = gatewayStack(ns, gw.metadata?.name ?? '');
  const own = ownershipTags(cluster, stack, gw.metadata?.uid);
  delete own[SERVICE_NAME_TAG]; // cloud-provider-aws's tag names a Service; a Gateway's stack is named by its stack tag
  const tagging: StackTagging = { stack, own, extra: cfg.additionalTags };
  const nodes = eligibleNodes(env.nodes, cfg.targetNodeLabels);
  const naming = { cluster, ns, name, vpcId: env.vpcId, targets: nodes.map((n) => n.instanceId).sort(), tagging };
  const { listeners, targetGroups } = programListeners(a, nodePorts, naming, listenerErrors);
  if (listeners.length > 50)
    return {
      errors: [`spec.listeners: Too many: ${listeners.length}: an NLB has at most 50 listeners`],
      listenerErrors,
    };
  const warnings = nodes.length === 0 ? ['no eligible nodes: the load balancer has no targets'] : [];
  warnings.push(...targetQuotaWarnings(nodes, targetGroups.length));
  for (const l of listeners) {
    const attributes = cfg.listenerAttributes?.[`${l.protocol}-${l.port}`];
    if (attributes && Object.keys(attributes).length) l.attributes = attributes;
  }
  const attributeErrors = listenerAttributeErrors(cfg, listeners, svcLike.metadata?.annotations ?? {});
  if (attributeErrors.length) return { errors: attributeErrors, listenerErrors };
  const front = buildFrontEnd({
    svc: { ...svcLike, metadata: { ...svcLike.metadata, name } },
    cfg,
    env,
    mappings,
    lbSecurityGroups,
    listeners,
    targetGroups,
    hc: HEALTH_CHECK,
    tagging,
  });
  if ('error' in front) return { errors: [front.error], listenerErrors };
  const { loadBalancer, securityGroup, nodeRule } = front;
  const inUseHostname = gw.status?.addresses?.find((x) => x.type === 'Hostname')?.value;
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
    listenerErrors,
  };
}

/** What every target group of the Gateway's stack shares. */
interface Naming {
  cluster: string;
  ns: string;
  name: string;
  vpcId: string;
  targets: string[];
  tagging: StackTagging;
}

/** The NLB listeners (one per port) and the target groups they forward to, one per backend node port. */
function programListeners(
  a: Attachment,
  nodePorts: Map<string, number>,
  n: Naming,
  listenerErrors: Map<string, string>,
): { listeners: DesiredListener[]; targetGroups: DesiredTargetGroup[] } {
  const tgs = new Map<string, DesiredTargetGroup>();
  const tg = (protocol: TargetGroupProtocol, nodePort: number, port: number): string => {
    const key = `${protocol.toLowerCase()}-${nodePort}`;
    if (!tgs.has(key)) tgs.set(key, targetGroup(n, key, protocol, nodePort, port));
    return key;
  };
  const listeners: DesiredListener[] = [];
  for (const group of byPort(a.listeners.filter((l) => l.valid && l.programmedRoute))) {
    const l = listenerFor(group, nodePorts, tg, n.tagging, listenerErrors);
    if (l) listeners.push(l);
  }
  return { listeners, targetGroups: [...tgs.values()].sort((x, y) => x.key.localeCompare(y.key)) };
}

function targetGroup(
  n: Naming,
  key: string,
  protocol: TargetGroupProtocol,
  nodePort: number,
  port: number,
): DesiredTargetGroup {
  const attributes: Record<string, string> = { 'deregistration_delay.timeout_seconds': '300' };
  if (protocol === 'TCP') attributes['proxy_protocol_v2.enabled'] = 'false';
  return {
    key,
    name: targetGroupName(n.cluster, n.ns, n.name, key, protocol, nodePort, n.vpcId),
    protocol,
    port: nodePort,
    vpcId: n.vpcId,
    targetType: 'instance',
    healthCheck: HEALTH_CHECK,
    attributes,
    targets: n.targets,
    tags: resourceTags.targetGroup(n.tagging, key, port, protocol),
  };
}

function byPort(ls: ListenerAttachment[]): ListenerAttachment[][] {
  const m = new Map<number, ListenerAttachment[]>();
  for (const l of ls) m.set(l.listener.port, [...(m.get(l.listener.port) ?? []), l]);
  return [...m.values()];
}

/** NLB weights are 0-999: larger Gateway API weights (up to 1,000,000) are scaled down, keeping proportions. */
export function nlbWeights(weights: number[]): number[] {
  const max = Math.max(0, ...weights);
  if (max <= MAX_NLB_WEIGHT) return weights;
  return weights.map((w) => (w === 0 ? 0 : Math.max(1, Math.round((w * MAX_NLB_WEIGHT) / max))));
}

/** One NLB listener for the Gateway listeners on one port (one, or a TCP and a UDP one sharing it as TCP_UDP). */
function listenerFor(
  group: ListenerAttachment[],
  nodePorts: Map<string, number>,
  tg: (protocol: TargetGroupProtocol, nodePort: number, port: number) => string,
  tagging: StackTagging,
  listenerErrors: Map<string, string>,
): DesiredListener | undefined {
  const ported = (b: ResolvedBackend) => nodePorts.get(backendKeyOf(b));
  const live = (l: ListenerAttachment) => l.backends.filter((b) => ported(b) !== undefined && b.weight > 0);
  const first = group[0]!;
  const port = first.listener.port;
  let protocol: 'TCP' | 'UDP' | 'TLS' | 'TCP_UDP' = first.nlbProtocol;
  let backends = live(first);
  if (group.length === 2) {
    // TCP + UDP on one port: an NLB listener carries both only as TCP_UDP, forwarding to ONE target port.
    const [x, y] = [live(group[0]!), live(group[1]!)];
    const same = x.length === 1 && y.length === 1 && ported(x[0]!) === ported(y[0]!);
    if (!same) {
      const udp = group.find((l) => l.nlbProtocol === 'UDP')!;
      listenerErrors.set(
        udp.listener.name,
        `TCP and UDP on port ${port} share one TCP_UDP NLB listener, which needs one backend at the same node port for both`,
      );
      backends = live(group.find((l) => l.nlbProtocol !== 'UDP')!);
      protocol = 'TCP';
    } else protocol = 'TCP_UDP';
  }
  if (backends.length === 0) return undefined; // nothing to forward to: the port stays closed (connections refused)
  const tgProto = (b: ResolvedBackend): TargetGroupProtocol => (protocol === 'TCP_UDP' ? 'TCP_UDP' : b.protocol);
  const keys = backends.map((b) => tg(tgProto(b), ported(b)!, b.port));
  const key = `${protocol.toLowerCase()}-${port}`;
  const weights = nlbWeights(backends.map((b) => b.weight));
  const l: DesiredListener = {
    key,
    port,
    protocol,
    targetGroupKey: keys[0]!,
    tags: resourceTags.listener(tagging, key),
  };
  if (keys.length > 1) l.weighted = keys.map((k, i) => ({ targetGroupKey: k, weight: weights[i]! }));
  if (protocol === 'TLS') {
    l.certificateArns = first.certificateArns;
    l.sslPolicy = GATEWAY_TLS_POLICY;
  }
  return l;
}
