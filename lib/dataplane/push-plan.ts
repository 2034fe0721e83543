/**
 * Who gets what, decided from the desired state, the last push and each node's status. Pure.
 *
 * - A new version exists only when the rendered state changed (its hash differs from the last push's).
 * - A new version goes to the nodes whose content differs from what they applied (digests), and to nodes nobody has
 *   heard from; every node's bundle is a delta from the version that node applied. When that is every live node, the
 *   command targets the node selector (one SendCommand, which also reaches nodes that joined a second ago);
 *   otherwise it names the instances (at most 50 per SendCommand).
 * - Without a new version, a node is sent the latest push again only when it is behind and either its backoff after
 *   a failure has passed (retry) or, on a resync, it has been behind longer than a push can take to land with no
 *   failure recorded (a lost result or a missed push).
 */
import type { NodeInfo } from '../model/types.js';
import { DEFAULT_RETRY, isFailing, retryDue, type NodeStatus, type RetryPolicy } from './node-status.js';
import { digestFor, type PushRecord } from './state-store.js';

/**
 * How long a push may take to be applied and reported: SSM's delivery timeout (600 s) plus the execution timeout
 * (300 s). A node still behind after that, with no failure on record, missed it.
 */
export const IN_FLIGHT_MS = 900_000;
/** Distinct older versions rendered as delta bases in one push; nodes further behind get the full ruleset. */
export const MAX_DELTA_BASES = 3;

export const behind = (s: NodeStatus | undefined, digests: Record<string, string>, id: string): boolean =>
  s?.appliedDigest !== digestFor(digests, id);

export interface Targets {
  /** Every live node needs it: target the node selector (SSM fans out, including to nodes unknown to discovery). */
  all: boolean;
  instanceIds: string[];
}

export function targetsFor(
  nodes: readonly NodeInfo[],
  digests: Record<string, string>,
  statuses: ReadonlyMap<string, NodeStatus>,
): Targets {
  const ids = nodes.map((n) => n.instanceId).filter((id) => behind(statuses.get(id), digests, id));
  return { all: ids.length > 0 && ids.length === nodes.length, instanceIds: ids.sort() };
}

/**
 * Nodes that applied another version than the last push's, grouped by that version (largest groups first, at most
 * MAX_DELTA_BASES): each group's bundle is a delta from its version. Nodes without a status are left out (the '*'
 * bundle's delta from the last push, or its full ruleset, serves them).
 */
export function deltaBases(
  nodes: readonly NodeInfo[],
  statuses: ReadonlyMap<string, NodeStatus>,
  lastVersion: number | undefined,
): { version: number; instanceIds: string[] }[] {
  const groups = new Map<number, string[]>();
  for (const n of nodes) {
    const v = statuses.get(n.instanceId)?.appliedVersion;
    if (!v || v === lastVersion) continue;
    groups.set(v, [...(groups.get(v) ?? []), n.instanceId]);
  }
  return [...groups]
    .sort((a, b) => b[1].length - a[1].length || b[0] - a[0])
    .slice(0, MAX_DELTA_BASES)
    .map(([version, instanceIds]) => ({ version, instanceIds }));
}

export interface RetryInput {
  last: PushRecord;
  liveIds: readonly string[];
  statuses: ReadonlyMap<string, NodeStatus>;
  /** Nodes named by retry requests (their backoff timers fired). */
  requested: readonly string[];
  resync: boolean;
  /** Nodes the current batch already sends to. */
  exclude: ReadonlySet<string>;
  now: Date;
  policy?: RetryPolicy;
}

/** The nodes to re-send the latest push to, sorted; never a Failing node. */
export function retryTargets(r: RetryInput): string[] {
  const p = r.policy ?? DEFAULT_RETRY;
  const live = new Set(r.liveIds);
  const stale = r.now.getTime() - Date.parse(r.last.pushedAt) > IN_FLIGHT_MS;
  const out = new Set<string>();
  for (const id of r.requested) {
    if (live.has(id) && retryDue(r.statuses.get(id), digestFor(r.last.digests, id), r.now, p)) out.add(id);
  }
  if (r.resync) {
    for (const id of r.liveIds) {
      const s = r.statuses.get(id);
      if (!behind(s, r.last.digests, id) || isFailing(s, p)) continue;
      if (retryDue(s, digestFor(r.last.digests, id), r.now, p) || ((s?.failures ?? 0) === 0 && stale)) out.add(id);
    }
  }
  return [...out].filter((id) => !r.exclude.has(id)).sort();
}
