/** Desired listener of one port group: plain TCP/UDP/TCP_UDP, or TLS when the ssl-ports annotation covers it. Pure. */
import type { LoadBalancerAnnotations } from '../../model/annotations.js';
import type { DesiredListener, ListenerProtocol } from '../model.js';
import { resourceTags, type StackTagging } from '../ownership.js';
import type { PortGroup } from './ports.js';

export function sslApplies(cfg: LoadBalancerAnnotations, g: PortGroup): boolean {
  if (!cfg.ssl) return false;
  if (cfg.ssl.ports === '*') return true;
  return cfg.ssl.ports.some((p) => p === g.port || (typeof p === 'string' && g.names.includes(p)));
}

/**
 * The error for a port the ssl-ports annotation names explicitly but that cannot be TLS (ELBv2: a TLS listener is
 * TCP only); undefined when the port is fine. With "*" non-TCP ports simply stay plain.
 */
export function tlsPortError(cfg: LoadBalancerAnnotations, g: PortGroup): string | undefined {
  if (!sslApplies(cfg, g) || g.protocol === 'TCP' || cfg.ssl!.ports === '*') return undefined;
  return (
    `metadata.annotations[service.beta.kubernetes.io/aws-load-balancer-ssl-ports]: Invalid value: ` +
    `"${cfg.ssl!.ports.join(',')}": port ${g.port} is ${g.protocol}; TLS listeners need a TCP port`
  );
}

export function desiredListener(
  cfg: LoadBalancerAnnotations,
  g: PortGroup,
  useTls: boolean,
  tagging: StackTagging,
): DesiredListener {
  const protocol: ListenerProtocol = useTls ? 'TLS' : g.protocol;
  const l: DesiredListener = {
    key: g.key,
    port: g.port,
    protocol,
    targetGroupKey: g.key,
    tags: resourceTags.listener(tagging, g.key),
  };
  if (useTls) {
    l.certificateArns = cfg.ssl!.certificateArns;
    // Default policy of the AWS LB controller for NLB TLS listeners.
    l.sslPolicy = cfg.ssl!.negotiationPolicy ?? 'ELBSecurityPolicy-2016-08';
    if (cfg.ssl!.alpnPolicy) l.alpnPolicy = cfg.ssl!.alpnPolicy;
  }
  return l;
}
