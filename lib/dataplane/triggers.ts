/**
 * Why the data plane should be pushed, as typed values (never text to match), and how a burst of them folds into one
 * push. Every trigger is a small message on the push queue, consumed with a batching window (2 s, batch size 100) and
 * at most 2 invocations at once (1 with the stack's reserveConcurrency), so a burst of changes arrives as one batch
 * and few pushes run at a time. Pure.
 *
 * - objects / node-joined / node-left / resync carry the desired-state generation they were made for; requests at
 *   or below the generation already pushed are covered by that push. They lead to at most one new version, and only
 *   when the rendered state differs from the last push (a resync with no change sends nothing).
 * - retry names failed nodes; it carries no generation (a retry is never a new version for anyone) and is delayed by
 *   the node's backoff (SQS DelaySeconds in AWS, a timer locally).
 */
import { InvalidError } from '../errors.js';

export type PushTrigger =
  | { kind: 'objects' }
  | { kind: 'node-joined'; instanceId: string }
  | { kind: 'node-left'; instanceId: string }
  | { kind: 'resync' }
  | { kind: 'retry'; instanceIds: string[]; delaySeconds?: number };

export type RenderTrigger = Exclude<PushTrigger, { kind: 'retry' }>;
export type PushRequest = (RenderTrigger & { generation: number }) | { kind: 'retry'; instanceIds: string[] };

export interface CoalescedPush {
  /** Render the desired state for this generation (undefined: nothing newer than what was pushed). */
  generation?: number;
  /** A resync asked: also re-send to nodes that are behind (missed a push) and prune gone nodes' statuses. */
  resync: boolean;
  /** Nodes that joined: a fresh retry series for them. */
  joined: string[];
  retryInstances: string[];
}

export function coalesce(requests: readonly PushRequest[], lastPushedGeneration: number): CoalescedPush {
  let max = lastPushedGeneration;
  let resync = false;
  const joined = new Set<string>();
  const retry = new Set<string>();
  for (const r of requests) {
    if (r.kind === 'retry') {
      for (const i of r.instanceIds) retry.add(i);
      continue;
    }
    if (r.generation > max) max = r.generation;
    if (r.kind === 'resync') resync = true;
    if (r.kind === 'node-joined') joined.add(r.instanceId);
  }
  return {
    generation: max > lastPushedGeneration ? max : undefined,
    resync,
    joined: [...joined].sort(),
    retryInstances: [...retry].sort(),
  };
}

/** EC2 (i-) and SSM hybrid (mi-) instance ids: whatever reaches SendCommand's InstanceIds must be an id. */
export const INSTANCE_ID = /^(i|mi)-[0-9a-f]{8,17}$/;
const KINDS = new Set(['objects', 'node-joined', 'node-left', 'resync', 'retry']);

/** Parses one queue message; anything else is an InvalidError (the message is dropped: it can never succeed). */
export function parsePushRequest(body: string): PushRequest {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    throw new InvalidError('invalid push request: not JSON');
  }
  const r = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  if (typeof r.kind !== 'string' || !KINDS.has(r.kind))
    throw new InvalidError('invalid push request: kind: must be objects, node-joined, node-left, resync or retry');
  if (r.kind === 'retry') {
    const ids = r.instanceIds;
    if (!Array.isArray(ids) || ids.length === 0 || ids.some((i) => typeof i !== 'string' || !INSTANCE_ID.test(i)))
      throw new InvalidError('invalid push request: instanceIds: must be EC2 instance ids');
    return { kind: 'retry', instanceIds: ids as string[] };
  }
  if (!Number.isSafeInteger(r.generation) || (r.generation as number) < 0)
    throw new InvalidError('invalid push request: generation: must be a non-negative integer');
  const generation = r.generation as number;
  if (r.kind === 'node-joined' || r.kind === 'node-left') {
    if (typeof r.instanceId !== 'string' || !INSTANCE_ID.test(r.instanceId))
      throw new InvalidError('invalid push request: instanceId: must be an EC2 instance id');
    return { kind: r.kind, instanceId: r.instanceId, generation };
  }
  return { kind: r.kind as 'objects' | 'resync', generation };
}
