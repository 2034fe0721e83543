/** The data-plane push (SQS batch, coalesced) and the SSM command status events. */
import type { SQSRecord } from 'aws-lambda';
import { DEFAULT_RETRY, type NodeStatus } from '../dataplane/node-status.js';
import { handleCommandStatusEvent, handlePushBatch, type CommandStatusEvent } from '../dataplane/ssm-driver.js';
import { withPushLease } from '../dataplane/push-lease.js';
import { parsePushRequest, type PushRequest } from '../dataplane/triggers.js';
import type { Runtime } from '../runtime/runtime.js';

export async function handlePushRecords(rt: Runtime, records: Pick<SQSRecord, 'body'>[]) {
  if (!rt.driver) return { retried: [] as string[], pruned: [] as string[], skipped: 'data plane not configured' };
  const requests: PushRequest[] = [];
  for (const r of records) {
    try {
      requests.push(parsePushRequest(r.body));
    } catch {
      // A malformed request carries no information worth retrying; the next valid one pushes the latest state.
    }
  }
  const driver = rt.driver;
  return withPushLease(
    driver.store,
    () => driver.now?.() ?? new Date(),
    () => handlePushBatch(requests, driver),
  );
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
export async function handleSsmStatus(rt: Runtime, ev: CommandStatusEvent): Promise<SsmStatusOutcome> {
  const policy = rt.driver?.retryPolicy ?? DEFAULT_RETRY;
  const now = rt.driver?.now?.() ?? new Date();
  const node = await handleCommandStatusEvent(ev, { store: rt.dataPlaneStore, retryPolicy: policy, now: () => now });
  // Status events arrive in any order: a failure of a version the node has since passed needs nothing.
  if (!node || node.failedVersion === undefined || node.failedVersion <= node.appliedVersion || node.failures === 0)
    return { node, gaveUp: false };
  if (!node.nextRetryAt) return { node, gaveUp: node.failures === policy.maxAttempts };
  const retryInSeconds = Math.max(0, Math.ceil((Date.parse(node.nextRetryAt) - now.getTime()) / 1000));
  await rt.pusher.request({ kind: 'retry', instanceIds: [node.instanceId], delaySeconds: retryInSeconds });
  return { node, retryInSeconds, gaveUp: false };
}
