/**
 * The rule on the nodes' security group that opens the NodePorts to the NLB's security group. Observed rules are
 * recognised by their description (ownership.ts nodeRuleDescription); any that is not exactly wanted is revoked.
 * Pure.
 */
import type { Action, DesiredStack, NodePermission, ObservedNodePermission, ObservedStack, Ref } from '../model.js';
import type { PlanBuckets } from './buckets.js';

export const permKey = (p: NodePermission) => `${p.protocol}:${p.fromPort}-${p.toPort}`;

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
  const srcRef = nr ? resolveSg(nr.sourceGroup) : undefined;
  const stale = observed.nodePermissions.filter((p) => {
    if (!nr || !srcRef) return true;
    if (p.groupId !== nr.groupId) return true;
    if (typeof srcRef === 'string' && p.sourceGroupId !== srcRef) return true;
    if (typeof srcRef !== 'string') return true; // a new SG: every old rule referenced some other group
    return !nr.permissions.some((w) => permKey(w) === permKey(p));
  });
  if (nr && srcRef) {
    const have = new Set(
      observed.nodePermissions
        .filter((p) => typeof srcRef === 'string' && p.groupId === nr.groupId && p.sourceGroupId === srcRef)
        .map(permKey),
    );
    const authorize = nr.permissions.filter((p) => !have.has(permKey(p)));
    if (authorize.length) {
      const a: Action = {
        op: 'update',
        kind: 'NodeRule',
        name: nr.groupId,
        groupId: nr.groupId,
        sourceGroup: srcRef,
        authorize,
        description: nr.description,
      };
      // Authorizing from an SG this plan creates must wait for it: a create, not an update.
      (typeof srcRef === 'string' ? b.updates : b.creates).push(a);
    }
  }
  b.deletes.rules.push(...revokeNodeRules(stale));
}
