/**
 * Acceptance check against a private moto server with the aws CLI: reconcile one LoadBalancer Service, show
 * describe-load-balancers / describe-tags / describe-target-health, delete it, and count what is left (all zeros).
 *
 *   npx tsx bench/lb-acceptance.ts
 */
import { execFileSync } from 'node:child_process';
import {
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeImagesCommand,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { ensureInternetGateway } from '../tools/local/cluster-aws.js';
import { makeClients } from '../lib/aws/clients.js';
import { Throttle } from '../lib/aws/throttle.js';
import { deleteServiceLoadBalancer, discoverNodes, reconcileService } from '../lib/lb/index.js';
import { localAwsEnv, startMoto } from '../tools/local/moto.js';

const moto = await startMoto();
const env = { ...process.env, ...localAwsEnv(moto.endpoint) };
Object.assign(process.env, env);
// Arguments are fixed strings and ARNs returned by moto; execFileSync passes them without a shell.
const aws = (...args: string[]) =>
  JSON.parse(
    execFileSync('aws', ['--endpoint-url', moto.endpoint, '--output', 'json', ...args], { env, encoding: 'utf8' }),
  );
try {
  const c = makeClients();
  const vpcId = (await c.ec2.send(new CreateVpcCommand({ CidrBlock: '10.60.0.0/16' }))).Vpc!.VpcId!;
  await ensureInternetGateway(c.ec2, vpcId); // public subnets for internet-facing NLBs
  const subnetId = (
    await c.ec2.send(
      new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.60.1.0/24', AvailabilityZone: 'us-east-1a' }),
    )
  ).Subnet!.SubnetId!;
  const nodeSg = (await c.ec2.send(new CreateSecurityGroupCommand({ GroupName: 'n', Description: 'n', VpcId: vpcId })))
    .GroupId!;
  const ami = (await c.ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images?.[0]?.ImageId;
  await c.ec2.send(
    new RunInstancesCommand({
      ImageId: ami,
      MinCount: 3,
      MaxCount: 3,
      SubnetId: subnetId,
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'kubernetes.io/cluster/acc', Value: 'owned' }] }],
    }),
  );
  const ctx = {
    clients: { ec2: c.ec2, elbv2: c.elbv2 },
    clusterName: 'acc',
    vpcId,
    nodeSecurityGroupId: nodeSg,
    nlbQuota: 50,
    throttle: new Throttle(),
  };
  const nodes = await discoverNodes(c.ec2, 'acc');
  const st = await reconcileService(
    ctx,
    {
      metadata: { name: 'web', namespace: 'default', uid: 'u1' },
      spec: { type: 'LoadBalancer', ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }] },
    },
    nodes,
  );
  console.log('status', JSON.stringify(st));
  const lbs = aws('elbv2', 'describe-load-balancers').LoadBalancers;
  console.log(
    'describe-load-balancers:',
    lbs.map(
      (l: { LoadBalancerName: string; DNSName: string; Scheme: string }) =>
        `${l.LoadBalancerName} ${l.DNSName} ${l.Scheme}`,
    ),
  );
  const arn = lbs[0].LoadBalancerArn as string;
  console.log(
    'describe-tags:',
    JSON.stringify(aws('elbv2', 'describe-tags', '--resource-arns', arn).TagDescriptions[0].Tags),
  );
  const tg = aws('elbv2', 'describe-target-groups').TargetGroups[0];
  console.log('target group:', tg.TargetGroupName, tg.Protocol, tg.Port);
  const health = aws(
    'elbv2',
    'describe-target-health',
    '--target-group-arn',
    tg.TargetGroupArn,
  ).TargetHealthDescriptions;
  console.log(
    'describe-target-health:',
    health.map((h: { Target: { Id: string; Port: number } }) => `${h.Target.Id}:${h.Target.Port}`).sort(),
  );
  console.log(
    'running tagged instances:',
    nodes
      .filter((n) => n.state === 'running')
      .map((n) => n.instanceId)
      .sort(),
  );
  await deleteServiceLoadBalancer(ctx, 'default/web');
  const after = {
    lbs: aws('elbv2', 'describe-load-balancers').LoadBalancers.length,
    tgs: aws('elbv2', 'describe-target-groups').TargetGroups.length,
    sgs: aws('ec2', 'describe-security-groups', '--filters', 'Name=tag:kubernetes.io/cluster/acc,Values=owned')
      .SecurityGroups.length,
    nodeSgRules: (aws('ec2', 'describe-security-groups', '--group-ids', nodeSg).SecurityGroups[0].IpPermissions ?? [])
      .length,
  };
  console.log('after delete:', JSON.stringify(after));
} finally {
  await moto.stop();
}
