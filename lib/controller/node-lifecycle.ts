/**
 * Node lifecycle, as Kubernetes' node lifecycle and pod GC controllers do it, for nodes that are EC2 instances:
 *
 * - A node that leaves (Spot interruption warning, scale-in lifecycle hook, stopping/stopped: the instance still
 *   exists) or is gone (shutting-down/terminated, or no longer found by the node selector) makes the Pods bound to it
 *   (spec.nodeName = its name) not ready at once: their Ready condition becomes False (reason NodeNotReady while the
 *   instance still exists, NodeLost once it is gone; upstream's node lifecycle controller, MarkPodsNotReady, which
 *   also records a Warning NodeNotReady "Node is not ready" on each such Pod), so endpoints, DNS and every node's
 *   rules drop them with the next push.
 * - Pods bound to a node that is gone are deleted once it has been gone for a grace period (podgc's orphan handling:
 *   phase Failed with condition DisruptionTarget/DeletionByPodGC, then delete). Upstream waits 40 s of quarantine;
 *   here the grace is configurable (POD_GC_ORPHAN_GRACE_SECONDS) and the check runs on every resync.
 * - A node that returns (running again) is a node again, but its Pods are NOT made ready: only their producer knows
 *   whether they still run, so they come back when it re-reports them.
 *
 * One record per node the controller has seen (kind `node-lifecycle`, id = instance id): the name Pods refer to (a
 * terminated instance loses its private DNS name, so the name is remembered from when it ran), its phase and since
 * when. Pods bound to a name no node ever had are left alone: nodes here are instances found by tag, and a producer may
 * run Pods on machines this controller does not manage.
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { V1Pod, V1PodCondition } from '@kubernetes/client-node';
import type { ApiServer } from '../api/server.js';
import { NotFoundError } from '../errors.js';
import type { NodeInfo } from '../model/types.js';
import { describeNode } from '../nodes/discover.js';
import type { NodeSelector } from '../nodes/selector.js';
import type { Recorder } from './event-recorder.js';

export const NODE_LIFECYCLE_KIND = 'node-lifecycle';
/** podgc's quarantineTime: how long a node must be gone before its Pods are deleted. */
export const DEFAULT_ORPHAN_GRACE_SECONDS = 40;
/** Longer than a Spot warning (2 min) and a lifecycle hook's heartbeat: a Leaving node still running after it is back. */
export const LEAVING_TTL_MS = 2 * 60 * 60 * 1000;

export type NodePhase = 'Ready' | 'Leaving' | 'Gone';

export interface NodeLifecycleRecord {
  instanceId: string;
  /** The Kubernetes node name Pods are bound by (the instance's private DNS name while it ran). */
  name: string;
  phase: NodePhase;
  /** Why it left (Spot interruption warning, scale-in lifecycle hook, instance stopped, ...). */
  reason?: string;
  /** When it entered this phase (ISO). */
  since: string;
}

/** Why a node leaves, from the event that said so. */
export type LeaveCause = 'spot-interruption' | 'scale-in' | 'stopping' | 'stopped' | 'shutting-down' | 'terminated';

const CAUSE_TEXT: Record<LeaveCause, string> = {
  'spot-interruption': 'Spot interruption warning',
  'scale-in': 'scale-in lifecycle hook',
  stopping: 'instance stopping',
  stopped: 'instance stopped',
  'shutting-down': 'instance shutting down',
  terminated: 'instance terminated',
};
const GONE_CAUSES = new Set<LeaveCause>(['shutting-down', 'terminated']);

export interface NodeLifecycleDeps {
  api: ApiServer;
  ec2: EC2Client;
  selector: NodeSelector;
  orphanGraceSeconds?: number;
  now?: () => Date;
  /** Records the node lifecycle controller's Events (source node-controller); none when absent. */
  recorder?: Recorder;
}

export class NodeLifecycle {
  constructor(private readonly deps: NodeLifecycleDeps) {}

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  /** The cluster node an EC2 event is about; undefined when the node selector does not match it. */
  lookup(instanceId: string): Promise<NodeInfo | undefined> {
    return describeNode(this.deps.ec2, this.deps.selector, instanceId);
  }

  async records(): Promise<NodeLifecycleRecord[]> {
    return (await this.deps.api.store.listRecords<NodeLifecycleRecord>(NODE_LIFECYCLE_KIND)).map((r) => r.data);
  }

  private async record(instanceId: string): Promise<NodeLifecycleRecord | undefined> {
    return (await this.deps.api.store.getRecord<NodeLifecycleRecord>(NODE_LIFECYCLE_KIND, instanceId))?.data;
  }

  private async put(rec: NodeLifecycleRecord): Promise<void> {
    await this.deps.api.store.putRecord(NODE_LIFECYCLE_KIND, rec.instanceId, rec);
  }

  /** A running node: remembered with its name. Its Pods stay as they are (their producer re-reports them). */
  async joined(node: NodeInfo): Promise<void> {
    const cur = await this.record(node.instanceId);
    const name = node.name !== node.instanceId ? node.name : (cur?.name ?? node.name);
    if (cur?.phase === 'Ready' && cur.name === name) return;
    await this.put({ instanceId: node.instanceId, name, phase: 'Ready', since: this.now().toISOString() });
  }

  /** A node leaves or is gone: recorded, and every Pod bound to it becomes not ready at once. Returns how many. */
  async left(node: NodeInfo, cause: LeaveCause): Promise<number> {
    const cur = await this.record(node.instanceId);
    const name = cur?.name ?? node.name;
    const phase: NodePhase = GONE_CAUSES.has(cause) ? 'Gone' : 'Leaving';
    // A second event for the same phase keeps the first time (the orphan grace counts from when it went).
    const since = cur?.phase === phase ? cur.since : this.now().toISOString();
    await this.put({ instanceId: node.instanceId, name, phase, reason: CAUSE_TEXT[cause], since });
    return this.markPodsNotReady(name, phase, CAUSE_TEXT[cause]);
  }

