/**
 * The rule on the nodes' security group that opens the NodePorts to the NLB's security group. Observed rules are
 * recognised by their description (ownership.ts nodeRuleDescription); any that is not exactly wanted is revoked.
 * Pure.
 */
import type { Action, DesiredStack, NodePermission, ObservedNodePermission, ObservedStack, Ref } from '../model.js';
import type { PlanBuckets } from './buckets.js';

export const permKey = (p: NodePermission) =>
  `${p.protocol}:${p.fromPort}-${p.toPort}${p.cidr ? ` from ${p.cidr}` : ''}`;

/** One revoke action for the given permissions (all on one group), or none. */
export function revokeNodeRules(permissions: ObservedNodePermission[]): Action[] {
  if (!permissions.length) return [];
  const groupId = permissions[0]!.groupId;
  return [{ op: 'delete', kind: 'NodeRule', name: groupId, groupId, permissions }];
}

export function planNodeRule(
  desired: DesiredStack,
  observed: ObservedStack,
  resolveSg: (s: string) => Ref,
  b: PlanBuckets,
): void {
  const nr = desired.nodeRule;
  // Without a source group (an NLB without security groups) every permission names its CIDR.
  const srcRef = nr?.sourceGroup === undefined ? undefined : resolveSg(nr.sourceGroup);
  const wanted = new Set(nr?.permissions.map(permKey));
  // Kept: on the node group, from the wanted source (a known SG, or a CIDR when there is none), wanted exactly.
  const kept = (p: ObservedNodePermission): boolean =>
    !!nr &&
    p.groupId === nr.groupId &&
    (srcRef === undefined ? !!p.cidr : typeof srcRef === 'string' && !p.cidr && p.sourceGroupId === srcRef) &&
    wanted.has(permKey(p));
  const have = new Set(observed.nodePermissions.filter(kept).map(permKey));
  const authorize = nr?.permissions.filter((p) => !have.has(permKey(p))) ?? [];
  if (nr && authorize.length) {
    const a: Action = {
      op: 'update',
      kind: 'NodeRule',
      name: nr.groupId,
      groupId: nr.groupId,
      ...(srcRef === undefined ? {} : { sourceGroup: srcRef }),
      authorize,
      description: nr.description,
    };
    // Authorizing from an SG this plan creates must wait for it: a create, not an update. CIDR permissions wait for
    // nothing: with the creates, so the nodes admit the traffic before a new listener sends it.
    (typeof srcRef === 'string' ? b.updates : b.creates).push(a);
  }
  b.deletes.rules.push(...revokeNodeRules(observed.nodePermissions.filter((p) => !kept(p))));
}
