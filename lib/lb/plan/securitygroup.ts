/**
 * The managed security group: one per stack, matched by its role tag (ownership.ts); the one with the expected name
 * is kept among duplicates, the others deleted. Pure.
 */
import { MANAGED } from '../build/loadbalancer.js';
import { sortRules } from '../build/securitygroup.js';
import type { Action, DesiredStack, IngressRule, ObservedSecurityGroup, ObservedStack, Ref } from '../model.js';
import { isManagedSecurityGroup } from '../ownership.js';
import type { PlanBuckets } from './buckets.js';
import { tagsUpdate } from './diff.js';

const ruleKey = (r: IngressRule) => `${r.protocol}:${r.fromPort}-${r.toPort}:${r.cidr}`;

export const deleteSecurityGroup = (g: ObservedSecurityGroup): Action => ({
  op: 'delete',
  kind: 'SecurityGroup',
  name: g.groupName,
  groupId: g.groupId,
});

/** Plans the managed SG; returns how the stack refers to it (its id, or the SG this plan creates), if any. */
export function planSecurityGroup(
  desired: DesiredStack,
  observed: ObservedStack,
  vpcId: string,
  b: PlanBuckets,
): Ref | undefined {
  const dsg = desired.securityGroup;
  if (!dsg) {
    b.deletes.sgs.push(...observed.securityGroups.map(deleteSecurityGroup));
    return undefined;
  }
  const keep = observed.securityGroups
    .filter((g) => isManagedSecurityGroup(g.tags))
    .sort(
      (x, y) =>
        Number(y.groupName === dsg.name) - Number(x.groupName === dsg.name) || x.groupId.localeCompare(y.groupId),
    )[0];
  b.deletes.sgs.push(...observed.securityGroups.filter((g) => g !== keep).map(deleteSecurityGroup));
  if (!keep) {
    const sgRef: Ref = { ref: 'sg' };
    b.creates.push({ op: 'create', kind: 'SecurityGroup', name: dsg.name, desired: dsg, vpcId });
    b.creates.push({
      op: 'update',
      kind: 'SecurityGroupIngress',
      name: dsg.name,
      groupId: sgRef,
      authorize: dsg.ingress,
      revoke: [],
    });
    return sgRef;
  }
  const have = new Set(keep.ingress.map(ruleKey));
  const want = new Set(dsg.ingress.map(ruleKey));
  const authorize = dsg.ingress.filter((r) => !have.has(ruleKey(r)));
  const revoke = sortRules(keep.ingress.filter((r) => !want.has(ruleKey(r))));
  if (authorize.length || revoke.length) {
    b.updates.push({
      op: 'update',
      kind: 'SecurityGroupIngress',
      name: keep.groupName,
      groupId: keep.groupId,
      authorize,
      revoke,
    });
  }
  b.updates.push(...tagsUpdate(keep.groupName, 'ec2', keep.groupId, keep.tags, dsg.tags));
  return keep.groupId;
}

/** The stack's SG references resolved: "managed" is the managed SG (known, or created by this plan). */
export const sgResolver =
  (sgRef: Ref | undefined) =>
  (s: string): Ref =>
    s === MANAGED ? (sgRef as Ref) : s;
