/** The data-plane push (SQS batch, coalesced) and the SSM command status events. */
import type { SQSRecord } from 'aws-lambda';
import { InvalidError } from '../errors.js';
import type { PushRequest } from '../dataplane/coalesce.js';
import { handleCommandStatusEvent, handlePushBatch, type CommandStatusEvent } from '../dataplane/ssm-driver.js';
import type { Runtime } from '../runtime/runtime.js';

export function parsePushRequest(body: string): PushRequest {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    throw new InvalidError('invalid push request: not JSON');
  }
  const r = v as Partial<PushRequest>;
  if (typeof r !== 'object' || r === null || !Number.isInteger(r.generation) || (r.generation ?? -1) < 0)
    throw new InvalidError('invalid push request: generation: must be a non-negative integer');
  const ids = r.retryInstances ?? [];
  if (!Array.isArray(ids) || ids.some((i) => typeof i !== 'string' || !/^(i|mi)-[0-9a-f]{8,17}$/.test(i)))
    throw new InvalidError('invalid push request: retryInstances: must be EC2 instance ids');
  return { generation: r.generation!, full: r.full === true, retryInstances: ids };
}

export async function handlePushRecords(rt: Runtime, records: Pick<SQSRecord, 'body'>[]) {
  if (!rt.driver) return { pushed: undefined, retried: [] as string[], skipped: 'data plane not configured' };
  const requests: PushRequest[] = [];
  for (const r of records) {
    try {
      requests.push(parsePushRequest(r.body));
    } catch {
      // A malformed request carries no information worth retrying; the next valid one pushes the latest state.
    }
  }
  return handlePushBatch(requests, rt.driver);
}

export async function handleSsmStatus(rt: Runtime, ev: CommandStatusEvent) {
  const node = await handleCommandStatusEvent(ev, { store: rt.dataPlaneStore });
  // Status events arrive in any order: a failure of a version older than what the node has since applied needs
  // no retry (a retry re-sends the latest push, which the node already has).
  if (node?.failedVersion !== undefined && node.lastStatus !== 'Success' && node.failedVersion > node.appliedVersion) {
    await rt.pusher.requestRaw({ retryInstances: [node.instanceId] });
  }
  return node;
}
