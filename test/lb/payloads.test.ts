/** Exact AWS request payloads, with aws-sdk-client-mock (no network). */
import { describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  DescribeCapacityReservationCommand,
  ElasticLoadBalancingV2Client,
  ModifyCapacityReservationCommand,
  ModifyListenerAttributesCommand,
  ModifyLoadBalancerAttributesCommand,
  ModifyTargetGroupAttributesCommand,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { RequeueError } from '../../lib/errors.js';
import { SimulatedClock, Throttle, TokenBucket } from '../../lib/aws/throttle.js';
import type { LoadBalancerContext } from '../../lib/lb/context.js';
import { discoverNodes, reconcileService } from '../../lib/lb/index.js';
import { applyPlan } from '../../lib/lb/apply/index.js';
import { A, LISTENER_ATTRIBUTES_PREFIX } from '../../lib/model/annotations.js';
import type { NodeInfo } from '../../lib/model/types.js';
import { lbService } from './fixture.js';

function setup(opts: { existingNlbs?: number; quota?: number } = {}) {
  const ec2 = new EC2Client({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  const elbv2 = new ElasticLoadBalancingV2Client({
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
  });
  const e = mockClient(ec2);
  const l = mockClient(elbv2);
  e.on(DescribeSubnetsCommand).resolves({
    Subnets: [
      {
        SubnetId: 'subnet-a',
        AvailabilityZone: 'us-east-1a',
        VpcId: 'vpc-1',
        CidrBlock: '10.0.0.0/24',
        Tags: [{ Key: 'kubernetes.io/role/elb', Value: '1' }],
      },
      { SubnetId: 'subnet-b', AvailabilityZone: 'us-east-1b', VpcId: 'vpc-1', CidrBlock: '10.0.1.0/24', Tags: [] },
    ],
  });
  e.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: 'sg-nodes', IpPermissions: [] }] });
  e.on(CreateSecurityGroupCommand).resolves({ GroupId: 'sg-new' });
  e.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true });
  e.on(DescribeVpcsCommand).resolves({
    Vpcs: [
      {
        VpcId: 'vpc-1',
        CidrBlock: '10.0.0.0/16',
        CidrBlockAssociationSet: [
          { CidrBlock: '10.0.0.0/16', CidrBlockState: { State: 'associated' } },
          { CidrBlock: '100.64.0.0/16', CidrBlockState: { State: 'associated' } },
          { CidrBlock: '100.65.0.0/16', CidrBlockState: { State: 'disassociated' } },
        ],
      },
    ],
  });
  l.on(DescribeLoadBalancersCommand).resolves({
    LoadBalancers: Array.from({ length: opts.existingNlbs ?? 0 }, (_, i) => ({
      LoadBalancerArn: `arn:other/${i}`,
      Type: 'network',
    })),
  });
  l.on(DescribeTagsCommand).resolves({ TagDescriptions: [] });
  l.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [] });
  l.on(CreateLoadBalancerCommand).resolves({
    LoadBalancers: [{ LoadBalancerArn: 'arn:lb', DNSName: 'nlb-1.elb.us-east-1.amazonaws.com' }],
  });
  let tg = 0;
  l.on(CreateTargetGroupCommand).callsFake(() => ({ TargetGroups: [{ TargetGroupArn: `arn:tg/${++tg}` }] }));
  l.on(ModifyLoadBalancerAttributesCommand).resolves({});
  l.on(ModifyCapacityReservationCommand).resolves({});
  l.on(DescribeCapacityReservationCommand).resolves({});
  l.on(ModifyTargetGroupAttributesCommand).resolves({});
  l.on(RegisterTargetsCommand).resolves({});
  l.on(CreateListenerCommand).resolves({});
  const ctx: LoadBalancerContext = {
    clients: { ec2, elbv2 },
    clusterName: 'prod',
    vpcId: 'vpc-1',
    nodeSecurityGroupId: 'sg-nodes',
    nlbQuota: opts.quota ?? 50,
    throttle: new Throttle({ targetsRate: 1e6, targetsBurst: 1e6, elbv2Rate: 1e6, elbv2Burst: 1e6 }),
  };
  return { e, l, ctx };
}

const nodes = (n: number): NodeInfo[] =>
  Array.from({ length: n }, (_, i) => ({
    name: `n${i}`,
    instanceId: `i-${String(i).padStart(5, '0')}`,
    privateIp: `10.0.${Math.floor(i / 250)}.${i % 250}`,
    availabilityZone: i % 2 ? 'us-east-1a' : 'us-east-1b',
    state: 'running',
    labels: {},
  }));

