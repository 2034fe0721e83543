/**
 * `svcctl describe service [NAME] [-n NS]`: kubectl 1.32's describeService (k8s.io/kubectl/pkg/describe), from what
 * kubectl reads: the Service, its EndpointSlices (label kubernetes.io/service-name) and its Events (field selector
 * on the involved object), laid out with the describe tab writer (minwidth 0, padding 2); the events table is
 * flushed separately, as DescribeEvents does.
 */
import type { CoreV1Event, V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { humanDuration } from '../../../lib/apiserver/table/duration.js';
import type { KubeClient } from '../kube/client.js';
import { collectionPath, objectPath, resourceFor } from '../kube/resources.js';
import { DESCRIBE_TABS, tabwrite } from '../tabwriter.js';
import { UsageError } from '../io.js';
import { formatLabels } from './table.js';
import { LAST_APPLIED } from './apply-patch.js';

const MAX_ANNOTATION_LEN = 140;
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

function labelLines(title: string, labels: Record<string, string> | undefined): string[] {
  const keys = Object.keys(labels ?? {}).sort();
  if (keys.length === 0) return [`${title}:\t<none>`];
  return keys.map((k, i) => `${i === 0 ? `${title}:` : ''}\t${k}=${labels![k]}`);
}

const shorten = (s: string, max: number) => (s.length > max ? `${s.slice(0, max)}...` : s);

/** printAnnotationsMultiline: the last-applied configuration is skipped; long or multi-line values get their own lines. */
function annotationLines(annotations: Record<string, string> | undefined): string[] {
  const keys = Object.keys(annotations ?? {})
    .filter((k) => k !== LAST_APPLIED)
    .sort();
  if (keys.length === 0) return ['Annotations:\t<none>'];
  const out: string[] = [];
  keys.forEach((k, i) => {
    const lead = i === 0 ? 'Annotations:\t' : '\t';
    const value = annotations![k]!.replace(/\n$/, '');
    if (value.length + k.length + 2 > MAX_ANNOTATION_LEN || value.includes('\n')) {
      out.push(`${lead}${k}:`);
      for (const s of value.split('\n')) out.push(`\t  ${shorten(s, MAX_ANNOTATION_LEN - 2)}`);
    } else out.push(`${lead}${k}: ${value}`);
  });
  return out;
}

/** formatEndpointSlices with the port's name: ready addresses as host:port, the first three then "+ N more...". */
export function sliceEndpoints(slices: V1EndpointSlice[], portName: string): string {
  if (slices.length === 0) return '<none>';
  const list: string[] = [];
  let count = 0;
  for (const s of slices) {
    const ports = s.ports ?? [];
    const pairs =
      ports.length === 0 ? [undefined] : ports.filter((p) => (p.name ?? '') === portName).map((p) => p.port);
    for (const port of pairs)
      for (const e of s.endpoints ?? []) {
        if (e.conditions?.ready === false) continue;
        const addr = e.addresses[0] ?? '';
        if (list.length < 3)
          list.push(port === undefined ? addr : `${addr.includes(':') ? `[${addr}]` : addr}:${port}`);
        count++;
      }
  }
  return count > 3 ? `${list.join(',')} + ${count - 3} more...` : list.join(',');
}

const since = (t: unknown): string => (t ? humanDuration(Date.now() - new Date(String(t)).getTime()) : '<unknown>');

/** DescribeEvents: with events, the tab writer is flushed first and the events get a table of their own. */
export function eventLines(events: CoreV1Event[]): string {
  const sorted = [...events].sort(
    (a, b) => new Date(String(a.lastTimestamp ?? 0)).getTime() - new Date(String(b.lastTimestamp ?? 0)).getTime(),
  );
  const rows = sorted.map((e) => {
    const first = e.eventTime ? since(e.eventTime) : since(e.firstTimestamp);
    let interval = first;
    if (e.series) interval = `${since(e.series.lastObservedTime)} (x${e.series.count} over ${first})`;
    else if ((e.count ?? 0) > 1) interval = `${since(e.lastTimestamp)} (x${e.count} over ${first})`;
    const from = e.source?.component || e.reportingComponent || '';
    return `  ${e.type ?? ''}\t${e.reason ?? ''}\t${interval}\t${from}\t${(e.message ?? '').trim()}`;
  });
  return (
    'Events:\n' +
    tabwrite(
      ['  Type\tReason\tAge\tFrom\tMessage', '  ----\t------\t----\t----\t-------', ...rows].join('\n') + '\n',
      DESCRIBE_TABS,
    )
  );
}

function portLines(svc: V1Service, slices: V1EndpointSlice[]): string[] {
  const out: string[] = [];
  for (const p of svc.spec?.ports ?? []) {
    const name = p.name || '<unset>';
    out.push(`Port:\t${name}\t${p.port}/${p.protocol ?? ''}`);
    out.push(`TargetPort:\t${p.targetPort ?? ''}/${p.protocol ?? ''}`);
    if (p.nodePort) out.push(`NodePort:\t${name}\t${p.nodePort}/${p.protocol ?? ''}`);
    out.push(`Endpoints:\t${sliceEndpoints(slices, p.name ?? '')}`);
  }
  return out;
}

export function describeServiceText(svc: V1Service, slices: V1EndpointSlice[], events: CoreV1Event[]): string {
  const s = svc.spec ?? {};
  const ingress = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip || i.hostname).filter(Boolean);
  const lines = [
    `Name:\t${svc.metadata?.name ?? ''}`,
    `Namespace:\t${svc.metadata?.namespace ?? ''}`,
    ...labelLines('Labels', svc.metadata?.labels),
    ...annotationLines(svc.metadata?.annotations),
    `Selector:\t${formatLabels(s.selector)}`,
    `Type:\t${s.type ?? ''}`,
    ...(s.ipFamilyPolicy ? [`IP Family Policy:\t${s.ipFamilyPolicy}`] : []),
    `IP Families:\t${s.ipFamilies?.length ? s.ipFamilies.join(',') : '<none>'}`,
    `IP:\t${s.clusterIP ?? ''}`,
    `IPs:\t${s.clusterIPs?.length ? s.clusterIPs.join(',') : '<none>'}`,
    ...(s.externalIPs?.length ? [`External IPs:\t${s.externalIPs.join(',')}`] : []),
    ...(s.loadBalancerIP ? [`Desired LoadBalancer IP:\t${s.loadBalancerIP}`] : []),
    ...(s.type === 'ExternalName' ? [`External Name:\t${s.externalName ?? ''}`] : []),
    ...(ingress.length ? [`LoadBalancer Ingress:\t${ingress.join(', ')}`] : []),
    ...portLines(svc, slices),
    `Session Affinity:\t${s.sessionAffinity ?? ''}`,
    ...(s.sessionAffinityConfig?.clientIP?.timeoutSeconds !== undefined
      ? [`Session Affinity Timeout Seconds:\t${s.sessionAffinityConfig.clientIP.timeoutSeconds}`]
      : []),
    ...(s.externalTrafficPolicy ? [`External Traffic Policy:\t${s.externalTrafficPolicy}`] : []),
    ...(s.healthCheckNodePort ? [`HealthCheck NodePort:\t${s.healthCheckNodePort}`] : []),
    ...(s.internalTrafficPolicy ? [`Internal Traffic Policy:\t${s.internalTrafficPolicy}`] : []),
    ...(s.loadBalancerSourceRanges?.length
      ? [`LoadBalancer Source Ranges:\t${s.loadBalancerSourceRanges.join(',')}`]
      : []),
  ];
  if (events.length === 0) return tabwrite([...lines, 'Events:\t<none>'].join('\n') + '\n', DESCRIBE_TABS);
  return tabwrite(lines.join('\n') + '\n', DESCRIBE_TABS) + eventLines(events);
}

