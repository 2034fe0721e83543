/**
 * EC2 node discovery: ONE paginated DescribeInstances per reconcile pass, filtered server-side on the cluster tag
 * (`kubernetes.io/cluster/<cluster>` = owned|shared, the cloud-provider-aws convention) and on instance state, so the
 * response holds only this cluster's nodes. Callers pass the result to every Service of the pass.
 */
import { DescribeInstancesCommand, type EC2Client, type Instance } from '@aws-sdk/client-ec2';
import type { NodeInfo } from '../model/types.js';
import { clusterTagKey } from '../lb/tags.js';

/** States still worth seeing: pending nodes are not targets yet, stopping ones must be deregistered. */
const STATES = ['pending', 'running', 'stopping', 'stopped'];

export function toNodeInfo(i: Instance): NodeInfo | undefined {
  if (!i.InstanceId) return undefined;
  const labels: Record<string, string> = {};
  for (const t of i.Tags ?? []) if (t.Key) labels[t.Key] = t.Value ?? '';
  return {
    name: i.PrivateDnsName || i.InstanceId,
    instanceId: i.InstanceId,
    privateIp: i.PrivateIpAddress ?? '',
    availabilityZone: i.Placement?.AvailabilityZone ?? '',
    state: i.State?.Name ?? 'unknown',
    labels,
  };
}

export async function discoverNodes(ec2: EC2Client, clusterName: string): Promise<NodeInfo[]> {
  const out: NodeInfo[] = [];
  let token: string | undefined;
  do {
    const r = await ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: `tag:${clusterTagKey(clusterName)}`, Values: ['owned', 'shared'] },
          { Name: 'instance-state-name', Values: STATES },
        ],
        MaxResults: 1000,
        NextToken: token,
      }),
    );
    for (const res of r.Reservations ?? []) {
      for (const i of res.Instances ?? []) {
        const n = toNodeInfo(i);
        if (n) out.push(n);
      }
    }
    token = r.NextToken;
  } while (token);
  return out.sort((a, b) => a.instanceId.localeCompare(b.instanceId));
}