const ownership = {
  'kubernetes.io/cluster/prod': 'owned',
  'kubernetes.io/service-name': 'shop/web',
  'service.k8s.aws/stack': 'shop/web',
  'service.k8s.aws/cluster': 'prod',
  'service.k8s.aws/service-uid': 'uid-web',
};
const asMap = (tags?: { Key?: string; Value?: string }[]) =>
  Object.fromEntries((tags ?? []).map((t) => [t.Key, t.Value]));

describe('AWS payloads', () => {
  it('every Create call carries the ownership tags itself; targets go in batches of at most 200', async () => {
    const { e, l, ctx } = setup();
    const svc = lbService('web', { namespace: 'shop', annotations: { [A.additionalTags]: 'team=shop' } });
    const st = await reconcileService(ctx, svc, nodes(450));
    expect(st).toEqual({ hostname: 'nlb-1.elb.us-east-1.amazonaws.com', warnings: [] });

    const lbIn = l.commandCalls(CreateLoadBalancerCommand)[0]!.args[0].input;
    expect(lbIn).toMatchObject({ Type: 'network', Scheme: 'internet-facing', SecurityGroups: ['sg-new'] });
    expect(lbIn.SubnetMappings).toEqual([{ SubnetId: 'subnet-a' }, { SubnetId: 'subnet-b' }]);
    expect(lbIn.Name!.length).toBeLessThanOrEqual(32);
    expect(asMap(lbIn.Tags)).toMatchObject({ ...ownership, team: 'shop', 'service.k8s.aws/resource': 'LoadBalancer' });

    const tgIn = l.commandCalls(CreateTargetGroupCommand)[0]!.args[0].input;
    expect(tgIn).toMatchObject({
      Protocol: 'TCP',
      Port: 30080,
      VpcId: 'vpc-1',
      TargetType: 'instance',
      HealthCheckProtocol: 'TCP',
      HealthCheckPort: 'traffic-port',
    });
    expect(asMap(tgIn.Tags)).toMatchObject({ ...ownership, 'service.k8s.aws/resource': 'tg/tcp-80' });

    const sgIn = e.commandCalls(CreateSecurityGroupCommand)[0]!.args[0].input;
    expect(asMap(sgIn.TagSpecifications![0]!.Tags)).toMatchObject({
      ...ownership,
      'service.k8s.aws/resource': 'ManagedLBSecurityGroup',
    });
    const listenerIn = l.commandCalls(CreateListenerCommand)[0]!.args[0].input;
    expect(listenerIn).toMatchObject({
      LoadBalancerArn: 'arn:lb',
      Protocol: 'TCP',
      Port: 80,
      DefaultActions: [{ Type: 'forward', TargetGroupArn: 'arn:tg/1' }],
    });
    expect(asMap(listenerIn.Tags)).toMatchObject(ownership);

    const regs = l.commandCalls(RegisterTargetsCommand).map((c) => c.args[0].input.Targets!);
    expect(regs.map((t) => t.length)).toEqual([200, 200, 50]);
    expect(regs.flat().every((t) => t.Port === 30080)).toBe(true);
    expect(new Set(regs.flat().map((t) => t.Id)).size).toBe(450);

    // The node SG gets ONE SG-to-SG rule, described with the stack, covering the NodePort.
    const auth = e.commandCalls(AuthorizeSecurityGroupIngressCommand).map((c) => c.args[0].input);
    const nodeRule = auth.find((a) => a.GroupId === 'sg-nodes')!;
    expect(nodeRule.IpPermissions).toEqual([
      {
        IpProtocol: 'tcp',
        FromPort: 30080,
        ToPort: 30080,
        UserIdGroupPairs: [{ GroupId: 'sg-new', Description: 'k8s-svc-lb prod shop/web' }],
      },
    ]);
  });

  it('TLS listener, Local health check and EIPs reach the API as the annotations say', async () => {
    const { l, ctx } = setup();
    const cert = 'arn:aws:acm:us-east-1:123456789012:certificate/abc';
    const svc = lbService('web', {
      namespace: 'shop',
      local: true,
      annotations: {
        [A.sslCert]: cert,
        [A.sslPolicy]: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
        [A.eipAllocations]: 'eipalloc-00000001,eipalloc-00000002',
      },
    });
    await reconcileService(ctx, svc, nodes(2));
    expect(l.commandCalls(CreateListenerCommand)[0]!.args[0].input).toMatchObject({
      Protocol: 'TLS',
      Certificates: [{ CertificateArn: cert }],
      SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
    });
    expect(l.commandCalls(CreateTargetGroupCommand)[0]!.args[0].input).toMatchObject({
      Protocol: 'TCP',
      HealthCheckProtocol: 'HTTP',
      HealthCheckPort: '32100',
      HealthCheckPath: '/healthz',
    });
    expect(l.commandCalls(CreateLoadBalancerCommand)[0]!.args[0].input.SubnetMappings).toEqual([
      { SubnetId: 'subnet-a', AllocationId: 'eipalloc-00000001' },
      { SubnetId: 'subnet-b', AllocationId: 'eipalloc-00000002' },
    ]);
  });

  it('quota: RequeueError naming TooManyLoadBalancers when full, a warning from 80 %, nothing created', async () => {
    const full = setup({ existingNlbs: 50 });
    await expect(reconcileService(full.ctx, lbService('web'), nodes(1))).rejects.toThrow(RequeueError);
    await expect(reconcileService(full.ctx, lbService('web'), nodes(1))).rejects.toThrow(
      /TooManyLoadBalancers: .*50 of 50/,
    );
    expect(full.l.commandCalls(CreateLoadBalancerCommand)).toHaveLength(0);
    expect(full.e.commandCalls(CreateSecurityGroupCommand)).toHaveLength(0);
    const near = setup({ existingNlbs: 39 });
    const st = await reconcileService(near.ctx, lbService('web'), nodes(1));
    expect(st.warnings).toEqual(['this account will use 40 of its 50 Network Load Balancers in this region']);
  });

  it('prefix lists and ICMP for path MTU discovery: the managed SG ingress, exactly', async () => {
    const { e, ctx } = setup();
    const svc = lbService('web', {
      namespace: 'shop',
      sourceRanges: ['203.0.113.0/24'],
      annotations: { [A.securityGroupPrefixLists]: 'pl-00000000', [A.icmpForPathMtuDiscovery]: 'on' },
    });
    expect((await reconcileService(ctx, svc, nodes(1))).error).toBeUndefined();
    const sgIn = e.commandCalls(AuthorizeSecurityGroupIngressCommand).map((c) => c.args[0].input);
    expect(sgIn.find((a) => a.GroupId === 'sg-new')!.IpPermissions).toEqual([
      { IpProtocol: 'icmp', FromPort: 3, ToPort: 4, IpRanges: [{ CidrIp: '203.0.113.0/24' }] },
      { IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '203.0.113.0/24' }] },
      { IpProtocol: 'tcp', FromPort: 80, ToPort: 80, PrefixListIds: [{ PrefixListId: 'pl-00000000' }] },
    ]);
    // Prefix lists without source ranges: no 0.0.0.0/0 (the annotation used to be accepted and leave it open).
    const only = setup();
    const svc2 = lbService('web', { namespace: 'shop', annotations: { [A.securityGroupPrefixLists]: 'pl-00000000' } });
    await reconcileService(only.ctx, svc2, nodes(1));
    const perms = only.e
      .commandCalls(AuthorizeSecurityGroupIngressCommand)
      .map((c) => c.args[0].input)
      .find((a) => a.GroupId === 'sg-new')!.IpPermissions;
    expect(perms).toEqual([
      { IpProtocol: 'tcp', FromPort: 80, ToPort: 80, PrefixListIds: [{ PrefixListId: 'pl-00000000' }] },
    ]);
  });

  it('ICMPv6 "packet too big" from the IPv6 ranges of a dualstack NLB', async () => {
    const { e, ctx } = setup();
    const svc = lbService('web', {
      namespace: 'shop',
      annotations: { [A.ipAddressType]: 'dualstack', [A.icmpForPathMtuDiscovery]: 'on' },
    });
    await reconcileService(ctx, svc, nodes(1));
    const perms = e
      .commandCalls(AuthorizeSecurityGroupIngressCommand)
      .map((c) => c.args[0].input)
      .find((a) => a.GroupId === 'sg-new')!.IpPermissions!;
    expect(perms.filter((p) => p.IpProtocol!.startsWith('icmp'))).toEqual([
      { IpProtocol: 'icmp', FromPort: 3, ToPort: 4, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
      { IpProtocol: 'icmpv6', FromPort: 2, ToPort: 0, Ipv6Ranges: [{ CidrIpv6: '::/0' }] },
    ]);
  });

  it('disable-nlb-sg: CreateLoadBalancer without SecurityGroups, no SG created, CIDR rules on the node SG', async () => {
    const { e, l, ctx } = setup();
    const svc = lbService('web', {
      namespace: 'shop',
      annotations: { [A.disableNlbSg]: 'true', [A.scheme]: 'internal', [A.subnets]: 'subnet-a,subnet-b' },
    });
    expect((await reconcileService(ctx, svc, nodes(1))).error).toBeUndefined();
    const lbIn = l.commandCalls(CreateLoadBalancerCommand)[0]!.args[0].input;
    expect(lbIn.SecurityGroups).toBeUndefined();
    expect('SecurityGroups' in lbIn && lbIn.SecurityGroups !== undefined).toBe(false);
    expect(e.commandCalls(CreateSecurityGroupCommand)).toHaveLength(0);
    // Internal, no source ranges: the VPC's associated CIDRs (one DescribeVpcs), the NodePort exactly.
    expect(e.commandCalls(DescribeVpcsCommand).map((c) => c.args[0].input)).toEqual([{ VpcIds: ['vpc-1'] }]);
    const auth = e.commandCalls(AuthorizeSecurityGroupIngressCommand).map((c) => c.args[0].input);
    expect(auth).toEqual(
      ['10.0.0.0/16', '100.64.0.0/16'].map((CidrIp) => ({
        GroupId: 'sg-nodes',
        IpPermissions: [
          {
            IpProtocol: 'tcp',
            FromPort: 30080,
            ToPort: 30080,
            IpRanges: [{ CidrIp, Description: 'k8s-svc-lb prod shop/web' }],
          },
        ],
      })),
    );
  });

  it('minimum-load-balancer-capacity: ModifyCapacityReservation on create; reset when removed', async () => {
    const { l, ctx } = setup();
    const svc = lbService('web', { namespace: 'shop', annotations: { [A.minimumCapacity]: 'CapacityUnits=1000' } });
    expect((await reconcileService(ctx, svc, nodes(1))).error).toBeUndefined();
    expect(l.commandCalls(ModifyCapacityReservationCommand).map((c) => c.args[0].input)).toEqual([
      { LoadBalancerArn: 'arn:lb', MinimumLoadBalancerCapacity: { CapacityUnits: 1000 } },
    ]);
    // The reset a removed annotation plans (planner.test.ts), as sent.
    const reset = setup();
    await applyPlan(reset.ctx, {
      stack: 'shop/web',
      warnings: [],
      actions: [{ op: 'update', kind: 'LoadBalancerCapacity', name: 'web', arn: 'arn:lb/x' }],
    });
    expect(reset.l.commandCalls(ModifyCapacityReservationCommand).map((c) => c.args[0].input)).toEqual([
      { LoadBalancerArn: 'arn:lb/x', ResetCapacityReservation: true },
    ]);
  });

  it('listener-attributes: ModifyListenerAttributes on the listener CreateListener returned, right after it', async () => {
    const { l, ctx } = setup();
    l.on(CreateListenerCommand).resolves({ Listeners: [{ ListenerArn: 'arn:listener/80' }] });
    l.on(ModifyListenerAttributesCommand).resolves({});
    const svc = lbService('web', {
      namespace: 'shop',
      annotations: { [`${LISTENER_ATTRIBUTES_PREFIX}TCP-80`]: 'tcp.idle_timeout.seconds=400' },
    });
    expect((await reconcileService(ctx, svc, nodes(1))).error).toBeUndefined();
    expect(l.commandCalls(ModifyListenerAttributesCommand).map((c) => c.args[0].input)).toEqual([
      { ListenerArn: 'arn:listener/80', Attributes: [{ Key: 'tcp.idle_timeout.seconds', Value: '400' }] },
    ]);
    const order = l.calls().map((c) => (c.args[0] as object).constructor.name);
    expect(order.indexOf('ModifyListenerAttributesCommand')).toBe(order.indexOf('CreateListenerCommand') + 1);
  });

  it('a bad value of the new annotations: the Service is refused, no AWS write at all', async () => {
    for (const annotations of <Record<string, string>[]>[
      { [A.securityGroupPrefixLists]: 'pl-zz' },
      { [A.disableNlbSg]: 'True' },
      { [A.icmpForPathMtuDiscovery]: 'enabled' },
      { [A.minimumCapacity]: 'CapacityUnits=1k' },
      { [`${LISTENER_ATTRIBUTES_PREFIX}TCP-80`]: 'tcp.idle_timeout.seconds=10' },
      { [`${LISTENER_ATTRIBUTES_PREFIX}TCP-8080`]: 'tcp.idle_timeout.seconds=100' },
    ]) {
      const { e, l, ctx } = setup();
      const st = await reconcileService(ctx, lbService('web', { namespace: 'shop', annotations }), nodes(1));
      expect(st.error, JSON.stringify(annotations)).toMatch(/metadata\.annotations\[service\.beta\.kubernetes\.io\//);
      const writes = [...e.calls(), ...l.calls()].map((c) => (c.args[0] as object).constructor.name);
      expect(
        writes.filter((n) => !/^Describe/.test(n)),
        JSON.stringify(annotations),
      ).toEqual([]);
    }
  });

  it('AWS TooManyLoadBalancers becomes a RequeueError saying so', async () => {
    const { l, ctx } = setup();
    l.on(CreateLoadBalancerCommand).rejects(Object.assign(new Error('quota'), { name: 'TooManyLoadBalancers' }));
    await expect(reconcileService(ctx, lbService('web'), nodes(1))).rejects.toThrow(/TooManyLoadBalancers/);
  });

  it('discoverNodes: one paginated DescribeInstances filtered on the cluster tag and state', async () => {
    const ec2 = new EC2Client({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    const m = mockClient(ec2);
    m.on(DescribeInstancesCommand)
      .resolvesOnce({
        Reservations: [
          {
            Instances: [
              {
                InstanceId: 'i-2',
                PrivateDnsName: 'ip-10-0-0-2.ec2.internal',
                State: { Name: 'running' },
                Tags: [{ Key: 'role', Value: 'edge' }],
                Placement: { AvailabilityZone: 'us-east-1a' },
                PrivateIpAddress: '10.0.0.2',
              },
            ],
          },
        ],
        NextToken: 't',
      })
      .resolvesOnce({
        Reservations: [{ Instances: [{ InstanceId: 'i-1', PrivateDnsName: '', State: { Name: 'stopped' } }] }],
      });
    const out = await discoverNodes(ec2, 'prod');
    expect(out.map((n) => [n.name, n.state])).toEqual([
      ['i-1', 'stopped'],
      ['ip-10-0-0-2.ec2.internal', 'running'],
    ]);
    expect(out[1]!.labels).toEqual({ role: 'edge' });
    const calls = m.commandCalls(DescribeInstancesCommand);
    expect(calls).toHaveLength(2);
    expect(calls[0]!.args[0].input.Filters).toEqual([
      { Name: 'tag:kubernetes.io/cluster/prod', Values: ['owned', 'shared'] },
      { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
    ]);
    expect(calls[1]!.args[0].input.NextToken).toBe('t');
  });
});

describe('token buckets on a simulated clock', () => {
  it('burst first, then the refill rate; FIFO across concurrent callers', async () => {
    const clock = new SimulatedClock();
    const b = new TokenBucket(4, 20, clock);
    const times: number[] = [];
    await Promise.all(Array.from({ length: 100 }, () => b.take().then(() => times.push(clock.now()))));
    expect(times.slice(0, 20).every((t) => t === 0)).toBe(true);
    // 80 more tokens at 4/s: the last is granted at 20 s.
    expect(times[99]).toBeCloseTo(20_000, 0);
    expect(times).toEqual([...times].sort((a, b2) => a - b2));
  });

  it('RegisterTargets/DeregisterTargets use the 4 rps bucket, everything else the 10 rps one', () => {
    const t = new Throttle({ clock: new SimulatedClock() });
    expect(t.bucketFor('RegisterTargetsCommand')).toBe(t.targets);
    expect(t.bucketFor('DeregisterTargetsCommand')).toBe(t.targets);
    expect(t.bucketFor('DescribeTargetHealthCommand')).toBe(t.elbv2);
    expect([t.targets.ratePerSecond, t.targets.burst, t.elbv2.ratePerSecond, t.elbv2.burst]).toEqual([4, 20, 10, 40]);
  });
});
