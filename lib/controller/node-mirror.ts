/**
 * Node objects. Here every cluster instance (the node selector's, lib/nodes/selector.ts) is mirrored as the Node a
 * kubelet plus cloud-provider-aws would register (lib/model/node-object.ts): written on node events (join, leave)
 * and every resync, deleted once the instance is terminated or no longer selected. In cluster mode (issue 13) the
 * Nodes come from the real cluster instead; the controller only depends on `NodeSource`, so that mode plugs in a
 * source that reads them rather than writes them.
 *
 * Events, as upstream's controllers record them (source components in event-recorder.ts):
 * - RegisteredNode `Node <n> event: Registered Node <n> in Controller` (node-controller) when a Node appears;
 * - NodeNotReady `Node <n> status is now: NodeNotReady` (node-controller) when Ready turns False;
 * - DeletingNode `Deleting node <n> because it does not exist in the cloud provider` (cloud-node-lifecycle-
 *   controller) and RemovingNode `Node <n> event: Removing Node <n> from Controller` (node-controller) when it goes.
 */
import type { V1Node } from '@kubernetes/client-node';
import { contentOf, type WritePath } from '../api/write-path.js';
import { NODES } from '../api/resources.js';
import { NotFoundError } from '../errors.js';
import type { NodeDataPlaneView } from '../dataplane/node-status.js';
import { desiredNode, instanceIdOf, NODE_READY } from '../model/node-object.js';
import type { NodeInfo } from '../model/types.js';
import type { ObjectStore } from '../store/types.js';
import type { Recorder } from './event-recorder.js';
import type { Logger } from './logger.js';
import { LEAVING_TTL_MS, type NodeLifecycleRecord } from './node-lifecycle.js';

export interface NodeSyncResult {
  /** Nodes created or changed. */
  written: string[];
  deleted: string[];
}

/** Where the Node objects come from (EC2 here; the cluster itself in cluster mode). */
export interface NodeSource {
  /** Converges the Node objects with the cluster's instances, as discovered in this pass. */
  sync(discovered: readonly NodeInfo[]): Promise<NodeSyncResult>;
}

export interface NodeMirrorDeps {
  store: ObjectStore;
  writes: WritePath;
  /** The node lifecycle's records: which nodes are leaving, and why. */
  records: () => Promise<NodeLifecycleRecord[]>;
  /** Each node's data-plane status by instance id; absent when the data plane is not configured. */
  dataPlane?: () => Promise<Map<string, NodeDataPlaneView>>;
  recorders?: { node: Recorder; cloudNode: Recorder };
  now?: () => Date;
  log?: Logger;
}

const readyOf = (n: V1Node | undefined): string | undefined =>
  n?.status?.conditions?.find((c) => c.type === NODE_READY)?.status;

export class Ec2NodeMirror implements NodeSource {
  constructor(private readonly deps: NodeMirrorDeps) {}

  async sync(discovered: readonly NodeInfo[]): Promise<NodeSyncResult> {
    const now = this.deps.now?.() ?? new Date();
    const [existing, records, views] = await Promise.all([
      this.deps.store.list<V1Node>('Node', ''),
      this.deps.records(),
      this.deps.dataPlane?.(),
    ]);
    const byName = new Map(existing.map((n) => [n.metadata?.name ?? '', n]));
    const leaving = new Map(
      records
        .filter((r) => r.phase === 'Leaving' && Date.parse(r.since) + LEAVING_TTL_MS > now.getTime())
        .map((r) => [r.instanceId, { reason: r.reason ?? 'leaving' }]),
    );
    const written: string[] = [];
    for (const n of discovered) {
      const dataPlane = views ? (views.get(n.instanceId) ?? unknownView(n.instanceId)) : undefined;
      const previous = byName.get(n.name);
      const want = desiredNode({ node: n, leaving: leaving.get(n.instanceId), dataPlane, previous, now });
      // Compared with what was just listed, so an unchanged Node costs no read, let alone a write.
      if (previous && contentOf(want, true) === contentOf(previous, true)) continue;
      const out = await this.deps.writes.apply(NODES, '', want, { withStatus: true });
      if (out.action === 'unchanged') continue;
      written.push(n.name);
      await this.recordChange(n.name, previous, out.object as V1Node);
    }
    const deleted = await this.removeGone(existing, discovered);
    if (written.length || deleted.length) this.deps.log?.info('nodes mirrored', { written, deleted });
    return { written, deleted };
  }

  private async recordChange(name: string, previous: V1Node | undefined, stored: V1Node): Promise<void> {
    const rec = this.deps.recorders?.node;
    if (!rec) return;
    if (!previous)
      await rec.event(stored, 'Normal', 'RegisteredNode', `Node ${name} event: Registered Node ${name} in Controller`);
    if (readyOf(previous) !== 'False' && readyOf(stored) === 'False')
      await rec.event(stored, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
  }

  /** Nodes whose instance was not discovered (terminated, or no longer selected) are deleted. */
  private async removeGone(existing: V1Node[], discovered: readonly NodeInfo[]): Promise<string[]> {
    const live = new Map(discovered.map((n) => [n.instanceId, n.name]));
    const deleted: string[] = [];
    for (const node of existing) {
      const name = node.metadata?.name ?? '';
      const id = instanceIdOf(node.spec?.providerID);
      // Still an instance of the cluster, under this name: kept. (A renamed instance's old Node goes.)
      if (id && live.get(id) === name) continue;
      try {
        await this.deps.writes.delete(NODES, '', name, { preconditions: { uid: node.metadata?.uid } });
      } catch (err) {
        if (err instanceof NotFoundError) continue;
        throw err;
      }
      deleted.push(name);
      await this.deps.recorders?.cloudNode.event(
        node,
        'Normal',
        'DeletingNode',
        `Deleting node ${name} because it does not exist in the cloud provider`,
      );
      await this.deps.recorders?.node.event(
        node,
        'Normal',
        'RemovingNode',
        `Node ${name} event: Removing Node ${name} from Controller`,
      );
    }
    return deleted;
  }
}

const unknownView = (instanceId: string): NodeDataPlaneView => ({ instanceId, state: 'Unknown', failures: 0 });
