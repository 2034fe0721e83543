/**
 * Listeners of the kept NLB against the desired ones, by port. ELBv2 refuses a second listener on a port, but a
 * retried create whose first response was lost can leave two (and some ELBv2 implementations accept them): per port
 * the one already forwarding to the desired target group with the desired protocol is kept (else the first by ARN),
 * the others are deleted, as are listeners on ports no longer wanted. Pure.
 */
import type { DesiredListener, DesiredStack, ObservedListener, ObservedLoadBalancer, Ref } from '../model.js';
import type { PlanBuckets } from './buckets.js';

/** Listener change that needs no ModifyListener: only the extra (SNI) certificates differ. */
export const EXTRA_CERTIFICATES = 'extra certificates';

export function planListeners(
  desired: DesiredStack,
  keepLb: ObservedLoadBalancer | undefined,
  lbRef: Ref,
  tgRefs: Map<string, Ref>,
  b: PlanBuckets,
): void {
  const lbName = desired.loadBalancer.name;
  const byPort = new Map<number, ObservedListener[]>();
  for (const l of [...(keepLb?.listeners ?? [])].sort((x, y) => x.arn.localeCompare(y.arn))) {
    byPort.set(l.port, [...(byPort.get(l.port) ?? []), l]);
  }
  for (const d of desired.listeners) {
    const tgRef = tgRefs.get(d.targetGroupKey)!;
    const onPort = byPort.get(d.port) ?? [];
    byPort.delete(d.port);
    const o = onPort.find((l) => l.targetGroupArn === tgRef && l.protocol === d.protocol) ?? onPort[0];
    for (const dup of onPort) {
      if (dup !== o)
        b.deletes.listeners.push({ op: 'delete', kind: 'Listener', name: `${lbName}:${dup.port}`, arn: dup.arn });
    }
    const name = `${lbName}:${d.port}`;
    if (!o) {
      b.creates.push({ op: 'create', kind: 'Listener', name, loadBalancer: lbRef, desired: d, targetGroup: tgRef });
      continue;
    }
    const changes = listenerChanges(o, d, tgRef);
    if (changes.length)
      b.updates.push({ op: 'update', kind: 'Listener', name, arn: o.arn, desired: d, targetGroup: tgRef, changes });
  }
  for (const l of [...byPort.values()].flat())
    b.deletes.listeners.push({ op: 'delete', kind: 'Listener', name: `${lbName}:${l.port}`, arn: l.arn });
}

function listenerChanges(o: ObservedListener, d: DesiredListener, tgRef: Ref): string[] {
  const changes: string[] = [];
  if (o.protocol !== d.protocol) changes.push(`protocol: ${o.protocol} -> ${d.protocol}`);
  if (typeof tgRef !== 'string' || o.targetGroupArn !== tgRef) changes.push(`targetGroup -> ${d.targetGroupKey}`);
  if ((o.certificateArns[0] ?? '') !== (d.certificateArns?.[0] ?? '')) changes.push('certificates');
  else if (!sameCertificates(o.certificateArns, d.certificateArns ?? [])) changes.push(EXTRA_CERTIFICATES);
  // SSL and ALPN policies exist on TLS listeners only.
  if ((o.sslPolicy ?? '') !== (d.sslPolicy ?? '') && d.protocol === 'TLS') changes.push(`sslPolicy -> ${d.sslPolicy}`);
  if ((o.alpnPolicy ?? '') !== (d.alpnPolicy ?? '') && d.protocol === 'TLS')
    changes.push(`alpnPolicy -> ${d.alpnPolicy ?? 'None'}`);
  return changes;
}

/** Same default certificate (the first) and the same set of extra (SNI) certificates. */
export function sameCertificates(observed: readonly string[], desired: readonly string[]): boolean {
  if ((observed[0] ?? '') !== (desired[0] ?? '')) return false;
  const a = [...new Set(observed.slice(1))].filter((x) => x !== observed[0]).sort();
  const b = [...new Set(desired.slice(1))].filter((x) => x !== desired[0]).sort();
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
