/**
 * Burst coalescing for pushes. Every desired-state change enqueues a small PushRequest on an SQS queue; the push
 * function consumes that queue with a batching window (e.g. MaximumBatchingWindowInSeconds 2, BatchSize 100) and
 * reserved concurrency 1, so at most one push runs at a time and a burst of N changes arrives as one batch that
 * `coalesce` folds into one push of the newest state. Requests at or below the generation already pushed are
 * dropped (their state is already on the way). Pure.
 */
export interface PushRequest {
  /** Monotonic desired-state generation the request was made for. */
  generation: number;
  /** Force a full ruleset (node joined, drift suspected) instead of allowing deltas. */
  full?: boolean;
  /** Re-send the latest push to these instances only (failed nodes). */
  retryInstances?: string[];
}

export interface CoalescedPush {
  /** A new push is needed for this generation (undefined: nothing newer than what was pushed). */
  generation?: number;
  full: boolean;
  retryInstances: string[];
}

export function coalesce(requests: readonly PushRequest[], lastPushedGeneration: number): CoalescedPush {
  let max = lastPushedGeneration;
  let full = false;
  const retry = new Set<string>();
  for (const r of requests) {
    if (r.generation > max) max = r.generation;
    if (r.full && r.generation > lastPushedGeneration) full = true;
    for (const i of r.retryInstances ?? []) retry.add(i);
  }
  return {
    generation: max > lastPushedGeneration ? max : undefined,
    full,
    retryInstances: [...retry].sort(),
  };
}
