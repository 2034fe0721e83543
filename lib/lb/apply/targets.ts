/** Target (de)registration: the only ELBv2 writes a node join or leave makes (lib/lb/index.ts reconcileTargets). */
import { DeregisterTargetsCommand, RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { PermanentError } from '../../errors.js';
import { classify, elb } from '../calls.js';
import type { LoadBalancerContext } from '../context.js';
import type { Action } from '../model.js';

type TargetAction = Extract<Action, { kind: 'RegisterTargets' | 'DeregisterTargets' }>;

/** One (de)registration call, on a target group whose ARN is known. */
export async function sendTargets(ctx: LoadBalancerContext, a: TargetAction & { arn: string }): Promise<void> {
  const input = { TargetGroupArn: a.arn, Targets: a.instanceIds.map((Id) => ({ Id, Port: a.port })) };
  await elb(
    ctx,
    a.kind === 'RegisterTargets' ? new RegisterTargetsCommand(input) : new DeregisterTargetsCommand(input),
  );
}

/**
 * Applies only the target (de)registrations of a plan, in order, on target groups that already exist (their ARNs
 * are known): a node join or leave changes nothing else. Errors are classified as applyPlan classifies them.
 */
export async function applyTargetChanges(
  ctx: LoadBalancerContext,
  actions: readonly Action[],
  stack: string,
): Promise<number> {
  let done = 0;
  for (const a of actions) {
    if (a.kind !== 'RegisterTargets' && a.kind !== 'DeregisterTargets') continue;
    if (typeof a.arn !== 'string')
      throw new PermanentError(`internal: ${a.kind} ${a.name} names a target group not created yet`, 'PlanOrder');
    ctx.log?.('info', `${a.op} ${a.kind} ${a.name}`, { stack });
    try {
      await sendTargets(ctx, { ...a, arn: a.arn });
    } catch (err) {
      throw classify(err, `${a.op} ${a.kind} ${a.name} (Service ${stack})`);
    }
    done++;
  }
  return done;
}
