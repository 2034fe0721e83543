/** A test-unique cluster in moto: its own VPC, subnets in three AZs, a node SG and tagged instances. */
import {
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeImagesCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
  type Tag,
} from '@aws-sdk/client-ec2';
import { ensureInternetGateway } from '../../tools/local/cluster-aws.js';
import type { AwsClients } from '../../lib/aws/clients.js';
import { Throttle } from '../../lib/aws/throttle.js';
import type { LoadBalancerContext } from '../../lib/lb/context.js';
import type { V1Service } from '../../lib/model/types.js';
import { motoClients, uniqueName } from '../support/aws.js';

export interface Cluster {
  clients: AwsClients;
  clusterName: string;
  vpcId: string;
  subnetIds: string[];
  nodeSgId: string;
  ctx: LoadBalancerContext;
  addNode(extraTags?: Record<string, string>, az?: number): Promise<string>;
  terminate(id: string): Promise<void>;
}

let ami: string | undefined;
const tags = (t: Record<string, string>): Tag[] => Object.entries(t).map(([Key, Value]) => ({ Key, Value }));

export async function makeCluster(opts: { clients?: AwsClients; nlbQuota?: number } = {}): Promise<Cluster> {
  const clients = opts.clients ?? motoClients();
  const clusterName = uniqueName('lbt');
  const vpc = await clients.ec2.send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16' }));
  const vpcId = vpc.Vpc!.VpcId!;
  await ensureInternetGateway(clients.ec2, vpcId); // public subnets for internet-facing NLBs
  const subnetIds: string[] = [];
  for (const [i, az] of ['us-east-1a', 'us-east-1b', 'us-east-1c'].entries()) {
    const s = await clients.ec2.send(
      new CreateSubnetCommand({
        VpcId: vpcId,
        CidrBlock: `10.20.${i}.0/24`,
        AvailabilityZone: az,
        TagSpecifications: [
          {
            ResourceType: 'subnet',
            Tags: tags({
              [`kubernetes.io/cluster/${clusterName}`]: 'shared',
              'kubernetes.io/role/elb': '1',
              Name: `pub-${i}`,
            }),
          },
        ],
      }),
    );
    subnetIds.push(s.Subnet!.SubnetId!);
  }
  const sg = await clients.ec2.send(
    new CreateSecurityGroupCommand({ GroupName: `${clusterName}-nodes`, Description: 'nodes', VpcId: vpcId }),
  );
  const nodeSgId = sg.GroupId!;
  if (!ami) {
    const imgs = await clients.ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }));
    ami = imgs.Images?.[0]?.ImageId ?? 'ami-12c6146b';
  }
  const ctx: LoadBalancerContext = {
    clients: { ec2: clients.ec2, elbv2: clients.elbv2 },
    clusterName,
    vpcId,
    nodeSecurityGroupId: nodeSgId,
    // The moto server is shared by parallel test files: other files' NLBs count too.
    nlbQuota: opts.nlbQuota ?? 100_000,
    throttle: new Throttle({ targetsRate: 1000, targetsBurst: 1000, elbv2Rate: 1000, elbv2Burst: 1000 }),
  };
  return {
    clients,
    clusterName,
    vpcId,
    subnetIds,
    nodeSgId,
    ctx,
    async addNode(extraTags = {}, az = 0) {
      const r = await clients.ec2.send(
        new RunInstancesCommand({
          ImageId: ami,
          MinCount: 1,
          MaxCount: 1,
          InstanceType: 't3.micro',
          SubnetId: subnetIds[az],
          SecurityGroupIds: [nodeSgId],
          TagSpecifications: [
            {
              ResourceType: 'instance',
              Tags: tags({ [`kubernetes.io/cluster/${clusterName}`]: 'owned', ...extraTags }),
            },
          ],
        }),
      );
      return r.Instances![0]!.InstanceId!;
    },
    async terminate(id) {
      await clients.ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    },
  };
}

export function lbService(
  name: string,
  opts: {
    namespace?: string;
    ports?: { name?: string; port: number; nodePort: number; protocol?: string }[];
    annotations?: Record<string, string>;
    local?: boolean;
    uid?: string;
    sourceRanges?: string[];
  } = {},
): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: opts.namespace ?? 'default',
      uid: opts.uid ?? `uid-${name}`,
      annotations: opts.annotations ?? {},
    },
    spec: {
      type: 'LoadBalancer',
      selector: { app: name },
      ports: (opts.ports ?? [{ name: 'http', port: 80, nodePort: 30080 }]).map((p) => ({
        name: p.name,
        port: p.port,
        nodePort: p.nodePort,
        protocol: p.protocol ?? 'TCP',
        targetPort: p.port,
      })),
      externalTrafficPolicy: opts.local ? 'Local' : 'Cluster',
      healthCheckNodePort: opts.local ? 32100 : undefined,
      loadBalancerSourceRanges: opts.sourceRanges,
    },
  };
}
