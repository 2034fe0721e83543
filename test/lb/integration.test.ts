import { describe, expect, it } from 'vitest';
import { CreateSecurityGroupCommand, DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import {
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  deleteServiceLoadBalancer,
  discoverNodes,
  planService,
  reconcileAll,
  reconcileService,
  sweep,
} from '../../lib/lb/index.js';
import { observe } from '../../lib/lb/observe.js';
import { A } from '../../lib/model/annotations.js';
import { lbService, makeCluster, type Cluster } from './fixture.js';

async function stackState(c: Cluster, stack: string) {
  const w = await observe(c.ctx, { stack });
  return w.stacks.get(stack);
}

describe('LoadBalancer Services against moto', () => {
  it('creates one tagged NLB with a TG per port, every eligible node registered at the NodePort, then updates and deletes', async () => {
    const c = await makeCluster();
    const n1 = await c.addNode({}, 0);
    const n2 = await c.addNode({}, 1);
    const excluded = await c.addNode({ 'node.kubernetes.io/exclude-from-external-load-balancers': '' }, 2);
    const svc = lbService('web', {
      ports: [
        { name: 'http', port: 80, nodePort: 30080 },
        { name: 'dns', port: 53, nodePort: 30053, protocol: 'UDP' },
        { name: 'dns-tcp', port: 53, nodePort: 30053, protocol: 'TCP' },
      ],
      annotations: { [A.additionalTags]: 'team=web' },
    });
    const nodes = await discoverNodes(c.clients.ec2, c.clusterName);
    expect(nodes.map((n) => n.instanceId).sort()).toEqual([n1, n2, excluded].sort());

    const st = await reconcileService(c.ctx, svc, nodes);
    expect(st.error).toBeUndefined();
    expect(st.hostname).toMatch(/elb/);

    const s = (await stackState(c, 'default/web'))!;
    expect(s.loadBalancers).toHaveLength(1);
    const lb = s.loadBalancers[0]!;
    expect(lb.dnsName).toBe(st.hostname);
    // Straight from the API too, not only through our own observation.
    const raw = await c.clients.elbv2.send(new DescribeTagsCommand({ ResourceArns: [lb.arn] }));
    expect(raw.TagDescriptions?.[0]?.Tags).toContainEqual({
      Key: `kubernetes.io/cluster/${c.clusterName}`,
      Value: 'owned',
    });
    expect(lb.name.length).toBeLessThanOrEqual(32);
    expect(lb.tags).toMatchObject({
      [`kubernetes.io/cluster/${c.clusterName}`]: 'owned',
      'kubernetes.io/service-name': 'default/web',
      'service.k8s.aws/stack': 'default/web',
      'service.k8s.aws/resource': 'LoadBalancer',
      'service.k8s.aws/service-uid': 'uid-web',
      team: 'web',
    });
    expect(lb.scheme).toBe('internet-facing');
    expect(lb.subnetMappings.map((m) => m.subnetId).sort()).toEqual([...c.subnetIds].sort());
    expect(s.targetGroups.map((t) => `${t.protocol}:${t.port}`).sort()).toEqual(['TCP:30080', 'TCP_UDP:30053']);
    for (const tg of s.targetGroups) {
      expect(tg.targets).toEqual([n1, n2].sort());
      const h = await c.clients.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg.arn }));
      expect(h.TargetHealthDescriptions?.map((d) => d.Target?.Port)).toEqual([tg.port, tg.port]);
    }
    const listeners = (await c.clients.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lb.arn })))
      .Listeners!;
    expect(listeners.map((l) => `${l.Protocol}:${l.Port}`).sort()).toEqual(['TCP:80', 'TCP_UDP:53']);
    expect(s.securityGroups).toHaveLength(1);
    expect(s.securityGroups[0]!.ingress.map((r) => `${r.protocol}/${r.fromPort}/${r.cidr}`).sort()).toEqual([
      'tcp/53/0.0.0.0/0',
      'tcp/80/0.0.0.0/0',
      'udp/53/0.0.0.0/0',
    ]);
    expect(lb.securityGroups).toEqual([s.securityGroups[0]!.groupId]);
    expect(s.nodePermissions.map((p) => `${p.protocol}:${p.fromPort}-${p.toPort}:${p.sourceGroupId}`).sort()).toEqual([
      `tcp:30053-30080:${s.securityGroups[0]!.groupId}`,
      `udp:30053-30053:${s.securityGroups[0]!.groupId}`,
    ]);

    // Steady state: the plan is empty.
    expect((await planService(c.ctx, svc, nodes)).actions).toEqual([]);

    // Update: a port removed, one added, source ranges set, a node joins, another leaves.
    const n3 = await c.addNode({}, 2);
    await c.terminate(n2);
    const svc2 = lbService('web', {
      ports: [
        { name: 'http', port: 80, nodePort: 30080 },
        { name: 'https', port: 443, nodePort: 30443 },
      ],
      sourceRanges: ['10.0.0.0/8'],
      annotations: { [A.additionalTags]: 'team=web' },
    });
    const nodes2 = await discoverNodes(c.clients.ec2, c.clusterName);
    const plan = await planService(c.ctx, svc2, nodes2);
    expect(plan.actions.some((a) => a.kind === 'LoadBalancer')).toBe(false); // no replacement of the NLB
    await reconcileService(c.ctx, svc2, nodes2);
    const s2 = (await stackState(c, 'default/web'))!;
    expect(s2.loadBalancers.map((l) => l.arn)).toEqual([lb.arn]);
    expect(s2.targetGroups.map((t) => `${t.protocol}:${t.port}`).sort()).toEqual(['TCP:30080', 'TCP:30443']);
    for (const tg of s2.targetGroups) expect(tg.targets).toEqual([n1, n3].sort());
    expect(s2.securityGroups[0]!.ingress.map((r) => `${r.protocol}/${r.fromPort}/${r.cidr}`).sort()).toEqual([
      'tcp/443/10.0.0.0/8',
      'tcp/80/10.0.0.0/8',
    ]);
    expect((await planService(c.ctx, svc2, nodes2)).actions).toEqual([]);

    // Type changed away from LoadBalancer: everything goes.
    const asClusterIp = { ...svc2, spec: { ...svc2.spec, type: 'ClusterIP' } };
    await reconcileService(c.ctx, asClusterIp, nodes2);
    expect(await stackState(c, 'default/web')).toBeUndefined();
    const nodeSg = await c.clients.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [c.nodeSgId] }));
    expect(nodeSg.SecurityGroups![0]!.IpPermissions ?? []).toEqual([]);
  });

  it('scheme change replaces the NLB; delete is idempotent; sweep removes orphans only; foreign resources untouched', async () => {
    const c = await makeCluster();
    await c.addNode();
    const nodes = await discoverNodes(c.clients.ec2, c.clusterName);
    // Foreign resources in the same VPC: an untagged NLB and TG with names like ours.
    const foreignLb = await c.clients.elbv2.send(
      new CreateLoadBalancerCommand({
        Name: `k8s-default-${c.clusterName.slice(-8)}`,
        Type: 'network',
        Subnets: c.subnetIds,
      }),
    );
    const foreignTg = await c.clients.elbv2.send(
      new CreateTargetGroupCommand({
        Name: `k8s-x-${c.clusterName.slice(-8)}`,
        Protocol: 'TCP',
        Port: 30080,
        VpcId: c.vpcId,
      }),
    );
    // Another cluster in the same account with a Service of the same name.
    const other = await makeCluster();
    await other.addNode();
    const otherSvc = lbService('api');
    await reconcileService(other.ctx, otherSvc, await discoverNodes(other.clients.ec2, other.clusterName));

    const svc = lbService('api');
    const st = await reconcileService(c.ctx, svc, nodes);
    const first = (await stackState(c, 'default/api'))!.loadBalancers[0]!;
    const internal = lbService('api', { annotations: { [A.scheme]: 'internal' } });
    // Internal needs subnets with the internal role or untagged-role: ours are role/elb only, so name them.
    internal.metadata!.annotations![A.subnets] = c.subnetIds.join(',');
    const st2 = await reconcileService(c.ctx, internal, nodes);
    expect(st2.error).toBeUndefined();
    const s = (await stackState(c, 'default/api'))!;
    expect(s.loadBalancers).toHaveLength(1);
    expect(s.loadBalancers[0]!.scheme).toBe('internal');
    expect(s.loadBalancers[0]!.arn).not.toBe(first.arn);
    expect(st2.hostname).not.toBe(st.hostname);
    expect(s.targetGroups).toHaveLength(1);

    // A crash-orphan of a deleted Service: create then sweep with no live keys except "default/kept".
    await reconcileService(c.ctx, lbService('kept', { ports: [{ port: 81, nodePort: 30081 }] }), nodes);
    const swept = await sweep(c.ctx, ['default/kept']);
    expect(swept.deleted).toEqual(['default/api']);
    expect(await stackState(c, 'default/api')).toBeUndefined();
    expect(await stackState(c, 'default/kept')).toBeDefined();

    await deleteServiceLoadBalancer(c.ctx, 'default/kept');
    await deleteServiceLoadBalancer(c.ctx, 'default/kept'); // idempotent
    expect((await observe(c.ctx)).stacks.size).toBe(0);

    // Foreign resources and the other cluster's stack are intact.
    const lbs = (
      await c.clients.elbv2.send(
        new DescribeLoadBalancersCommand({ LoadBalancerArns: [foreignLb.LoadBalancers![0]!.LoadBalancerArn!] }),
      )
    ).LoadBalancers;
    expect(lbs).toHaveLength(1);
    const tgs = (
      await c.clients.elbv2.send(
        new DescribeTargetGroupsCommand({ TargetGroupArns: [foreignTg.TargetGroups![0]!.TargetGroupArn!] }),
      )
    ).TargetGroups;
    expect(tgs).toHaveLength(1);
    expect((await stackState(other, 'default/api'))!.loadBalancers).toHaveLength(1);
    await deleteServiceLoadBalancer(other.ctx, 'default/api');
  });

  it('reconcileAll registers a joining node once per target group and leaves steady state untouched', async () => {
    const c = await makeCluster();
    await c.addNode();
    let nodes = await discoverNodes(c.clients.ec2, c.clusterName);
    const svcs = [0, 1, 2].map((i) =>
      lbService(`s${i}`, {
        ports: [
          { port: 80, nodePort: 30100 + i },
          { port: 81, nodePort: 30200 + i },
        ],
      }),
    );
    const r = await reconcileAll(c.ctx, svcs, nodes);
    expect(r.requeue.size).toBe(0);
    expect([...r.statuses.values()].every((s) => s.hostname)).toBe(true);
    const joined = await c.addNode({}, 1);
    nodes = await discoverNodes(c.clients.ec2, c.clusterName);
    await reconcileAll(c.ctx, svcs, nodes, { scope: 'targets' });
    const w = await observe(c.ctx);
    expect(w.stacks.size).toBe(3);
    for (const s of w.stacks.values()) for (const tg of s.targetGroups) expect(tg.targets).toContain(joined);
    for (const svc of svcs) expect((await planService(c.ctx, svc, nodes)).actions).toEqual([]);
    const sw = await sweep(c.ctx, []);
    expect([...sw.requeue.values()]).toEqual([]);
    expect((await observe(c.ctx)).stacks.size).toBe(0);
  });

  it('an invalid annotation is reported in status and changes nothing', async () => {
    const c = await makeCluster();
    const st = await reconcileService(c.ctx, lbService('bad', { annotations: { [A.hcInterval]: '1' } }), []);
    expect(st.error).toContain('health check interval');
    expect(st.hostname).toBeUndefined();
    expect((await observe(c.ctx)).stacks.size).toBe(0);
  });

  it('user security groups replace the managed SG; loadBalancerClass of another controller is ignored; a node leaving is deregistered', async () => {
    const c = await makeCluster();
    const keep = await c.addNode({}, 0);
    const leaving = await c.addNode({}, 1);
    let nodes = await discoverNodes(c.clients.ec2, c.clusterName);
    const userSg = await c.clients.ec2.send(
      new CreateSecurityGroupCommand({ GroupName: `${c.clusterName}-edge`, Description: 'edge', VpcId: c.vpcId }),
    );
    const svc = lbService('edge', { annotations: { [A.securityGroups]: `${c.clusterName}-edge` } });
    const st = await reconcileService(c.ctx, svc, nodes);
    expect(st.error).toBeUndefined();
    const s = (await stackState(c, 'default/edge'))!;
    expect(s.loadBalancers[0]!.securityGroups).toEqual([userSg.GroupId]);
    expect(s.securityGroups).toEqual([]); // no managed SG
    expect(s.nodePermissions).toEqual([]); // user SGs: backend rules only when asked for

    const other = { ...lbService('other'), spec: { ...lbService('other').spec, loadBalancerClass: 'example.com/lb' } };
    const st2 = await reconcileService(c.ctx, other, nodes);
    expect(st2.warnings[0]).toContain('handled by another controller');
    expect(await stackState(c, 'default/other')).toBeUndefined();

    await c.terminate(leaving);
    nodes = await discoverNodes(c.clients.ec2, c.clusterName);
    const r = await reconcileAll(c.ctx, [svc, other], nodes, { scope: 'targets' });
    expect(r.requeue.size).toBe(0);
    expect((await stackState(c, 'default/edge'))!.targetGroups[0]!.targets).toEqual([keep]);
    await deleteServiceLoadBalancer(c.ctx, 'default/edge');
    // The user's SG is not ours: it survives the delete.
    const g = await c.clients.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [userSg.GroupId!] }));
    expect(g.SecurityGroups).toHaveLength(1);
  });

  it('sweep removes a managed SG orphaned by a crash before the NLB was created', async () => {
    const c = await makeCluster();
    const plan = await planService(c.ctx, lbService('half'), []);
    const { applyPlan } = await import('../../lib/lb/apply/index.js');
    // Apply only the first two actions (create SG, authorize its rules), as if the process died right after.
    await applyPlan(c.ctx, { ...plan, actions: plan.actions.slice(0, 2) });
    expect((await stackState(c, 'default/half'))!.securityGroups).toHaveLength(1);
    const r = await sweep(c.ctx, []);
    expect(r.deleted).toEqual(['default/half']);
    expect(await stackState(c, 'default/half')).toBeUndefined();
  });
});
