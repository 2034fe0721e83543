/** Desired listener of one port group: plain TCP/UDP/TCP_UDP, or TLS when the ssl-ports annotation covers it. Pure. */
import { LISTENER_ATTRIBUTES_PREFIX, type LoadBalancerAnnotations } from '../../model/annotations.js';
import { formatFieldError, invalid } from '../../model/field-errors.js';
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
  const attributes = cfg.listenerAttributes?.[`${protocol}-${g.port}`];
  if (attributes && Object.keys(attributes).length) l.attributes = attributes;
  if (useTls) {
    l.certificateArns = cfg.ssl!.certificateArns;
    // Default policy of the AWS LB controller for NLB TLS listeners.
    l.sslPolicy = cfg.ssl!.negotiationPolicy ?? 'ELBSecurityPolicy-2016-08';
    if (cfg.ssl!.alpnPolicy) l.alpnPolicy = cfg.ssl!.alpnPolicy;
  }
  return l;
}

/** Protocols whose listeners take tcp.idle_timeout.seconds: TLS listeners keep a fixed 350 s, UDP ones have no TCP. */
const IDLE_TIMEOUT_PROTOCOLS = new Set(['TCP', 'TCP_UDP']);

/**
 * Every `listener-attributes.<PROTOCOL>-<port>` annotation must name a listener this Service gets, with a protocol
 * whose listeners take the attribute (ELBv2 refuses the others); as apiserver-style messages on the annotation.
 */
export function listenerAttributeErrors(
  cfg: LoadBalancerAnnotations,
  listeners: DesiredListener[],
  annotations: Record<string, string>,
): string[] {
  const errors: string[] = [];
  for (const [name, attrs] of Object.entries(cfg.listenerAttributes ?? {})) {
    const key = `${LISTENER_ATTRIBUTES_PREFIX}${name}`;
    const value = (annotations[key] ?? '').trim();
    const [protocol, port] = [name.slice(0, name.lastIndexOf('-')), Number(name.slice(name.lastIndexOf('-') + 1))];
    const onPort = listeners.find((l) => l.port === port);
    let detail: string | undefined;
    if (!onPort) detail = `this Service has no port ${port}`;
    else if (onPort.protocol !== protocol)
      detail = `the listener on port ${port} is ${onPort.protocol}, not ${protocol}`;
    else if ('tcp.idle_timeout.seconds' in attrs && !IDLE_TIMEOUT_PROTOCOLS.has(protocol))
      detail = `a ${protocol} listener has no settable TCP idle timeout (ELBv2: TCP and TCP_UDP listeners only)`;
    if (detail) errors.push(formatFieldError(invalid(`metadata.annotations[${key}]`, value, detail)));
  }
  return errors;
}
