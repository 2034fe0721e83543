/** Desired target group of one port group: instance targets on the NodePort, health check, attributes. Pure. */
import type { LoadBalancerAnnotations } from '../../model/annotations.js';
import type { V1Service } from '../../model/types.js';
import type { DesiredTargetGroup, HealthCheck, TargetGroupProtocol } from '../model.js';
import { targetGroupName } from '../naming.js';
import { resourceTags, type StackTagging } from '../ownership.js';
import type { PortGroup } from './ports.js';

const DEFAULT_HC_CLUSTER = { intervalSeconds: 10, timeoutSeconds: 10, healthyThreshold: 3, unhealthyThreshold: 3 };
// kube-proxy's health check node port answers fast; the LB controller uses these tighter values for Local.
const DEFAULT_HC_LOCAL = { intervalSeconds: 10, timeoutSeconds: 6, healthyThreshold: 2, unhealthyThreshold: 2 };

export function healthCheckFor(svc: V1Service, cfg: LoadBalancerAnnotations): HealthCheck {
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

/** What every target group of one Service shares. */
export interface TargetGroupCommon {
  cluster: string;
  namespace: string;
  name: string;
  vpcId: string;
  healthCheck: HealthCheck;
  /** Instance IDs, sorted. */
  targets: string[];
  tagging: StackTagging;
}

export function desiredTargetGroup(
  c: TargetGroupCommon,
  cfg: LoadBalancerAnnotations,
  g: PortGroup,
  useTls: boolean,
): DesiredTargetGroup {
  const protocol: TargetGroupProtocol = useTls && cfg.ssl!.backendProtocol === 'ssl' ? 'TLS' : g.protocol;
  const attributes: Record<string, string> = { 'deregistration_delay.timeout_seconds': '300' };
  if (protocol === 'TCP' || protocol === 'TLS') attributes['proxy_protocol_v2.enabled'] = String(cfg.proxyProtocolV2);
  Object.assign(attributes, cfg.targetGroupAttributes);
  return {
    key: g.key,
    name: targetGroupName(c.cluster, c.namespace, c.name, g.key, protocol, g.nodePort, c.vpcId),
    protocol,
    port: g.nodePort,
    vpcId: c.vpcId,
    targetType: 'instance',
    healthCheck: c.healthCheck,
    attributes,
    targets: c.targets,
    tags: resourceTags.targetGroup(c.tagging, g.key, g.port, g.protocol),
  };
}
