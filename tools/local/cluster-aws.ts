/**
 * The local cluster's AWS side, created in the local AWS (moto): a VPC with one subnet per AZ, a node security group,
 * and N EC2 instances carrying the cluster tag — the nodes. Everything is found by tag first, so running it twice
 * creates nothing new. The subnets carry both load-balancer role tags (`kubernetes.io/role/elb` and
 * `kubernetes.io/role/internal-elb`), so internet-facing and internal LoadBalancer Services both get their NLB here; a
 * real cluster usually splits them between public and private subnets.
 */
import {
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateRouteCommand,
  DescribeInternetGatewaysCommand,
  DescribeRouteTablesCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
  type EC2Client,
  type Instance,
} from '@aws-sdk/client-ec2';
import { defaultNodeSelector } from '../../lib/nodes/selector.js';

export interface LocalClusterAws {
  vpcId: string;
  subnetIds: string[];
  nodeSecurityGroupId: string;
}

export interface LocalNode {
  instanceId: string;
  privateIp: string;
  name: string;
  subnetId: string;
  state: string;
}

const VPC_CIDR = '172.31.0.0/16';
const ROLE_TAGS = [
  { Key: 'kubernetes.io/role/elb', Value: '1' },
  { Key: 'kubernetes.io/role/internal-elb', Value: '1' },
];
const AZ_SUFFIXES = ['a', 'b', 'c'];

function clusterTag(clusterName: string) {
  return { Key: `kubernetes.io/cluster/${clusterName}`, Value: 'owned' };
}

export async function ensureLocalClusterAws(
  ec2: EC2Client,
  clusterName: string,
  region: string,
): Promise<LocalClusterAws> {
  const tag = clusterTag(clusterName);
  const tagFilter = [{ Name: `tag:${tag.Key}`, Values: [tag.Value] }];
  let vpcId = (await ec2.send(new DescribeVpcsCommand({ Filters: tagFilter }))).Vpcs?.[0]?.VpcId;
  if (!vpcId) {
    const vpc = await ec2.send(
      new CreateVpcCommand({
        CidrBlock: VPC_CIDR,
        TagSpecifications: [{ ResourceType: 'vpc', Tags: [tag, { Key: 'Name', Value: `${clusterName}-vpc` }] }],
      }),
    );
    vpcId = vpc.Vpc!.VpcId!;
  }
  const subnetIds = await ensureSubnets(ec2, clusterName, region, vpcId);
  await ensureInternetGateway(ec2, vpcId, [tag, { Key: 'Name', Value: `${clusterName}-igw` }]);
  const sgName = `${clusterName}-nodes`;
  let sgId = (
    await ec2.send(
      new DescribeSecurityGroupsCommand({
        Filters: [...tagFilter, { Name: 'vpc-id', Values: [vpcId] }, { Name: 'group-name', Values: [sgName] }],
      }),
    )
  ).SecurityGroups?.[0]?.GroupId;
  if (!sgId) {
    const sg = await ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: sgName,
        Description: `nodes of cluster ${clusterName}`,
        VpcId: vpcId,
        TagSpecifications: [{ ResourceType: 'security-group', Tags: [tag, { Key: 'Name', Value: sgName }] }],
      }),
    );
    sgId = sg.GroupId!;
  }
  return { vpcId, subnetIds, nodeSecurityGroupId: sgId };
}

/** One subnet per AZ, tagged for the cluster and for both load-balancer roles (existing ones get missing tags). */
async function ensureSubnets(ec2: EC2Client, clusterName: string, region: string, vpcId: string): Promise<string[]> {
  const tag = clusterTag(clusterName);
  const existing =
    (await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }))).Subnets ?? [];
  const subnetIds: string[] = [];
  for (const [i, suffix] of AZ_SUFFIXES.entries()) {
    const cidr = `172.31.${i}.0/24`;
    const found = existing.find((s) => s.CidrBlock === cidr);
    if (found?.SubnetId) {
      // A local AWS created by an older version may lack a role tag: CreateTags is idempotent.
      await ec2.send(new CreateTagsCommand({ Resources: [found.SubnetId], Tags: ROLE_TAGS }));
      subnetIds.push(found.SubnetId);
      continue;
    }
    const s = await ec2.send(
      new CreateSubnetCommand({
        VpcId: vpcId,
        CidrBlock: cidr,
        AvailabilityZone: `${region}${suffix}`,
        TagSpecifications: [
          {
            ResourceType: 'subnet',
            Tags: [tag, ...ROLE_TAGS, { Key: 'Name', Value: `${clusterName}-${suffix}` }],
          },
        ],
      }),
    );
    subnetIds.push(s.Subnet!.SubnetId!);
  }
  return subnetIds;
}

