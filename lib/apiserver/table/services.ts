/**
 * Cells of Service, Endpoints and EndpointSlice rows, formatted as kube-apiserver's printers do: EXTERNAL-IP from
 * externalIPs and load-balancer ingress (clipped to 16 characters except in wide output; the server prints wide),
 * PORT(S) `port[:nodePort]/protocol`, at most three endpoints followed by "+ N more...".
 */
import type { V1EndpointSlice, V1Endpoints, V1Service } from '@kubernetes/client-node';
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

export function serviceCells(svc: V1Service, age: string): unknown[] {
  const clusterIP = svc.spec?.clusterIPs?.[0] ?? '<none>';
  return [
    svc.metadata?.name ?? '',
    svc.spec?.type ?? '',
    clusterIP,
    externalIP(svc),
    ports(svc),
    age,
    formatLabels(svc.spec?.selector),
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
