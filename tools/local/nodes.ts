/**
 * Simulated EC2 nodes joining and leaving the local cluster (`svcctl local node add|remove|list`). In AWS, EC2 emits
 * the instance state-change event; moto does not, so the same event is put on the local bus, where the running
 * local system's node-event loop picks it up exactly as the deployed rule would deliver it.
 */
import {
  freeLocalNodeIndex,
  launchLocalNode,
  listLocalNodes,
  terminateLocalNode,
  type LocalNode,
} from './cluster-aws.js';
import type { LocalTarget } from './target.js';
import { publishInstanceState } from './wiring.js';

export const listNodes = (t: LocalTarget): Promise<LocalNode[]> => listLocalNodes(t.clients.ec2, t.local.clusterName);

export async function addNode(t: LocalTarget): Promise<LocalNode> {
  const st = t.local;
  const index = await freeLocalNodeIndex(t.clients.ec2, st.clusterName);
  const node = await launchLocalNode(
    t.clients.ec2,
    st.clusterName,
    { vpcId: st.vpcId!, subnetIds: st.subnetIds!, nodeSecurityGroupId: st.nodeSecurityGroupId! },
    index,
  );
  await publishInstanceState(t.clients, t.busName, node.instanceId, 'running');
  return node;
}

/** The named node (instance id or name), or the newest one; undefined when there is no such node. */
export async function removeNode(t: LocalTarget, which?: string): Promise<LocalNode | undefined> {
  const nodes = await listNodes(t);
  const victim = which ? nodes.find((n) => n.instanceId === which || n.name === which) : nodes[nodes.length - 1];
  if (!victim) return undefined;
  await terminateLocalNode(t.clients.ec2, victim.instanceId);
  await publishInstanceState(t.clients, t.busName, victim.instanceId, 'terminated');
  return victim;
}
