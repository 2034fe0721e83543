/**
 * One data-plane push at a time per cluster. The push queue's poller runs up to two invocations at once (SQS event
 * sources allow no fewer without reserved concurrency, which low-quota accounts cannot grant), and a push renders
 * the state it read: two overlapping pushes could deliver the older render under the higher version, which the
 * agents (never going backwards) would then keep until the next push. So the second push waits for the first.
 */
import { randomUUID } from 'node:crypto';
import { TransientError } from '../errors.js';
import type { DataPlaneStateStore } from './state-store.js';

/** The push function's timeout (infra sets it from here): no push holds the lease longer than this plus a margin. */
export const PUSH_FUNCTION_TIMEOUT_SECONDS = 120;
const LEASE_MARGIN_SECONDS = 10;
/** How long a push waits for the one before it: a push takes seconds; a crashed holder's lease expires in 130 s. */
const WAIT_MS = 60_000;
const POLL_MS = 500;

/**
 * Runs `push` holding the cluster's push lease. A lease still held after the wait (its holder died mid-push) fails
 * the batch with a TransientError: SQS redelivers it, by then the lease has expired.
 */
export async function withPushLease<T>(
  store: Pick<DataPlaneStateStore, 'acquirePushLease' | 'releasePushLease'>,
  now: () => Date,
  push: () => Promise<T>,
  opts: { waitMs?: number; pollMs?: number } = {},
): Promise<T> {
  const holder = randomUUID();
  const deadline = Date.now() + (opts.waitMs ?? WAIT_MS);
  const until = () => new Date(now().getTime() + (PUSH_FUNCTION_TIMEOUT_SECONDS + LEASE_MARGIN_SECONDS) * 1000);
  while (!(await store.acquirePushLease(holder, until(), now()))) {
    if (Date.now() > deadline) throw new TransientError('another data-plane push holds the lease', 'PushLeaseHeld');
    await new Promise((r) => setTimeout(r, opts.pollMs ?? POLL_MS));
  }
  try {
    return await push();
  } finally {
    await store.releasePushLease(holder);
  }
}
