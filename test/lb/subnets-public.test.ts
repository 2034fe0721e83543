/** Internet-facing NLBs only go to public subnets (route to an internet gateway), as cloud-provider-aws decides. */
import { CreateRouteTableCommand, AssociateRouteTableCommand } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { markPublic, selectSubnets, type SubnetInfo } from '../../lib/lb/subnets.js';
import { ensureLocalClusterAws } from '../../tools/local/cluster-aws.js';
import { reconcileService } from '../../lib/lb/index.js';
import { Throttle } from '../../lib/aws/throttle.js';
import { defaultService } from '../../lib/model/defaults.js';
import { motoClients, uniqueName } from '../support/aws.js';

const sub = (id: string, az: string, tags: Record<string, string> = {}): SubnetInfo => ({
  subnetId: id,
  availabilityZone: az,
  vpcId: 'vpc-1',
  tags,
});

describe('public subnet check', () => {
  const subnets = [sub('subnet-a1', 'a'), sub('subnet-a2', 'a'), sub('subnet-b1', 'b'), sub('subnet-c1', 'c')];
  const tables = [
    { main: true, subnetIds: [], toInternetGateway: false },
    { main: false, subnetIds: ['subnet-a2', 'subnet-b1'], toInternetGateway: true },
  ];

  it('uses the explicitly associated route table, else the main one', () => {
    expect(markPublic(subnets, tables).map((s) => [s.subnetId, s.public])).toEqual([
      ['subnet-a1', false],
      ['subnet-a2', true],
      ['subnet-b1', true],
      ['subnet-c1', false],
    ]);
  });

  it('internet-facing skips private subnets even when they would win the tie; internal takes them', () => {
    const marked = markPublic(subnets, tables);
    expect(selectSubnets(marked, 'c1', 'internet-facing').subnets!.map((s) => s.subnetId)).toEqual([
      'subnet-a2',
      'subnet-b1',
    ]);
    expect(selectSubnets(marked, 'c1', 'internal').subnets!.map((s) => s.subnetId)).toEqual([
      'subnet-a1',
      'subnet-b1',
      'subnet-c1',
    ]);
    const none = selectSubnets(markPublic(subnets, [tables[0]!]), 'c1', 'internet-facing');
    expect(none.error).toContain('routed to an internet gateway');
  });

  it('against moto: a subnet moved to a route table without an internet gateway is no longer used', async () => {
    const clients = motoClients();
    const cluster = uniqueName('pub');
    const aws = await ensureLocalClusterAws(clients.ec2, cluster, 'us-east-1');
    // Make the first subnet private: its own route table with only the local route.
    const rt = await clients.ec2.send(new CreateRouteTableCommand({ VpcId: aws.vpcId }));
    await clients.ec2.send(
      new AssociateRouteTableCommand({ RouteTableId: rt.RouteTable!.RouteTableId, SubnetId: aws.subnetIds[0] }),
    );
    const ctx = {
      clients: { ec2: clients.ec2, elbv2: clients.elbv2 },
      clusterName: cluster,
      vpcId: aws.vpcId,
      nlbQuota: 50,
      throttle: new Throttle(),
    };
    const svc = defaultService({
      metadata: { name: 'web', namespace: 'default', uid: '11111111-2222-3333-4444-555555555555' },
      spec: { type: 'LoadBalancer', clusterIP: '10.96.0.77', ports: [{ port: 80, nodePort: 30080 }] },
    });
    const st = await reconcileService(ctx, svc, []);
    expect(st.error).toBeUndefined();
    const { DescribeLoadBalancersCommand } = await import('@aws-sdk/client-elastic-load-balancing-v2');
    const lbs = (await clients.elbv2.send(new DescribeLoadBalancersCommand({}))).LoadBalancers ?? [];
    const ours = lbs.find((l) => l.DNSName === st.hostname)!;
    expect(ours.AvailabilityZones!.map((z) => z.SubnetId).sort()).toEqual(aws.subnetIds.slice(1).sort());
  });
});