async function describeOne(client: KubeClient, svc: V1Service): Promise<string> {
  const ns = svc.metadata?.namespace ?? 'default';
  const name = svc.metadata?.name ?? '';
  const slices = await client.call<{ items?: V1EndpointSlice[] }>(
    'GET',
    collectionPath(resourceFor('endpointslices'), ns),
    {
      query: { labelSelector: `${SERVICE_NAME_LABEL}=${name}` },
    },
  );
  const events = await client.call<{ items?: CoreV1Event[] }>('GET', collectionPath(resourceFor('events'), ns), {
    query: {
      fieldSelector: `involvedObject.name=${name},involvedObject.namespace=${ns},involvedObject.kind=Service,involvedObject.uid=${svc.metadata?.uid ?? ''}`,
    },
  });
  return describeServiceText(svc, slices.items ?? [], events.items ?? []);
}

export async function describe(client: KubeClient, args: string[], namespace: string): Promise<string> {
  const [type, ...names] = args;
  const r = resourceFor(type ?? '');
  if (r.kind !== 'Service') throw new UsageError(`svcctl describes services; for ${r.resource} use kubectl describe`);
  const services = names.length
    ? await Promise.all(names.map((n) => client.call<V1Service>('GET', objectPath(r, namespace, n))))
    : ((await client.call<{ items?: V1Service[] }>('GET', collectionPath(r, namespace))).items ?? []);
  const texts: string[] = [];
  for (const svc of services) texts.push(await describeOne(client, svc));
  return texts.join('\n\n');
}
