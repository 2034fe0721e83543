/**
 * The managed security group's prefix lists and ICMP rule, NLBs without security groups, and the capacity
 * reservation, against moto: applied, observed back, and a second pass plans nothing.
 *
 * What moto (5.2) accepts: AuthorizeSecurityGroupIngress with PrefixListIds and with icmp / icmpv6, CreateLoadBalancer
 * without SecurityGroups, DescribeVpcs, and DescribeCapacityReservation (a stub answering "no reservation").
 * ModifyCapacityReservation is not implemented by moto (HTTP 500, an HTML page): setting or resetting a reservation is
 * covered by test/lb/payloads.test.ts (exact request) and test/lb/planner.test.ts (plans) only.
 * DescribeListenerAttributes and ModifyListenerAttributes are implemented (moto answers AWS's default 350 for
 * tcp.idle_timeout.seconds, and does not check the range: the annotation's validation does).
 */
import { describe, expect, it } from 'vitest';
import { CreateManagedPrefixListCommand, DescribeSecurityGroupsCommand, type IpPermission } from '@aws-sdk/client-ec2';
import { DescribeLoadBalancersCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { discoverNodes, planService, reconcileService } from '../../lib/lb/index.js';
import { observe } from '../../lib/lb/observe.js';
import { A, LISTENER_ATTRIBUTES_PREFIX } from '../../lib/model/annotations.js';
import { lbService, makeCluster, type Cluster } from './fixture.js';

async function stackState(c: Cluster, stack: string) {
  return (await observe(c.ctx, { stack })).stacks.get(stack);
}

async function nodeSgPermissions(c: Cluster): Promise<IpPermission[]> {
  const r = await c.clients.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [c.nodeSgId] }));
  return r.SecurityGroups![0]!.IpPermissions ?? [];
}

describe('listener attributes against moto', () => {
  it('tcp.idle_timeout.seconds: set on create, read back, changed in place, idempotent', async () => {
    const c = await makeCluster();
    await c.addNode();
    const nodes = await discoverNodes(c.clients.ec2, c.clusterName);
    const svc = (v: string) =>
      lbService('web', {
        ports: [
          { name: 'http', port: 80, nodePort: 30080 },
          { name: 'metrics', port: 9100, nodePort: 30100 },
        ],
        annotations: { [`${LISTENER_ATTRIBUTES_PREFIX}TCP-80`]: `tcp.idle_timeout.seconds=${v}` },
      });
    expect((await reconcileService(c.ctx, svc('400'), nodes)).error).toBeUndefined();
    const idle = async () =>
      Object.fromEntries(
        (await stackState(c, 'default/web'))!.loadBalancers[0]!.listeners.map((l) => [
          l.port,
          l.attributes?.['tcp.idle_timeout.seconds'],
        ]),
      );
    // The other listener keeps AWS's default.
    expect(await idle()).toEqual({ 80: '400', 9100: '350' });
    expect((await planService(c.ctx, svc('400'), nodes)).actions).toEqual([]);
    const plan = await planService(c.ctx, svc('1200'), nodes);
    expect(plan.actions.map((a) => `${a.op} ${a.kind}`)).toEqual(['update ListenerAttributes']);
    await reconcileService(c.ctx, svc('1200'), nodes);
    expect(await idle()).toEqual({ 80: '1200', 9100: '350' });
    expect((await planService(c.ctx, svc('1200'), nodes)).actions).toEqual([]);
  });
});

