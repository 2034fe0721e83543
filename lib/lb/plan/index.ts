/**
 * The planner: a pure diff from desired state (or null = the Service no longer wants a load balancer) to an ordered
 * list of actions (the order and why: buckets.ts). One file per resource beside this one; observed resources are
 * matched to desired ones by their ownership tags (lib/lb/ownership.ts), never by name.
 *
 * Duplicates (a create whose response was lost and that was retried, two reconcilers racing a create) are reduced to
 * one, keeping the one in use and deleting the rest: among NLBs the one the Service's status points at (else the
 * oldest), among target groups of one port the one attached to the kept NLB, among listeners of one port the one
 * forwarding to the kept target group.
 */
import type { DesiredStack, ObservedStack, Plan } from '../model.js';
import { emptyBuckets, toPlan } from './buckets.js';
import { byAge } from './diff.js';
import { planListeners } from './listener.js';
import { deleteListenersOf, deleteLoadBalancer, planLoadBalancer } from './loadbalancer.js';
import { revokeNodeRules, planNodeRule } from './noderule.js';
import { deleteSecurityGroup, planSecurityGroup, sgResolver } from './securitygroup.js';
import { deleteTargetGroup, planTargetGroups } from './targetgroup.js';

export function planStack(desired: DesiredStack | null, observed: ObservedStack, vpcId = ''): Plan {
  if (!desired) return planTeardown(observed);
  const b = emptyBuckets([...desired.warnings]);
  // Dependency order inside each bucket: SG, NLB, target groups (and their targets), node rule, listeners.
  const resolveSg = sgResolver(planSecurityGroup(desired, observed, vpcId, b));
  const lb = planLoadBalancer(desired, observed.loadBalancers, resolveSg, b);
  const tgRefs = planTargetGroups(desired, observed, lb.keep, b);
  planNodeRule(desired, observed, resolveSg, b);
  planListeners(desired, lb.keep, lb.ref, tgRefs, b);
  return toPlan(desired.stack, b);
}

/** Everything of the stack goes: the Service was deleted or is no longer type LoadBalancer. */
function planTeardown(observed: ObservedStack): Plan {
  const b = emptyBuckets([]);
  for (const lb of [...observed.loadBalancers].sort(byAge)) {
    b.deletes.listeners.push(...deleteListenersOf(lb));
    b.deletes.lbs.push(deleteLoadBalancer(lb, 'Service no longer needs it'));
  }
  b.deletes.tgs.push(...observed.targetGroups.map(deleteTargetGroup));
  b.deletes.rules.push(...revokeNodeRules(observed.nodePermissions));
  b.deletes.sgs.push(...observed.securityGroups.map(deleteSecurityGroup));
  return toPlan(observed.stack, b);
}