  /** Instances announced as leaving (or gone): never (re)registered as load-balancer targets while marked. */
  async leavingIds(): Promise<Set<string>> {
    const now = this.now().getTime();
    return new Set(
      (await this.records())
        .filter((r) => r.phase === 'Gone' || (r.phase === 'Leaving' && Date.parse(r.since) + LEAVING_TTL_MS > now))
        .map((r) => r.instanceId),
    );
  }

  /**
   * Ready=False on every ready Pod bound to `nodeName` (upstream MarkPodsNotReady). The reason says whether the
   * instance still exists (NodeNotReady) or not (NodeLost); a Pod already not ready, or terminal, is left as it is.
   */
  async markPodsNotReady(nodeName: string, phase: NodePhase, why: string): Promise<number> {
    const reason = phase === 'Gone' ? 'NodeLost' : 'NodeNotReady';
    const pods = (await this.deps.api.listPods()).filter((p) => p.spec?.nodeName === nodeName && isReady(p));
    for (const p of pods) {
      const message = `Node ${nodeName} which was running pod ${p.metadata?.name} is ${phase === 'Gone' ? 'gone' : 'leaving'} (${why})`;
      await this.deps.api
        .updatePodStatus(p.metadata?.namespace ?? 'default', p.metadata?.name ?? '', (st) => ({
          ...st,
          conditions: upsertCondition(st.conditions, { type: 'Ready', status: 'False', reason, message }, this.now()),
        }))
        .then((r) => this.deps.recorder?.event(r.object, 'Warning', 'NodeNotReady', 'Node is not ready'))
        .catch(ignoreNotFound);
    }
    return pods.length;
  }

  /**
   * The periodic pass (resync): nodes the selector no longer finds (or finds shutting down / terminated) are Gone,
   * nodes found stopping or stopped are Leaving, running nodes are remembered; Pods of nodes Gone longer than the grace
   * are deleted as podgc does, and a Gone node's record is dropped once it has no Pods. Returns the Pods deleted.
   */
  async observe(discovered: readonly NodeInfo[]): Promise<{ deleted: string[] }> {
    const seen = new Map(discovered.map((n) => [n.instanceId, n]));
    const recs = new Map((await this.records()).map((r) => [r.instanceId, r]));
    for (const n of discovered) {
      if (n.state === 'running' && !recs.has(n.instanceId)) await this.joined(n);
      if ((n.state === 'stopping' || n.state === 'stopped') && recs.get(n.instanceId)?.phase === 'Ready')
        await this.left(n, n.state);
    }
    for (const r of recs.values()) {
      if (r.phase !== 'Gone' && !seen.has(r.instanceId))
        await this.left({ instanceId: r.instanceId, name: r.name } as NodeInfo, 'terminated');
    }
    return this.collectOrphans();
  }

  /** podgc: Pods bound to a node Gone for longer than the grace become Failed (DeletionByPodGC) and are deleted. */
  async collectOrphans(): Promise<{ deleted: string[] }> {
    const graceMs = (this.deps.orphanGraceSeconds ?? DEFAULT_ORPHAN_GRACE_SECONDS) * 1000;
    const gone = (await this.records()).filter((r) => r.phase === 'Gone');
    const expired = gone.filter((r) => Date.parse(r.since) + graceMs <= this.now().getTime());
    if (!expired.length) return { deleted: [] };
    const names = new Set(expired.map((r) => r.name));
    const pods = (await this.deps.api.listPods()).filter((p) => names.has(p.spec?.nodeName ?? ''));
    const deleted: string[] = [];
    for (const p of pods) {
      const ns = p.metadata?.namespace ?? 'default';
      const name = p.metadata?.name ?? '';
      await this.failAndDelete(ns, name).catch(ignoreNotFound);
      deleted.push(`${ns}/${name}`);
    }
    // Once its Pods are gone the node is forgotten (its statuses too: see the data plane's pruning).
    for (const r of expired) await this.deps.api.store.deleteRecord(NODE_LIFECYCLE_KIND, r.instanceId);
    return { deleted };
  }

  private async failAndDelete(ns: string, name: string): Promise<void> {
    const disruption = {
      type: 'DisruptionTarget',
      status: 'True',
      reason: 'DeletionByPodGC',
      message: 'PodGC: node no longer exists',
    };
    await this.deps.api.updatePodStatus(ns, name, (st) => ({
      ...st,
      phase: st.phase === 'Succeeded' ? st.phase : 'Failed',
      conditions: upsertCondition(st.conditions, disruption, this.now()),
    }));
    await this.deps.api.deletePod(ns, name);
  }

  /** A node that runs again is no longer leaving. */
  async returned(node: NodeInfo): Promise<void> {
    await this.joined(node);
  }
}

function isReady(p: V1Pod): boolean {
  const terminal = p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
  return !terminal && (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

function upsertCondition(
  conds: V1PodCondition[] | undefined,
  c: Omit<V1PodCondition, 'lastTransitionTime'>,
  now: Date,
): V1PodCondition[] {
  const prev = (conds ?? []).find((x) => x.type === c.type);
  const next: V1PodCondition = {
    ...prev,
    ...c,
    lastTransitionTime: prev?.status === c.status ? prev.lastTransitionTime : now,
  };
  return [...(conds ?? []).filter((x) => x.type !== c.type), next];
}

function ignoreNotFound(err: unknown): void {
  if (!(err instanceof NotFoundError)) throw err;
}
