/**
 * Node lifecycle events: EC2 state changes, Spot interruption warnings and Auto Scaling termination lifecycle hooks.
 * Only instances the node selector matches are nodes: an event about any other instance changes nothing and asks for
 * nothing. A leaving node's Pods become not ready at once (lib/controller/node-lifecycle.ts), it is removed from every
 * target group, and the data plane is pushed; for a lifecycle hook the action is completed only after the node is
 * deregistered AND no node's rules send new connections to its Pods any more (drained), so the instance is not
 * terminated while anything still routes to it.
 */
import { CompleteLifecycleActionCommand, type AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { AWS_EVENTS } from '../contracts.js';
import { InvalidError } from '../errors.js';
import type { Controller } from '../controller/controller.js';
import type { LeaveCause } from '../controller/node-lifecycle.js';
import type { NodeInfo } from '../model/types.js';

export interface NodeEvent {
  source?: string;
  'detail-type': string;
  detail: Record<string, unknown>;
}

const LEAVING_STATES = new Set(['stopping', 'stopped', 'shutting-down', 'terminated']);

export type NodeEventAction =
  | { kind: 'joined'; instanceId: string }
  | {
      kind: 'leaving';
      instanceId: string;
      cause: LeaveCause;
      lifecycle?: { hook: string; group: string; token?: string };
    }
  | { kind: 'ignored'; reason: string };

function requiredId(v: unknown, field: string): string {
  const id = String(v ?? '');
  if (!id) throw new InvalidError(`invalid event: detail.${field}: Required value`);
  return id;
}

/** Pure: what an event means for the cluster. */
export function classifyNodeEvent(ev: NodeEvent): NodeEventAction {
  const d = ev.detail ?? {};
  switch (ev['detail-type']) {
    case AWS_EVENTS.instanceStateChange.detailType: {
      const id = requiredId(d['instance-id'], 'instance-id');
      const state = String(d.state ?? '');
      if (state === 'running') return { kind: 'joined', instanceId: id };
      if (LEAVING_STATES.has(state)) return { kind: 'leaving', instanceId: id, cause: state as LeaveCause };
      return { kind: 'ignored', reason: `state ${state} changes nothing` };
    }
    case AWS_EVENTS.spotInterruption.detailType:
      return { kind: 'leaving', instanceId: requiredId(d['instance-id'], 'instance-id'), cause: 'spot-interruption' };
    case AWS_EVENTS.terminateLifecycleAction.detailType: {
      const id = String(d.EC2InstanceId ?? '');
      const hook = String(d.LifecycleHookName ?? '');
      const group = String(d.AutoScalingGroupName ?? '');
      if (!id || !hook || !group)
        throw new InvalidError(
          'invalid event: detail.EC2InstanceId, LifecycleHookName and AutoScalingGroupName are required',
        );
      const token = d.LifecycleActionToken ? String(d.LifecycleActionToken) : undefined;
      return { kind: 'leaving', instanceId: id, cause: 'scale-in', lifecycle: { hook, group, token } };
    }
    default:
      return { kind: 'ignored', reason: `detail-type ${ev['detail-type']} is not a node event` };
  }
}

export interface NodeEventDeps {
  controller: Controller;
  autoscaling: AutoScalingClient;
  /** Resolves true once no node's rules send new connections to Pods on this node (see lib/dataplane/drain.ts). */
  drained?: (node: NodeInfo) => Promise<boolean>;
  /** How long to wait for that before the event is retried (the hook's heartbeat keeps the instance meanwhile). */
  drainWaitMs?: number;
}

export async function handleNodeEvent(deps: NodeEventDeps, ev: NodeEvent): Promise<NodeEventAction> {
  const action = classifyNodeEvent(ev);
  if (action.kind === 'ignored') return action;
  const lifecycle = deps.controller.lifecycle;
  const node = await lifecycle.lookup(action.instanceId);
  if (!node) return { kind: 'ignored', reason: `instance ${action.instanceId} is not a node of this cluster` };
  if (action.kind === 'joined') {
    await lifecycle.joined(node);
    const res = await deps.controller.handleNodeChange({
      trigger: { kind: 'node-joined', instanceId: node.instanceId },
    });
    if (res.requeue.length) throw new Error(`target registration pending for ${res.requeue.join(', ')}`);
    return action;
  }
  await lifecycle.left(node, action.cause);
  const res = await deps.controller.handleNodeChange({ trigger: { kind: 'node-left', instanceId: node.instanceId } });
  // Not drained yet: throw so EventBridge retries; the hook's heartbeat keeps the instance alive meanwhile.
  if (res.requeue.length) throw new Error(`deregistration pending for ${res.requeue.join(', ')}`);
  if (action.lifecycle) {
    // Bounded well inside the function's 60 s timeout (target updates come first and take their share).
    if (deps.drained && !(await waitUntil(() => deps.drained!(node), deps.drainWaitMs ?? 20_000)))
      throw new Error(`data plane still routes to pods on ${node.name}: lifecycle action not completed yet`);
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

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 1000));
  }
}
