/**
 * Listeners of the kept NLB against the desired ones, by port. ELBv2 refuses a second listener on a port, but a
 * retried create whose first response was lost can leave two (and some ELBv2 implementations accept them): per port
 * the one already forwarding to the desired target group with the desired protocol is kept (else the first by ARN),
 * the others are deleted, as are listeners on ports no longer wanted. Pure.
 */
import type {
  DesiredListener,
  DesiredStack,
  ObservedListener,
  ObservedLoadBalancer,
  Ref,
  WeightedRef,
} from '../model.js';
import type { PlanBuckets } from './buckets.js';
import { attrDiff } from './diff.js';

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
    const weighted = d.weighted?.map((w) => ({ targetGroup: tgRefs.get(w.targetGroupKey)!, weight: w.weight }));
    const extra = weighted ? { weighted } : {};
    const onPort = byPort.get(d.port) ?? [];
    byPort.delete(d.port);
    const o = onPort.find((l) => l.targetGroupArn === tgRef && l.protocol === d.protocol) ?? onPort[0];
    for (const dup of onPort) {
      if (dup !== o)
        b.deletes.listeners.push({ op: 'delete', kind: 'Listener', name: `${lbName}:${dup.port}`, arn: dup.arn });
    }
    const name = `${lbName}:${d.port}`;
    if (!o) {
      b.creates.push({
        op: 'create',
        kind: 'Listener',
        name,
        loadBalancer: lbRef,
        desired: d,
        targetGroup: tgRef,
        ...extra,
      });
      if (d.attributes && Object.keys(d.attributes).length)
        b.creates.push({
          op: 'update',
          kind: 'ListenerAttributes',
          name,
          arn: { ref: 'listener', key: d.key },
          attributes: d.attributes,
        });
      continue;
    }
    const changes = listenerChanges(o, d, tgRef, weighted);
    if (changes.length)
      b.updates.push({
        op: 'update',
        kind: 'Listener',
        name,
        arn: o.arn,
        desired: d,
        targetGroup: tgRef,
        ...extra,
        changes,
      });
    // Only the annotated keys are compared (and set): AWS's defaults and keys no longer listed are left alone.
    const attributes = attrDiff(o.attributes ?? {}, d.attributes ?? {});
    if (Object.keys(attributes).length)
      b.updates.push({ op: 'update', kind: 'ListenerAttributes', name, arn: o.arn, attributes });
  }
  for (const l of [...byPort.values()].flat())
    b.deletes.listeners.push({ op: 'delete', kind: 'Listener', name: `${lbName}:${l.port}`, arn: l.arn });
}

function listenerChanges(o: ObservedListener, d: DesiredListener, tgRef: Ref, weighted?: WeightedRef[]): string[] {
  const changes: string[] = [];
  if (o.protocol !== d.protocol) changes.push(`protocol: ${o.protocol} -> ${d.protocol}`);
  if (weighted) {
    if (!sameWeights(o, weighted))
      changes.push(`weights -> ${d.weighted!.map((w) => `${w.targetGroupKey}=${w.weight}`).join(',')}`);
  } else if (typeof tgRef !== 'string' || o.targetGroupArn !== tgRef || (o.weighted?.length ?? 0) > 1)
    changes.push(`targetGroup -> ${d.targetGroupKey}`);
  if ((o.certificateArns[0] ?? '') !== (d.certificateArns?.[0] ?? '')) changes.push('certificates');
  else if (!sameCertificates(o.certificateArns, d.certificateArns ?? [])) changes.push(EXTRA_CERTIFICATES);
  // SSL and ALPN policies exist on TLS listeners only.
  if ((o.sslPolicy ?? '') !== (d.sslPolicy ?? '') && d.protocol === 'TLS') changes.push(`sslPolicy -> ${d.sslPolicy}`);
  if ((o.alpnPolicy ?? '') !== (d.alpnPolicy ?? '') && d.protocol === 'TLS')
    changes.push(`alpnPolicy -> ${d.alpnPolicy ?? 'None'}`);
  return changes;
}

/** The observed forward goes to exactly these (existing) target groups with these weights, in any order. */
function sameWeights(o: ObservedListener, wanted: WeightedRef[]): boolean {
  const have = o.weighted ?? (o.targetGroupArn ? [{ targetGroupArn: o.targetGroupArn, weight: 1 }] : []);
  if (have.length !== wanted.length) return false;
  return wanted.every(
    (w) =>
      typeof w.targetGroup === 'string' &&
      have.some((h) => h.targetGroupArn === w.targetGroup && h.weight === w.weight),
  );
}

/** Same default certificate (the first) and the same set of extra (SNI) certificates. */
export function sameCertificates(observed: readonly string[], desired: readonly string[]): boolean {
  if ((observed[0] ?? '') !== (desired[0] ?? '')) return false;
  const a = [...new Set(observed.slice(1))].filter((x) => x !== observed[0]).sort();
  const b = [...new Set(desired.slice(1))].filter((x) => x !== desired[0]).sort();
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