function toLocalNode(i: Instance): LocalNode {
  return {
    instanceId: i.InstanceId!,
    privateIp: i.PrivateIpAddress ?? '',
    name: i.PrivateDnsName || i.InstanceId!,
    subnetId: i.SubnetId ?? '',
    state: i.State?.Name ?? 'unknown',
  };
}

/** The local cluster's nodes: instances the (default) node selector matches, pending or running (or any state). */
export async function listLocalNodes(
  ec2: EC2Client,
  clusterName: string,
  states: string[] = ['pending', 'running'],
): Promise<LocalNode[]> {
  const sel = defaultNodeSelector(clusterName);
  const out: LocalNode[] = [];
  let token: string | undefined;
  do {
    const page = await ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: `tag:${sel.key}`, Values: sel.values },
          { Name: 'instance-state-name', Values: states },
        ],
        NextToken: token,
      }),
    );
    for (const r of page.Reservations ?? []) for (const i of r.Instances ?? []) out.push(toLocalNode(i));
    token = page.NextToken;
  } while (token);
  return out.sort((a, b) => a.privateIp.localeCompare(b.privateIp, 'en', { numeric: true }));
}

let cachedImage: string | undefined;
async function nodeImage(ec2: EC2Client): Promise<string> {
  if (cachedImage) return cachedImage;
  const imgs = await ec2.send(
    new DescribeImagesCommand({ Owners: ['amazon'], Filters: [{ Name: 'name', Values: ['al2023-ami-*-x86_64'] }] }),
  );
  cachedImage = imgs.Images?.[0]?.ImageId ?? 'ami-12c6146b';
  return cachedImage;
}

/**
 * Node i (0-based) lives at 172.31.0.<11 + i> in the first subnet: the local data plane's VPC is one bridge
 * (tools/netns), so every node shares one /24, like nodes of one subnet; the other subnets still give load balancers
 * one subnet per AZ.
 */
export function localNodeAddress(index: number): { subnetIndex: number; ip: string } {
  return { subnetIndex: 0, ip: `172.31.0.${11 + index}` };
}

/** The first node index whose address no instance holds (moto keeps a terminated instance's private address). */
export async function freeLocalNodeIndex(ec2: EC2Client, clusterName: string): Promise<number> {
  const all = ['pending', 'running', 'shutting-down', 'terminated', 'stopping', 'stopped'];
  const used = new Set((await listLocalNodes(ec2, clusterName, all)).map((n) => n.privateIp));
  let index = 0;
  while (used.has(localNodeAddress(index).ip)) index++;
  return index;
}

export async function launchLocalNode(
  ec2: EC2Client,
  clusterName: string,
  aws: LocalClusterAws,
  index: number,
): Promise<LocalNode> {
  const { subnetIndex, ip } = localNodeAddress(index);
  const r = await ec2.send(
    new RunInstancesCommand({
      ImageId: await nodeImage(ec2),
      InstanceType: 't3.medium',
      MinCount: 1,
      MaxCount: 1,
      SubnetId: aws.subnetIds[subnetIndex],
      PrivateIpAddress: ip,
      SecurityGroupIds: [aws.nodeSecurityGroupId],
      TagSpecifications: [
        {
          ResourceType: 'instance',
          Tags: [clusterTag(clusterName), { Key: 'Name', Value: `${clusterName}-node-${index}` }],
        },
      ],
    }),
  );
  return toLocalNode(r.Instances![0]!);
}

export async function terminateLocalNode(ec2: EC2Client, instanceId: string): Promise<void> {
  await ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
}

/**
 * Makes the VPC's main route table route 0.0.0.0/0 to an internet gateway, so its subnets are public (internet-facing
 * NLBs only go to public subnets, as on AWS). Idempotent.
 */
export async function ensureInternetGateway(
  ec2: EC2Client,
  vpcId: string,
  tags: { Key: string; Value: string }[] = [],
): Promise<string> {
  let igw = (
    await ec2.send(new DescribeInternetGatewaysCommand({ Filters: [{ Name: 'attachment.vpc-id', Values: [vpcId] }] }))
  ).InternetGateways?.[0]?.InternetGatewayId;
  if (!igw) {
    igw = (
      await ec2.send(
        new CreateInternetGatewayCommand({
          TagSpecifications: tags.length ? [{ ResourceType: 'internet-gateway', Tags: tags }] : undefined,
        }),
      )
    ).InternetGateway!.InternetGatewayId!;
    await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: vpcId }));
  }
  const main = (
    await ec2.send(
      new DescribeRouteTablesCommand({
        Filters: [
          { Name: 'vpc-id', Values: [vpcId] },
          { Name: 'association.main', Values: ['true'] },
        ],
      }),
    )
  ).RouteTables?.[0];
  if (main && !(main.Routes ?? []).some((r) => r.GatewayId === igw)) {
    await ec2.send(
      new CreateRouteCommand({ RouteTableId: main.RouteTableId, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw }),
    );
  }
  return igw;
}
