/**
 * The NLB: among owned NLBs compatible with the desired one (same name and scheme, not failed), the one the
 * Service's status points at is kept (else the oldest); every other one releases its listeners and is deleted first
 * (see buckets.ts). Pure.
 */
import type { Action, DesiredStack, ObservedLoadBalancer, Ref } from '../model.js';
import type { PlanBuckets } from './buckets.js';
import { attrDiff, byAge, tagsUpdate } from './diff.js';

type DesiredLb = DesiredStack['loadBalancer'];

/** ELBv2 adds no security group to an NLB created without one, and removes no NLB's last one. */
const sameSecurityGroupMode = (o: ObservedLoadBalancer, d: DesiredLb): boolean =>
  (o.securityGroups.length === 0) === (d.securityGroups.length === 0);

function lbCompatible(o: ObservedLoadBalancer, d: DesiredLb): boolean {
  return (
    o.name === d.name &&
    o.scheme === d.scheme &&
    sameSecurityGroupMode(o, d) &&
    o.type === 'network' &&
    o.state !== 'failed'
  );
}

/** Why an NLB that is not kept goes. */
function releaseReason(o: ObservedLoadBalancer, d: DesiredLb): string {
  if (o.name === d.name && o.scheme === d.scheme && sameSecurityGroupMode(o, d)) return 'duplicate';
  if (!sameSecurityGroupMode(o, d))
    return `replaced by ${d.name}: security groups ${d.securityGroups.length ? 'cannot be added to' : 'cannot all be removed from'} an existing NLB`;
  return `replaced by ${d.name} (${d.scheme})`;
}

/** The listeners of an NLB that goes: deleted first (ELBv2 deletes them with it, but they must free TGs now). */
export const deleteListenersOf = (lb: ObservedLoadBalancer): Action[] =>
  lb.listeners.map((l) => ({ op: 'delete', kind: 'Listener', name: `${lb.name}:${l.port}`, arn: l.arn }));

export const deleteLoadBalancer = (lb: ObservedLoadBalancer, reason: string): Action => ({
  op: 'delete',
  kind: 'LoadBalancer',
  name: lb.name,
  arn: lb.arn,
  reason,
});

/** Plans the NLB; returns the kept one (if any) and how the plan refers to the NLB. */
export function planLoadBalancer(
  desired: DesiredStack,
  observed: ObservedLoadBalancer[],
  resolveSg: (s: string) => Ref,
  b: PlanBuckets,
): { keep?: ObservedLoadBalancer; ref: Ref } {
  const dlb = desired.loadBalancer;
  const lbs = [...observed].sort(byAge);
  const compatible = lbs.filter((o) => lbCompatible(o, dlb));
  const keep = compatible.find((o) => o.dnsName === desired.inUseHostname) ?? compatible[0];
  for (const o of lbs) {
    if (o === keep) continue;
    b.release.push(...deleteListenersOf(o));
    b.release.push(deleteLoadBalancer(o, releaseReason(o, dlb)));
  }
  if (!keep) {
    const ref: Ref = { ref: 'lb' };
    const securityGroups = dlb.securityGroups.map(resolveSg);
    b.creates.push({ op: 'create', kind: 'LoadBalancer', name: dlb.name, desired: dlb, securityGroups });
    b.creates.push({
      op: 'update',
      kind: 'LoadBalancerAttributes',
      name: dlb.name,
      arn: ref,
      attributes: dlb.attributes,
    });
    if (dlb.minimumCapacityUnits) b.creates.push(capacityAction(dlb.name, ref, dlb.minimumCapacityUnits));
    return { ref };
  }
  b.hostname = keep.dnsName;
  const attrs = attrDiff(keep.attributes, dlb.attributes);
  if (Object.keys(attrs).length)
    b.updates.push({ op: 'update', kind: 'LoadBalancerAttributes', name: dlb.name, arn: keep.arn, attributes: attrs });
  const subnets = (ms: { subnetId: string }[]) =>
    ms
      .map((m) => m.subnetId)
      .sort()
      .join(',');
  // EIPs / private IPs of an existing mapping cannot change; only the subnet set can (SetSubnets).
  if (subnets(keep.subnetMappings) !== subnets(dlb.subnetMappings))
    b.updates.push({
      op: 'update',
      kind: 'LoadBalancerSubnets',
      name: dlb.name,
      arn: keep.arn,
      subnetMappings: dlb.subnetMappings,
    });
  // A reservation is set, changed, or reset when the annotation is gone (or says CapacityUnits=0).
  if ((keep.minimumCapacityUnits ?? 0) !== (dlb.minimumCapacityUnits ?? 0))
    b.updates.push(capacityAction(dlb.name, keep.arn, dlb.minimumCapacityUnits));
  planSecurityGroups(keep, dlb, resolveSg, b);
  b.updates.push(...tagsUpdate(dlb.name, 'elbv2', keep.arn, keep.tags, dlb.tags));
  return { keep, ref: keep.arn };
}

const capacityAction = (name: string, arn: Ref, capacityUnits: number | undefined): Action => ({
  op: 'update',
  kind: 'LoadBalancerCapacity',
  name,
  arn,
  ...(capacityUnits ? { capacityUnits } : {}),
});

/** The kept NLB's security groups: SetSecurityGroups when they differ (or the managed SG is being created). */
function planSecurityGroups(
  keep: ObservedLoadBalancer,
  dlb: DesiredLb,
  resolveSg: (s: string) => Ref,
  b: PlanBuckets,
): void {
  const wantSgs = dlb.securityGroups.map(resolveSg);
  const sgsKnown = wantSgs.every((s) => typeof s === 'string');
  if (sgsKnown && [...keep.securityGroups].sort().join(',') === [...(wantSgs as string[])].sort().join(',')) return;
  // An NLB with no security group has none wanted either (lbCompatible): nothing to set.
  if (keep.securityGroups.length === 0) return;
  b.updates.push({
    op: 'update',
    kind: 'LoadBalancerSecurityGroups',
    name: dlb.name,
    arn: keep.arn,
    securityGroups: wantSgs,
  });
}
