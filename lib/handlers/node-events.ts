/**
 * Node lifecycle: EC2 state changes, Spot interruption warnings and Auto Scaling termination lifecycle hooks.
 * A leaving node is removed from every target group before anything else happens to it; for a lifecycle hook the
 * action is completed only after deregistration succeeded, so the instance is not terminated while the NLB still
 * sends it new connections (deregistration delay then drains the existing ones).
 */
import { CompleteLifecycleActionCommand, type AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { InvalidError } from '../errors.js';
import type { Controller } from '../controller/controller.js';

export interface NodeEvent {
  source?: string;
  'detail-type': string;
  detail: Record<string, unknown>;
}

const LEAVING_STATES = new Set(['stopping', 'stopped', 'shutting-down', 'terminated']);

export type NodeEventAction =
  | { kind: 'joined'; instanceId: string }
  | { kind: 'leaving'; instanceId: string; lifecycle?: { hook: string; group: string; token?: string } }
  | { kind: 'ignored'; reason: string };

/** Pure: what an event means for the cluster. */
export function classifyNodeEvent(ev: NodeEvent): NodeEventAction {
  const d = ev.detail ?? {};
  switch (ev['detail-type']) {
    case 'EC2 Instance State-change Notification': {
      const id = String(d['instance-id'] ?? '');
      const state = String(d.state ?? '');
      if (!id) throw new InvalidError('invalid event: detail.instance-id: Required value');
      if (state === 'running') return { kind: 'joined', instanceId: id };
      if (LEAVING_STATES.has(state)) return { kind: 'leaving', instanceId: id };
      return { kind: 'ignored', reason: `state ${state} changes nothing` };
    }
    case 'EC2 Spot Instance Interruption Warning': {
      const id = String(d['instance-id'] ?? '');
      if (!id) throw new InvalidError('invalid event: detail.instance-id: Required value');
      return { kind: 'leaving', instanceId: id };
    }
    case 'EC2 Instance-terminate Lifecycle Action': {
      const id = String(d.EC2InstanceId ?? '');
      const hook = String(d.LifecycleHookName ?? '');
      const group = String(d.AutoScalingGroupName ?? '');
      if (!id || !hook || !group)
        throw new InvalidError(
          'invalid event: detail.EC2InstanceId, LifecycleHookName and AutoScalingGroupName are required',
        );
      const token = d.LifecycleActionToken ? String(d.LifecycleActionToken) : undefined;
      return { kind: 'leaving', instanceId: id, lifecycle: { hook, group, token } };
    }
    default:
      return { kind: 'ignored', reason: `detail-type ${ev['detail-type']} is not a node event` };
  }
}

export async function handleNodeEvent(
  deps: { controller: Controller; autoscaling: AutoScalingClient },
  ev: NodeEvent,
): Promise<NodeEventAction> {
  const action = classifyNodeEvent(ev);
  if (action.kind === 'ignored') return action;
  if (action.kind === 'joined') {
    const res = await deps.controller.handleNodeChange({
      reason: `node ${action.instanceId} running`,
      joinedInstanceId: action.instanceId,
    });
    if (res.requeue.length) throw new Error(`target registration pending for ${res.requeue.join(', ')}`);
    return action;
  }
  const res = await deps.controller.handleNodeChange({
    reason: `node ${action.instanceId} leaving`,
    leavingInstanceId: action.instanceId,
  });
  // Not drained yet: throw so EventBridge retries; the hook's heartbeat keeps the instance alive meanwhile.
  if (res.requeue.length) throw new Error(`deregistration pending for ${res.requeue.join(', ')}`);
  if (action.lifecycle) {
    await deps.autoscaling.send(
      new CompleteLifecycleActionCommand({
        AutoScalingGroupName: action.lifecycle.group,
        LifecycleHookName: action.lifecycle.hook,
        LifecycleActionToken: action.lifecycle.token,
        InstanceId: action.instanceId,
        LifecycleActionResult: 'CONTINUE',
      }),
    );
  }
  return action;
}
