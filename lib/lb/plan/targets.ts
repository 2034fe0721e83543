/** Target (de)registration of one target group, in batches. Pure. */
import type { Action, DesiredTargetGroup, ObservedTargetGroup, Ref } from '../model.js';
import { chunks } from './diff.js';

/** ELBv2 accepts many targets per call, but big batches fail as a whole and hit the API harder: 200 per call. */
export const TARGET_BATCH = 200;

/** Every desired target of a target group this plan creates. */
export function registerAll(d: DesiredTargetGroup, arn: Ref): Action[] {
  return chunks(d.targets, TARGET_BATCH).map((instanceIds) => ({
    op: 'update',
    kind: 'RegisterTargets',
    name: d.name,
    arn,
    port: d.port,
    instanceIds,
  }));
}

/** Registrations of the missing targets, then deregistrations of the extra ones, on a kept target group. */
export function targetChanges(keep: ObservedTargetGroup, d: DesiredTargetGroup): Action[] {
  const have = new Set(keep.targets);
  const want = new Set(d.targets);
  const add = d.targets.filter((t) => !have.has(t));
  const remove = keep.targets.filter((t) => !want.has(t));
  const batch = (kind: 'RegisterTargets' | 'DeregisterTargets', ids: string[], port: number): Action[] =>
    chunks(ids, TARGET_BATCH).map((instanceIds) => ({
      op: 'update',
      kind,
      name: keep.name,
      arn: keep.arn,
      port,
      instanceIds,
    }));
  return [...batch('RegisterTargets', add, d.port), ...batch('DeregisterTargets', remove, keep.port)];
}
