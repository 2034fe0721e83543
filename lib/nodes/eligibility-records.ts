/**
 * What each cluster Node object says about its instance's eligibility as a load-balancer target (cluster mode), as
 * one record per Node in the controller's table: written by the cluster watcher, read by the controller's node pass.
 *
 * Pure of the AWS SDK: everything goes through RecordStore.
 */
import type { RecordStore } from '../store/types.js';

export const NODE_RECORD_KIND = 'cluster-node';

/** What a cluster's Node object says about its instance (lib/cluster/nodes.ts computes it). */
export interface NodeEligibility {
  /** The Node's name in the cluster. */
  name: string;
  instanceId: string;
  /** The Node's labels: `aws-load-balancer-target-node-labels` matches these in cluster mode, as upstream does. */
  labels: Record<string, string>;
  /** Why the node must not be a target (exclusion label, autoscaler or Karpenter taint); absent when eligible. */
  excluded?: string;
}

/** One record per cluster Node, so a cluster of thousands of nodes never meets DynamoDB's 400 KB item limit. */
export class NodeEligibilityRecords {
  constructor(private readonly records: RecordStore) {}
  async list(): Promise<NodeEligibility[]> {
    return (await this.records.listRecords<NodeEligibility>(NODE_RECORD_KIND)).map((r) => r.data);
  }
  async put(e: NodeEligibility): Promise<void> {
    await this.records.putRecord(NODE_RECORD_KIND, e.instanceId, e);
  }
  async delete(instanceId: string): Promise<void> {
    await this.records.deleteRecord(NODE_RECORD_KIND, instanceId);
  }
}
