/**
 * Each node's data-plane status and the rules that act on it, pure (no SDK, no clock of its own):
 * - what a node applied (version and content digest), from SSM's status events;
 * - failures are contained per node: a failed node is retried alone (InstanceIds, the same push, no new version for
 *   anyone) after an exponentially growing delay, capped, and after `maxAttempts` consecutive failures it is reported
 *   Failing and no longer retried until something changes for it (a new version of its content, a node event, or a
 *   later success);
 * - one status item per node with a TTL (refreshed on writes), so no item grows with the cluster and a node that
 *   vanished without an event disappears by itself.
 */
export interface NodeStatus {
  instanceId: string;
  /** Highest version this node reported as applied (never decreases). */
  appliedVersion: number;
  /** Content digest of what it applied (bundle.ts contentDigest): equal digests mean nothing to send. */
  appliedDigest?: string;
  lastCommandId?: string;
  /** Last final SSM invocation status seen (Success, Failed, TimedOut, ...). */
  lastStatus?: string;
  /** Version of the last failed invocation, cleared once a later version succeeds. */
  failedVersion?: number;
  /** Consecutive failures (0 after a success). */
  failures: number;
  /** When the next retry is due (ISO); absent when none is scheduled. */
  nextRetryAt?: string;
  updatedAt: string;
  /** The item's TTL (ISO); every write moves it forward. */
  expiresAt: string;
}

export interface RetryPolicy {
  /** Delay before the first retry. */
  baseSeconds: number;
  /** No delay grows beyond this. SQS DelaySeconds (the deployed timer) allows at most 900. */
  capSeconds: number;
  /** Consecutive failures after which the node is Failing and left alone. */
  maxAttempts: number;
}

/** 10 s, 20 s, 40 s, 80 s, 160 s, then Failing: about five minutes of retries, each to the failing node only. */
export const DEFAULT_RETRY: RetryPolicy = { baseSeconds: 10, capSeconds: 300, maxAttempts: 6 };
/** A status item lives this long after its last write (resync refreshes live nodes' items well before). */
export const STATUS_TTL_MS = 7 * 24 * 3600 * 1000;

export function backoffSeconds(failures: number, p: RetryPolicy = DEFAULT_RETRY): number {
  return Math.min(p.capSeconds, p.baseSeconds * 2 ** Math.max(0, failures - 1));
}

const FINAL_FAILURES = new Set([
  'Failed',
  'TimedOut',
  'Cancelled',
  'Undeliverable',
  'Terminated',
  'DeliveryTimedOut',
  'ExecutionTimedOut',
]);

export type FinalStatus = 'Success' | 'Failure';

/** SSM invocation statuses: Success, a final failure, or undefined for Pending/InProgress/Delayed (not final). */
export function finalStatus(ssmStatus: string): FinalStatus | undefined {
  const s = ssmStatus.replace(/\s+/g, '');
  if (s === 'Success') return 'Success';
  return FINAL_FAILURES.has(s) ? 'Failure' : undefined;
}

export interface StatusEventInput {
  instanceId: string;
  commandId: string;
  ssmStatus: string;
  version: number;
  /** The digest the node's entry of that version carries. */
  digest?: string;
  now: Date;
}

const expiry = (now: Date): string => new Date(now.getTime() + STATUS_TTL_MS).toISOString();

/**
 * The next status after a final result. Success raises the applied version (never lowers it: events arrive out of
 * order) and ends any failure series; a failure of a version the node has not since passed extends its series and
 * schedules the next retry (none once it is Failing); a late failure of an older version changes nothing but the
 * bookkeeping.
 */
export function applyResult(
  cur: NodeStatus | undefined,
  ev: StatusEventInput,
  final: FinalStatus,
  p: RetryPolicy = DEFAULT_RETRY,
): NodeStatus {
  const base: NodeStatus = cur ?? {
    instanceId: ev.instanceId,
    appliedVersion: 0,
    failures: 0,
    updatedAt: ev.now.toISOString(),
    expiresAt: expiry(ev.now),
  };
  const out: NodeStatus = {
    ...base,
    lastCommandId: ev.commandId,
    lastStatus: ev.ssmStatus.replace(/\s+/g, ''),
    updatedAt: ev.now.toISOString(),
    expiresAt: expiry(ev.now),
  };
  if (final === 'Success') {
    if (ev.version >= base.appliedVersion) {
      out.appliedVersion = ev.version;
      out.appliedDigest = ev.digest ?? base.appliedDigest;
    }
    if (out.failedVersion !== undefined && out.failedVersion <= out.appliedVersion) out.failedVersion = undefined;
    if (out.failedVersion === undefined) {
      out.failures = 0;
      out.nextRetryAt = undefined;
    }
    return out;
  }
  if (ev.version <= base.appliedVersion) return out; // already past it: nothing to retry
  out.failedVersion = Math.max(base.failedVersion ?? 0, ev.version);
  out.failures = base.failures + 1;
  out.nextRetryAt =
    out.failures >= p.maxAttempts
      ? undefined
      : new Date(ev.now.getTime() + backoffSeconds(out.failures, p) * 1000).toISOString();
  return out;
}

export const isFailing = (s: NodeStatus | undefined, p: RetryPolicy = DEFAULT_RETRY): boolean =>
  (s?.failures ?? 0) >= p.maxAttempts;

/** Something new was sent to the node (a new version of its content, or a node event): a fresh retry series. */
export function resetFailures(s: NodeStatus, now: Date): NodeStatus {
  return { ...s, failures: 0, nextRetryAt: undefined, updatedAt: now.toISOString(), expiresAt: expiry(now) };
}

/** A retry is due: the node is behind, not Failing, and its backoff has passed (with a little slack for timers). */
export function retryDue(
  s: NodeStatus | undefined,
  latestDigest: string | undefined,
  now: Date,
  p: RetryPolicy = DEFAULT_RETRY,
): boolean {
  if (!s || s.appliedDigest === latestDigest || isFailing(s, p) || !s.nextRetryAt) return false;
  return Date.parse(s.nextRetryAt) <= now.getTime() + 1000;
}

export type DataPlaneNodeState = 'InSync' | 'Pending' | 'Retrying' | 'Failing' | 'Unknown';

/** One node's data-plane condition, what `svcctl get nodes` shows. */
export interface NodeDataPlaneView {
  instanceId: string;
  state: DataPlaneNodeState;
  appliedVersion?: number;
  latestVersion?: number;
  failures: number;
  lastStatus?: string;
  nextRetryAt?: string;
}

/**
 * InSync: it holds the latest content; Pending: behind, with no failure recorded (a push is on its way or its result
 * has not arrived); Retrying: failed, a retry is scheduled; Failing: gave up after maxAttempts; Unknown: no status.
 */
export function nodeDataPlaneView(
  instanceId: string,
  s: NodeStatus | undefined,
  latest: { version: number; digests: Record<string, string> } | undefined,
  p: RetryPolicy = DEFAULT_RETRY,
): NodeDataPlaneView {
  if (!s) return { instanceId, state: 'Unknown', failures: 0, latestVersion: latest?.version };
  const view = {
    instanceId,
    appliedVersion: s.appliedVersion,
    latestVersion: latest?.version,
    failures: s.failures,
    lastStatus: s.lastStatus,
    nextRetryAt: s.nextRetryAt,
  };
  if (!latest || s.appliedDigest === (latest.digests[instanceId] ?? latest.digests['*']))
    return { ...view, state: 'InSync' };
  if (isFailing(s, p)) return { ...view, state: 'Failing' };
  return { ...view, state: s.failures > 0 ? 'Retrying' : 'Pending' };
}
