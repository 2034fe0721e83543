/**
 * Per-node data-plane status for operators (`svcctl get nodes`, and any API client that wants it): what each node of
 * the cluster holds compared with the latest push, and whether it is failing. Reads the same state the push path
 * writes (lib/dataplane/state-store.ts).
 */
import type { NodeInfo } from '../model/types.js';
import { nodeDataPlaneView, type NodeDataPlaneView, type RetryPolicy } from './node-status.js';
import type { DataPlaneStateStore } from './state-store.js';

export interface NodeReport extends NodeDataPlaneView {
  name: string;
  privateIp: string;
  /** EC2 instance state (running, stopped, ...). */
  instanceState: string;
}

export async function dataPlaneNodeReport(
  store: DataPlaneStateStore,
  nodes: readonly NodeInfo[],
  policy?: RetryPolicy,
): Promise<NodeReport[]> {
  const [last, statuses] = await Promise.all([store.getLastPush(), store.listNodes()]);
  const byId = new Map(statuses.map((s) => [s.instanceId, s]));
  return nodes.map((n) => ({
    ...nodeDataPlaneView(n.instanceId, byId.get(n.instanceId), last, policy),
    name: n.name,
    privateIp: n.privateIp,
    instanceState: n.state,
  }));
}