describe('security group annotations against moto', () => {
  it('prefix lists instead of 0.0.0.0/0 and ICMP for path MTU discovery: applied, read back, idempotent', async () => {
    const c = await makeCluster();
    await c.addNode();
    const nodes = await discoverNodes(c.clients.ec2, c.clusterName);
    const pl = await c.clients.ec2.send(
      new CreateManagedPrefixListCommand({
        PrefixListName: `${c.clusterName}-clients`,
        AddressFamily: 'IPv4',
        MaxEntries: 5,
      }),
    );
    const plId = pl.PrefixList!.PrefixListId!;
    const svc = lbService('web', {
      annotations: { [A.securityGroupPrefixLists]: plId, [A.icmpForPathMtuDiscovery]: 'on' },
    });
    expect((await reconcileService(c.ctx, svc, nodes)).error).toBeUndefined();
    const s = (await stackState(c, 'default/web'))!;
    // Only the prefix list on the listener port: no 0.0.0.0/0, hence no ICMP rule either (ICMP follows the CIDRs).
    expect(s.securityGroups[0]!.ingress).toEqual([{ protocol: 'tcp', fromPort: 80, toPort: 80, prefixListId: plId }]);
    expect((await planService(c.ctx, svc, nodes)).actions).toEqual([]);

    // Source ranges next to the list: CIDR, list and ICMP from the CIDR; the change is in place.
    const svc2 = lbService('web', {
      sourceRanges: ['203.0.113.0/24'],
      annotations: { [A.securityGroupPrefixLists]: plId, [A.icmpForPathMtuDiscovery]: 'on' },
    });
    await reconcileService(c.ctx, svc2, nodes);
    const s2 = (await stackState(c, 'default/web'))!;
    expect(s2.loadBalancers.map((l) => l.arn)).toEqual(s.loadBalancers.map((l) => l.arn));
    const rules = s2.securityGroups[0]!.ingress.map(
      (r) => `${r.protocol}/${r.fromPort}-${r.toPort}/${r.cidr ?? r.prefixListId}`,
    );
    expect(rules.sort()).toEqual(['icmp/3-4/203.0.113.0/24', `tcp/80-80/${plId}`, 'tcp/80-80/203.0.113.0/24'].sort());
    expect((await planService(c.ctx, svc2, nodes)).actions).toEqual([]);

    // Both removed: back to 0.0.0.0/0 only.
    await reconcileService(c.ctx, lbService('web'), nodes);
    expect((await stackState(c, 'default/web'))!.securityGroups[0]!.ingress).toEqual([
      { protocol: 'tcp', fromPort: 80, toPort: 80, cidr: '0.0.0.0/0' },
    ]);
    expect((await planService(c.ctx, lbService('web'), nodes)).actions).toEqual([]);
  });

  it('ICMPv6 on a dualstack NLB is applied and read back', async () => {
    const c = await makeCluster();
    await c.addNode();
    const nodes = await discoverNodes(c.clients.ec2, c.clusterName);
    const svc = lbService('v6', {
      sourceRanges: ['10.0.0.0/8', '2001:db8::/32'],
      annotations: { [A.icmpForPathMtuDiscovery]: 'on' },
    });
    expect((await reconcileService(c.ctx, svc, nodes)).error).toBeUndefined();
    const ingress = (await stackState(c, 'default/v6'))!.securityGroups[0]!.ingress;
    expect(ingress.filter((r) => r.protocol.startsWith('icmp'))).toEqual([
      { protocol: 'icmp', fromPort: 3, toPort: 4, cidr: '10.0.0.0/8' },
      { protocol: 'icmpv6', fromPort: 2, toPort: 0, cidr: '2001:db8::/32' },
    ]);
    expect((await planService(c.ctx, svc, nodes)).actions).toEqual([]);
  });

  it('disable-nlb-sg: NLB without SGs, CIDR rules on the node SG; switching it replaces the NLB both ways', async () => {
    const c = await makeCluster();
    await c.addNode();
    const nodes = await discoverNodes(c.clients.ec2, c.clusterName);
    const withSg = lbService('web', { sourceRanges: ['203.0.113.0/24'] });
    const noSg = lbService('web', { sourceRanges: ['203.0.113.0/24'], annotations: { [A.disableNlbSg]: 'true' } });
    await reconcileService(c.ctx, withSg, nodes);
    const before = (await stackState(c, 'default/web'))!;
    expect(before.loadBalancers[0]!.securityGroups).toHaveLength(1);

    const st = await reconcileService(c.ctx, noSg, nodes);
    expect(st.error).toBeUndefined();
    const s = (await stackState(c, 'default/web'))!;
    expect(s.loadBalancers).toHaveLength(1);
    const lb = s.loadBalancers[0]!;
    expect(lb.arn).not.toBe(before.loadBalancers[0]!.arn);
    expect(lb.securityGroups).toEqual([]);
    expect(st.hostname).toBe(lb.dnsName);
    const raw = await c.clients.elbv2.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [lb.arn] }));
    expect(raw.LoadBalancers![0]!.SecurityGroups ?? []).toEqual([]);
    // The managed SG is gone (deleted after the old NLB), the SG-to-SG node rule revoked, CIDR rules in its place.
    expect(s.securityGroups).toEqual([]);
    expect(s.nodePermissions.map((p) => `${p.protocol}:${p.fromPort}-${p.toPort}:${p.cidr}`).sort()).toEqual([
      'tcp:30080-30080:10.20.0.0/24',
      'tcp:30080-30080:10.20.1.0/24',
      'tcp:30080-30080:10.20.2.0/24',
      'tcp:30080-30080:203.0.113.0/24',
    ]);
    const perms = await nodeSgPermissions(c);
    expect(perms.flatMap((p) => p.UserIdGroupPairs ?? [])).toEqual([]);
    expect((await planService(c.ctx, noSg, nodes)).actions).toEqual([]);

    // And back: a new NLB with the managed SG, the CIDR rules revoked.
    await reconcileService(c.ctx, withSg, nodes);
    const back = (await stackState(c, 'default/web'))!;
    expect(back.loadBalancers).toHaveLength(1);
    expect(back.loadBalancers[0]!.arn).not.toBe(lb.arn);
    expect(back.loadBalancers[0]!.securityGroups).toEqual([back.securityGroups[0]!.groupId]);
    expect(back.nodePermissions.map((p) => [p.cidr, p.sourceGroupId])).toEqual([
      [undefined, back.securityGroups[0]!.groupId],
    ]);
    expect((await planService(c.ctx, withSg, nodes)).actions).toEqual([]);
  });

  it('disable-nlb-sg on an internal NLB: the VPC CIDR for clients, from DescribeVpcs', async () => {
    const c = await makeCluster();
    await c.addNode();
    const nodes = await discoverNodes(c.clients.ec2, c.clusterName);
    const svc = lbService('int', {
      annotations: { [A.disableNlbSg]: 'true', [A.scheme]: 'internal', [A.subnets]: c.subnetIds.join(',') },
    });
    expect((await reconcileService(c.ctx, svc, nodes)).error).toBeUndefined();
    const s = (await stackState(c, 'default/int'))!;
    // Health checks on the traffic port come from the NLB's subnets, inside the VPC's CIDR: no rule of their own.
    expect(s.nodePermissions.map((p) => `${p.protocol}:${p.fromPort}:${p.cidr}`)).toEqual(['tcp:30080:10.20.0.0/16']);
    expect((await planService(c.ctx, svc, nodes)).actions).toEqual([]);
  });

  it('capacity: DescribeCapacityReservation is read on every observation (moto: no reservation), nothing planned', async () => {
    const c = await makeCluster();
    await c.addNode();
    const nodes = await discoverNodes(c.clients.ec2, c.clusterName);
    await reconcileService(c.ctx, lbService('web'), nodes);
    const s = (await stackState(c, 'default/web'))!;
    expect(s.loadBalancers[0]!.minimumCapacityUnits).toBeUndefined();
    // CapacityUnits=0 asks for no reservation: nothing to do, so moto's missing ModifyCapacityReservation is not hit.
    const zero = lbService('web', { annotations: { [A.minimumCapacity]: 'CapacityUnits=0' } });
    expect((await planService(c.ctx, zero, nodes)).actions).toEqual([]);
    // A reservation is planned as ModifyCapacityReservation (which moto refuses: the request is in payloads.test.ts).
    const plan = await planService(
      c.ctx,
      lbService('web', { annotations: { [A.minimumCapacity]: 'CapacityUnits=500' } }),
      nodes,
    );
    expect(plan.actions).toEqual([
      {
        op: 'update',
        kind: 'LoadBalancerCapacity',
        name: s.loadBalancers[0]!.name,
        arn: s.loadBalancers[0]!.arn,
        capacityUnits: 500,
      },
    ]);
  });
});
