/**
 * Cells of Service, Endpoints and EndpointSlice rows, formatted as kube-apiserver's printers do: EXTERNAL-IP from
 * externalIPs and load-balancer ingress (clipped to 16 characters except in wide output; the server prints wide),
 * PORT(S) `port[:nodePort]/protocol`, at most three endpoints followed by "+ N more...".
 */
import type { V1EndpointSlice, V1Endpoints, V1Service } from '@kubernetes/client-node';
import { parseLoadBalancerAnnotations } from '../../model/annotations.js';
import { OWN_LOAD_BALANCER_CLASS } from '../../model/cluster-names.js';
import { nlbCostCell, type PricingContext } from '../../model/pricing.js';
import { formatLabels } from './labels.js';

function loadBalancerIngress(svc: V1Service): string {
  const seen = new Set<string>();
  for (const ing of svc.status?.loadBalancer?.ingress ?? []) {
    if (ing.ip) seen.add(ing.ip);
    else if (ing.hostname) seen.add(ing.hostname);
  }
  return [...seen].sort().join(',');
}

function externalIP(svc: V1Service): string {
  const ext = svc.spec?.externalIPs ?? [];
  switch (svc.spec?.type) {
    case 'ClusterIP':
    case 'NodePort':
      return ext.length > 0 ? ext.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = loadBalancerIngress(svc);
      if (ext.length > 0) return [...(lb ? lb.split(',') : []), ...ext].join(',');
      return lb || '<pending>';
    }
    case 'ExternalName':
      return svc.spec.externalName ?? '';
    default:
      return '<unknown>';
  }
}

function ports(svc: V1Service): string {
  const s = (svc.spec?.ports ?? [])
    .map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol}` : `${p.port}/${p.protocol}`))
    .join(',');
  return s || '<none>';
}

/**
 * Whether the controller gives this Service an NLB of its own: lib/lb's wantsLoadBalancer, restated here because
 * lib/lb loads the AWS SDK and this layer may not (test/cost checks that both agree).
 */
export function hasOwnLoadBalancer(svc: V1Service): boolean {
  const cls = svc.spec?.loadBalancerClass;
  return (
    svc.spec?.type === 'LoadBalancer' &&
    !svc.metadata?.deletionTimestamp &&
    (!cls || cls === 'service.k8s.aws/nlb' || cls === OWN_LOAD_BALANCER_CLASS)
  );
}

/**
 * LB-COST/MO: the fixed monthly cost of the Service's own NLB (lib/model/pricing.ts nlbCostCell, the rule shared with
 * the Gateway table): `<none>` when it has none (not LoadBalancer, another controller's class, or reached only
 * through a Gateway). Its scheme and subnets come from its annotations.
 */
export function loadBalancerCostCell(svc: V1Service, pricing: PricingContext | undefined): string {
  if (!hasOwnLoadBalancer(svc)) return '<none>';
  const { config } = parseLoadBalancerAnnotations(svc);
  return nlbCostCell({ internal: config.scheme === 'internal', subnets: config.subnets?.length }, pricing);
}

export function serviceCells(svc: V1Service, age: string, pricing?: PricingContext): unknown[] {
  const clusterIP = svc.spec?.clusterIPs?.[0] ?? '<none>';
  return [
    svc.metadata?.name ?? '',
    svc.spec?.type ?? '',
    clusterIP,
    externalIP(svc),
    ports(svc),
    age,
    formatLabels(svc.spec?.selector),
    loadBalancerCostCell(svc, pricing),
  ];
}

/** "a,b,c + N more..." after three entries. */
function capped(list: string[], count: number, emptyText: string): string {
  if (count > list.length) return `${list.join(',')} + ${count - list.length} more...`;
  return list.length > 0 ? list.join(',') : emptyText;
}

const hostPort = (ip: string, port: number): string => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

export function endpointsCells(ep: V1Endpoints, age: string): unknown[] {
  const list: string[] = [];
  let count = 0;
  for (const ss of ep.subsets ?? []) {
    const addrs = ss.addresses ?? [];
    const portList = ss.ports?.length ? ss.ports : [undefined];
    for (const port of portList) {
      count += addrs.length;
      for (const a of addrs) if (list.length < 3) list.push(port ? hostPort(a.ip, port.port) : a.ip);
    }
  }
  const text = (ep.subsets ?? []).length === 0 ? '<none>' : capped(list, count, '');
  return [ep.metadata?.name ?? '', text, age];
}

export function endpointSliceCells(es: V1EndpointSlice, age: string): unknown[] {
  const portNames = (es.ports ?? []).map((p) => (p.port != null ? String(p.port) : (p.name ?? '*')));
  const addrs = (es.endpoints ?? []).flatMap((e) => e.addresses ?? []);
  return [
    es.metadata?.name ?? '',
    es.addressType ?? '',
    capped(portNames.slice(0, 3), portNames.length, '<unset>'),
    capped(addrs.slice(0, 3), addrs.length, '<unset>'),
    age,
  ];
}
