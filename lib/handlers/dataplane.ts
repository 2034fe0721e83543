/** The data-plane push (SQS batch, coalesced). The SSM command status events: ./ssm-status.ts. */
import type { SQSRecord } from 'aws-lambda';
import { handlePushBatch } from '../dataplane/ssm-driver.js';
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
