/**
 * The SSM command status events: what each node applied. Needs the data-plane state store and the push queue only,
 * so the ssm-status function builds just those (functions/ssm-status.ts) and loads neither the EC2, ELBv2, SSM nor
 * S3 SDK; a Runtime has the same members (the local mode and tests pass one).
 */
import { handleCommandStatusEvent, type CommandStatusEvent } from '../dataplane/command-status.js';
import { DEFAULT_RETRY, type NodeStatus, type RetryPolicy } from '../dataplane/node-status.js';
import type { DataPlaneStateStore } from '../dataplane/state-store.js';
import type { DataPlanePusher } from '../controller/controller.js';

export interface SsmStatusDeps {
  dataPlaneStore: DataPlaneStateStore;
  pusher: DataPlanePusher;
  /** The retry policy and clock (a Runtime's driver carries them; defaults otherwise). */
  driver?: { retryPolicy?: RetryPolicy; now?: () => Date };
}

export interface SsmStatusOutcome {
  node?: NodeStatus;
  /** A retry of this node alone was scheduled, after this many seconds. */
  retryInSeconds?: number;
  /** This failure made the node Failing: no more retries until something changes for it. */
  gaveUp: boolean;
}

/**
 * Records a node's result. A failure schedules a retry of that node only, after its backoff (no new version, no other
 * node involved); the failure that exhausts the attempts reports the node as Failing instead.
 */
export async function handleSsmStatus(deps: SsmStatusDeps, ev: CommandStatusEvent): Promise<SsmStatusOutcome> {
  const policy = deps.driver?.retryPolicy ?? DEFAULT_RETRY;
  const now = deps.driver?.now?.() ?? new Date();
  const node = await handleCommandStatusEvent(ev, { store: deps.dataPlaneStore, retryPolicy: policy, now: () => now });
  // Status events arrive in any order: a failure of a version the node has since passed needs nothing.
  if (!node || node.failedVersion === undefined || node.failedVersion <= node.appliedVersion || node.failures === 0)
    return { node, gaveUp: false };
  if (!node.nextRetryAt) return { node, gaveUp: node.failures === policy.maxAttempts };
  const retryInSeconds = Math.max(0, Math.ceil((Date.parse(node.nextRetryAt) - now.getTime()) / 1000));
  await deps.pusher.request({ kind: 'retry', instanceIds: [node.instanceId], delaySeconds: retryInSeconds });
  return { node, retryInSeconds, gaveUp: false };
}
