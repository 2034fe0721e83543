/**
 * Target groups, one per port key, matched by their role tag (ownership.ts) and what AWS cannot change in place
 * (protocol, port, VPC, target type): among duplicates the one attached to the kept NLB stays (its listener already
 * forwards there), then the one with the expected name. Pure.
 */
import type {
  Action,
  DesiredStack,
  DesiredTargetGroup,
  ObservedLoadBalancer,
  ObservedTargetGroup,
  ObservedStack,
  Ref,
} from '../model.js';
import { isTargetGroupOf } from '../ownership.js';
import type { PlanBuckets } from './buckets.js';
import { attrDiff, tagsUpdate } from './diff.js';
import { registerAll, targetChanges } from './targets.js';

function tgCompatible(o: ObservedTargetGroup, d: DesiredTargetGroup): boolean {
  return o.protocol === d.protocol && o.port === d.port && o.vpcId === d.vpcId && o.targetType === d.targetType;
}

export const deleteTargetGroup = (tg: ObservedTargetGroup): Action => ({
  op: 'delete',
  kind: 'TargetGroup',
  name: tg.name,
  arn: tg.arn,
});

/** Plans every target group; returns how the plan refers to each, by port key (for the listeners). */
export function planTargetGroups(
  desired: DesiredStack,
  observed: ObservedStack,
  keepLb: ObservedLoadBalancer | undefined,
  b: PlanBuckets,
): Map<string, Ref> {
  const refs = new Map<string, Ref>();
  const kept = new Set<ObservedTargetGroup>();
  // In use first (attached to the NLB we keep), then the expected name, then by ARN.
  const inUse = (o: ObservedTargetGroup) => Number(!!keepLb && o.loadBalancerArns.includes(keepLb.arn));
  for (const d of desired.targetGroups) {
    const keep = observed.targetGroups
      .filter((o) => isTargetGroupOf(o.tags, d.key) && tgCompatible(o, d))
      .sort(
        (x, y) =>
          inUse(y) - inUse(x) || Number(y.name === d.name) - Number(x.name === d.name) || x.arn.localeCompare(y.arn),
      )[0];
    if (!keep) {
      const ref: Ref = { ref: 'tg', key: d.key };
      refs.set(d.key, ref);
      b.creates.push({ op: 'create', kind: 'TargetGroup', name: d.name, desired: d });
      b.creates.push({ op: 'update', kind: 'TargetGroupAttributes', name: d.name, arn: ref, attributes: d.attributes });
      b.creates.push(...registerAll(d, ref));
      continue;
    }
    kept.add(keep);
    refs.set(d.key, keep.arn);
    b.updates.push(...updateTargetGroup(keep, d));
  }
  b.deletes.tgs.push(...observed.targetGroups.filter((o) => !kept.has(o)).map(deleteTargetGroup));
  return refs;
}

/** A kept target group: health check, attributes, targets, tags, in that order. */
function updateTargetGroup(keep: ObservedTargetGroup, d: DesiredTargetGroup): Action[] {
  const out: Action[] = [];
  const changes = healthCheckChanges(keep, d);
  if (changes.length)
    out.push({
      op: 'update',
      kind: 'TargetGroupHealthCheck',
      name: keep.name,
      arn: keep.arn,
      healthCheck: d.healthCheck,
      changes,
    });
  const attrs = attrDiff(keep.attributes, d.attributes);
  if (Object.keys(attrs).length)
    out.push({ op: 'update', kind: 'TargetGroupAttributes', name: keep.name, arn: keep.arn, attributes: attrs });
  out.push(...targetChanges(keep, d));
  out.push(...tagsUpdate(keep.name, 'elbv2', keep.arn, keep.tags, d.tags));
  return out;
}

function healthCheckChanges(keep: ObservedTargetGroup, d: DesiredTargetGroup): string[] {
  const changes: string[] = [];
  const h = keep.healthCheck;
  const w = d.healthCheck;
  const keys = ['protocol', 'port', 'intervalSeconds', 'timeoutSeconds', 'healthyThreshold', 'unhealthyThreshold'];
  for (const k of keys as (keyof typeof h & keyof typeof w)[]) {
    if (h[k] !== w[k]) changes.push(`healthCheck.${k}: ${h[k]} -> ${w[k]}`);
  }
  // Path and matcher mean nothing to a TCP health check (ELBv2 returns none for it).
  if (w.protocol !== 'TCP') {
    if ((h.path ?? '') !== (w.path ?? '')) changes.push(`healthCheck.path: ${h.path ?? ''} -> ${w.path ?? ''}`);
    if ((h.matcher ?? '') !== (w.matcher ?? ''))
      changes.push(`healthCheck.matcher: ${h.matcher ?? ''} -> ${w.matcher ?? ''}`);
  }
  return changes;
}
