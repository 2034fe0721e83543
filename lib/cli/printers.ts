/**
 * kubectl's human-readable output, reproduced so `svcctl get`/`describe` read exactly like `kubectl get`/`describe`
 * (k8s.io/kubernetes pkg/printers/internalversion and k8s.io/cli-runtime's tab writer). Pure functions.
 */
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import type { ServiceEndpoints } from '../model/types.js';

/**
 * kubectl's tabwriter: min cell width 6, padding 3, the last column unpadded (Go text/tabwriter semantics with
 * cells terminated by tabs and the last cell of each line not aligned).
 */
export function tabulate(rows: string[][]): string {
  if (rows.length === 0) return '';
  const cols = Math.max(...rows.map((r) => r.length));
  const widths: number[] = [];
  for (let c = 0; c < cols - 1; c++) {
    widths[c] = Math.max(6, ...rows.map((r) => (r[c] ?? '').length + 3));
  }
  return (
    rows
      .map((r) =>
        r
          .map((cell, c) => (c < r.length - 1 ? cell.padEnd(widths[c] ?? 0) : cell))
          .join('')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

/** k8s.io/apimachinery/pkg/util/duration.HumanDuration. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.floor(hours / 24) % 365;
    return dy === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${dy}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

export function age(ts: Date | string | undefined, now: Date): string {
  if (!ts) return '<unknown>';
  const t = typeof ts === 'string' ? new Date(ts) : ts;
  return humanDuration(now.getTime() - t.getTime());
}

/** labels.FormatLabels: sorted k=v joined by commas, "<none>" when empty. */
export function formatLabels(labels: Record<string, string> | undefined): string {
  const keys = Object.keys(labels ?? {}).sort();
  if (keys.length === 0) return '<none>';
  return keys.map((k) => `${k}=${labels![k]}`).join(',');
}

function lbIngress(svc: V1Service): string[] {
  return (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip || i.hostname || '').filter(Boolean);
}

/** getServiceExternalIP from kubectl's printers. */
export function serviceExternalIp(svc: V1Service): string {
  const ext = svc.spec?.externalIPs ?? [];
  switch (svc.spec?.type ?? 'ClusterIP') {
    case 'ClusterIP':
    case 'NodePort':
      return ext.length ? ext.join(',') : '<none>';
    case 'LoadBalancer': {
      const ips = [...lbIngress(svc), ...ext];
      return ips.length ? ips.join(',') : '<pending>';
    }
    case 'ExternalName':
      return svc.spec?.externalName ?? '<none>';
    default:
      return '<unknown>';
  }
}

/** makePortString: `port[:nodePort]/PROTO` joined by commas. */
export function servicePorts(svc: V1Service): string {
  const ports = svc.spec?.ports ?? [];
  if (ports.length === 0) return '<none>';
  return ports
    .map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? 'TCP'}` : `${p.port}/${p.protocol ?? 'TCP'}`))
    .join(',');
}

export interface PrintOptions {
  wide?: boolean;
  allNamespaces?: boolean;
  now?: Date;
}

export function printServices(services: V1Service[], opts: PrintOptions = {}): string {
  const now = opts.now ?? new Date();
  const header = ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE'];
  if (opts.wide) header.push('SELECTOR');
  if (opts.allNamespaces) header.unshift('NAMESPACE');
  const rows = services.map((s) => {
    const row = [
      s.metadata?.name ?? '',
      s.spec?.type ?? 'ClusterIP',
      s.spec?.clusterIP || '<none>',
      serviceExternalIp(s),
      servicePorts(s),
      age(s.metadata?.creationTimestamp, now),
    ];
    if (opts.wide) row.push(formatLabels(s.spec?.selector));
    if (opts.allNamespaces) row.unshift(s.metadata?.namespace ?? 'default');
    return row;
  });
  return tabulate([header, ...rows]);
}

function podReady(pod: V1Pod): string {
  const statuses = pod.status?.containerStatuses ?? [];
  const total = pod.spec?.containers?.length ?? statuses.length;
  const ready = statuses.length
    ? statuses.filter((c) => c.ready).length
    : (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')
      ? total
      : 0;
  return `${ready}/${total}`;
}

export function podStatus(pod: V1Pod): string {
  if (pod.metadata?.deletionTimestamp) return 'Terminating';
  return pod.status?.reason ?? pod.status?.phase ?? 'Pending';
}

export function printPods(pods: V1Pod[], opts: PrintOptions = {}): string {
  const now = opts.now ?? new Date();
  const header = ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'];
  if (opts.wide) header.push('IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES');
  if (opts.allNamespaces) header.unshift('NAMESPACE');
  const rows = pods.map((p) => {
    const restarts = (p.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);
    const row = [
      p.metadata?.name ?? '',
      podReady(p),
      podStatus(p),
      String(restarts),
      age(p.metadata?.creationTimestamp, now),
    ];
    if (opts.wide) row.push(p.status?.podIP || '<none>', p.spec?.nodeName || '<none>', '<none>', '<none>');
    if (opts.allNamespaces) row.unshift(p.metadata?.namespace ?? 'default');
    return row;
  });
  return tabulate([header, ...rows]);
}

/** kubectl's ENDPOINTS column: ready ip:port pairs, the first three then "+ N more...". */
export function formatEndpoints(eps: ServiceEndpoints): string {
  const pairs: string[] = [];
  for (const e of eps.endpoints) {
    if (!e.ready) continue;
    if (e.ports.length === 0) pairs.push(e.ip);
    for (const p of e.ports) pairs.push(`${e.ip}:${p.port}`);
  }
  if (pairs.length === 0) return '<none>';
  const max = 3;
  return pairs.length > max ? `${pairs.slice(0, max).join(',')} + ${pairs.length - max} more...` : pairs.join(',');
}

export function printEndpoints(
  list: { endpoints: ServiceEndpoints; created?: string }[],
  opts: PrintOptions = {},
): string {
  const now = opts.now ?? new Date();
  const header = ['NAME', 'ENDPOINTS', 'AGE'];
  if (opts.allNamespaces) header.unshift('NAMESPACE');
  const rows = list.map(({ endpoints, created }) => {
    const row = [endpoints.name, formatEndpoints(endpoints), age(created, now)];
    if (opts.allNamespaces) row.unshift(endpoints.namespace);
    return row;
  });
  return tabulate([header, ...rows]);
}

function kv(label: string, value: string): string {
  return `${(label + ':').padEnd(26)}${value}`;
}

function mapLines(label: string, m: Record<string, string> | undefined): string[] {
  const keys = Object.keys(m ?? {}).sort();
  if (keys.length === 0) return [kv(label, '<none>')];
  return keys.map((k, i) => (i === 0 ? kv(label, `${k}=${m![k]}`) : `${''.padEnd(26)}${k}=${m![k]}`));
}

/** `kubectl describe service` layout. */
export function describeService(svc: V1Service, eps: ServiceEndpoints | undefined, events: string[] = []): string {
  const s = svc.spec ?? {};
  const out: string[] = [];
  out.push(kv('Name', svc.metadata?.name ?? ''));
  out.push(kv('Namespace', svc.metadata?.namespace ?? 'default'));
  out.push(...mapLines('Labels', svc.metadata?.labels));
  out.push(...mapLines('Annotations', svc.metadata?.annotations));
  out.push(kv('Selector', formatLabels(s.selector)));
  out.push(kv('Type', s.type ?? 'ClusterIP'));
  if (s.type !== 'ExternalName') {
    out.push(kv('IP Family Policy', s.ipFamilyPolicy ?? 'SingleStack'));
    out.push(kv('IP Families', (s.ipFamilies ?? ['IPv4']).join(',')));
    out.push(kv('IP', s.clusterIP || '<none>'));
    out.push(kv('IPs', (s.clusterIPs ?? (s.clusterIP ? [s.clusterIP] : [])).join(',') || '<none>'));
  }
  if (s.externalIPs?.length) out.push(kv('External IPs', s.externalIPs.join(',')));
  if (s.type === 'ExternalName') out.push(kv('External Name', s.externalName ?? ''));
  const ingress = lbIngress(svc);
  if (s.type === 'LoadBalancer' && ingress.length) out.push(kv('LoadBalancer Ingress', ingress.join(', ')));
  for (const p of s.ports ?? []) {
    const name = p.name || '<unset>';
    out.push(kv('Port', `${name}  ${p.port}/${p.protocol ?? 'TCP'}`));
    const tp = p.targetPort ?? p.port;
    out.push(kv('TargetPort', `${tp}/${p.protocol ?? 'TCP'}`));
    if (p.nodePort) out.push(kv('NodePort', `${name}  ${p.nodePort}/${p.protocol ?? 'TCP'}`));
    if (eps) {
      const addrs: string[] = [];
      for (const e of eps.endpoints) {
        if (!e.ready) continue;
        const ep = e.ports.find((x) => x.name === (p.name ?? ''));
        if (ep) addrs.push(`${e.ip}:${ep.port}`);
      }
      out.push(kv('Endpoints', addrs.join(',')));
    } else if (s.type !== 'ExternalName') {
      out.push(kv('Endpoints', ''));
    }
  }
  out.push(kv('Session Affinity', s.sessionAffinity ?? 'None'));
  if (s.sessionAffinity === 'ClientIP')
    out.push(kv('Session Affinity Timeout', `${s.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800}s`));
  if (s.type === 'NodePort' || s.type === 'LoadBalancer')
    out.push(kv('External Traffic Policy', s.externalTrafficPolicy ?? 'Cluster'));
  if (s.healthCheckNodePort) out.push(kv('HealthCheck NodePort', String(s.healthCheckNodePort)));
  if (s.type !== 'ExternalName') out.push(kv('Internal Traffic Policy', s.internalTrafficPolicy ?? 'Cluster'));
  if (s.loadBalancerSourceRanges?.length)
    out.push(kv('LoadBalancer Source Ranges', s.loadBalancerSourceRanges.join(',')));
  if (events.length === 0) out.push(kv('Events', '<none>'));
  else {
    out.push('Events:');
    for (const e of events) out.push(`  ${e}`);
  }
  return out.join('\n') + '\n';
}
