/**
 * EC2 node discovery: ONE paginated DescribeInstances per reconcile pass, filtered server-side on the node selector
 * (lib/nodes/selector.ts) and on instance state, so the response holds only this cluster's nodes. Callers pass the
 * result to every Service of the pass.
 */
import { paginateDescribeInstances, type EC2Client, type Filter, type Instance } from '@aws-sdk/client-ec2';
import type { NodeInfo } from '../model/types.js';
import { defaultNodeSelector, type NodeSelector } from './selector.js';

/** States still worth seeing: pending nodes are not targets yet, stopping ones must be deregistered. */
const STATES = ['pending', 'running', 'stopping', 'stopped'];

export function toNodeInfo(i: Instance): NodeInfo | undefined {
  if (!i.InstanceId) return undefined;
  const labels: Record<string, string> = {};
  for (const t of i.Tags ?? []) if (t.Key) labels[t.Key] = t.Value ?? '';
  const node: NodeInfo = {
    name: i.PrivateDnsName || i.InstanceId,
    instanceId: i.InstanceId,
    privateIp: i.PrivateIpAddress ?? '',
    availabilityZone: i.Placement?.AvailabilityZone ?? '',
    state: i.State?.Name ?? 'unknown',
    labels,
  };
  if (i.InstanceType) node.instanceType = i.InstanceType;
  if (i.Architecture) node.architecture = i.Architecture;
  if (i.Platform) node.platform = i.Platform;
  const ips = privateIps(i);
  if (ips.length) node.privateIps = ips;
  if (i.PublicIpAddress) node.publicIp = i.PublicIpAddress;
  if (i.PublicDnsName) node.publicDnsName = i.PublicDnsName;
  return node;
}

/**
 * cloud-provider-aws's node addresses: the private addresses of the network interfaces in use (each interface's
 * primary first), falling back to the instance's primary private address.
 */
function privateIps(i: Instance): string[] {
  const out: string[] = [];
  const add = (ip: string | undefined) => {
    if (ip && !out.includes(ip)) out.push(ip);
  };
  add(i.PrivateIpAddress);
  const inUse = (i.NetworkInterfaces ?? []).filter((n) => !n.Status || n.Status === 'in-use');
  inUse.sort((a, b) => (a.Attachment?.DeviceIndex ?? 0) - (b.Attachment?.DeviceIndex ?? 0));
  for (const n of inUse) for (const a of n.PrivateIpAddresses ?? []) add(a.PrivateIpAddress);
  return out;
}

/** A cluster name means the default selector (the cluster tag, owned or shared). */
export const selectorOf = (s: string | NodeSelector): NodeSelector =>
  typeof s === 'string' ? defaultNodeSelector(s) : s;

async function describe(ec2: EC2Client, filters: Filter[]): Promise<NodeInfo[]> {
  const out: NodeInfo[] = [];
  for await (const r of paginateDescribeInstances({ client: ec2 }, { Filters: filters, MaxResults: 1000 })) {
    for (const res of r.Reservations ?? []) {
      for (const i of res.Instances ?? []) {
        const n = toNodeInfo(i);
        if (n) out.push(n);
      }
    }
  }
  return out.sort((a, b) => a.instanceId.localeCompare(b.instanceId));
}

export function discoverNodes(ec2: EC2Client, selector: string | NodeSelector): Promise<NodeInfo[]> {
  const s = selectorOf(selector);
  return describe(ec2, [
    { Name: `tag:${s.key}`, Values: s.values },
    { Name: 'instance-state-name', Values: STATES },
  ]);
}

/**
 * One instance, in any state (a terminated instance stays visible for about an hour), but only when the node selector
 * matches: an EC2 event about an instance outside the cluster yields undefined, and so triggers nothing. A filter
 * rather than InstanceIds, because an unknown id is an error for InstanceIds and simply no match for a filter.
 */
export async function describeNode(
  ec2: EC2Client,
  selector: string | NodeSelector,
  instanceId: string,
): Promise<NodeInfo | undefined> {
  const s = selectorOf(selector);
  const found = await describe(ec2, [
    { Name: `tag:${s.key}`, Values: s.values },
    { Name: 'instance-id', Values: [instanceId] },
  ]);
  return found[0];
}
