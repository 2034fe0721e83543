/**
 * Applies a plan, in order, one AWS call at a time per action (batches of targets are already split by the
 * planner). Crash safety comes from the design, not from this file remembering anything: every resource is
 * created WITH its ownership tags in the Create call itself (lib/lb/ownership.ts), so a crash between any two calls
 * leaves only tagged resources that the next observation finds and adopts (or deletes as duplicates). Idempotency
 * errors AWS raises on a rerun (already exists / already gone) are resolved by each resource's file beside this one,
 * a name already taken by looking the resource up and proving it ours (ownership.ts provenOwned).
 */
import { classify, isNotFound } from '../calls.js';
import type { LoadBalancerContext } from '../context.js';
import type { Action, Plan } from '../model.js';
import { applyListener, applyListenerAttributes } from './listener.js';
import { applyLoadBalancer } from './loadbalancer.js';
import { applyNodeRule } from './noderule.js';
import { applySecurityGroup } from './securitygroup.js';
import { ApplyState } from './state.js';
import { applyTags } from './tags.js';
import { applyTargetGroup } from './targetgroup.js';
import { sendTargets } from './targets.js';

export { applyTargetChanges } from './targets.js';

export interface ApplyResult {
  hostname?: string;
  /** Actions completed (for logs and tests). */
  done: number;
}

export async function applyPlan(ctx: LoadBalancerContext, plan: Plan): Promise<ApplyResult> {
  const stack = plan.stack;
  const st = new ApplyState(stack, plan.hostname);
  let done = 0;
  for (const a of plan.actions) {
    ctx.log?.('info', `${a.op} ${a.kind} ${a.name}`, { stack });
    try {
      await step(ctx, st, a);
    } catch (err) {
      // Deleting what is already gone is success: another reconciler (a racing delete, the resync sweep) or a
      // crashed run of this one got there first. Delete is the only action whose goal a NotFound fulfils.
      if (a.op !== 'delete' || !isNotFound(err)) throw classify(err, `${a.op} ${a.kind} ${a.name} (Service ${stack})`);
      ctx.log?.('info', `${a.kind} ${a.name} is already gone`, { stack });
    }
    done++;
  }
  return { hostname: st.hostname, done };
}

/** One action, handed to the file of its resource. */
function step(ctx: LoadBalancerContext, st: ApplyState, a: Action): Promise<void> {
  switch (a.kind) {
    case 'SecurityGroup':
    case 'SecurityGroupIngress':
      return applySecurityGroup(ctx, st, a);
    case 'LoadBalancer':
    case 'LoadBalancerAttributes':
    case 'LoadBalancerCapacity':
    case 'LoadBalancerSubnets':
    case 'LoadBalancerSecurityGroups':
      return applyLoadBalancer(ctx, st, a);
    case 'TargetGroup':
    case 'TargetGroupHealthCheck':
    case 'TargetGroupAttributes':
      return applyTargetGroup(ctx, st, a);
    case 'RegisterTargets':
    case 'DeregisterTargets':
      return sendTargets(ctx, { ...a, arn: st.resolve(a.arn) });
    case 'Tags':
      return applyTags(ctx, a);
    case 'Listener':
      return applyListener(ctx, st, a);
    case 'ListenerAttributes':
      return applyListenerAttributes(ctx, st, a);
    case 'NodeRule':
      return applyNodeRule(ctx, st, a);
  }
}
