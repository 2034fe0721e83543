/**
 * Duplicates left behind by retried creates (a create whose response was lost, then retried), made here directly in
 * moto with our ownership tags: a second NLB of the same name, a second target group for a port and a second
 * listener on a port. One reconcile reduces each to one, keeping the one in use, and the next plan is empty.
 */
import { describe, expect, it } from 'vitest';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeListenersCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { discoverNodes, planService, reconcileService } from '../../lib/lb/index.js';
import { observe } from '../../lib/lb/observe.js';
import type { V1Service } from '../../lib/model/types.js';
import { lbService, makeCluster } from './fixture.js';

const toTags = (t: Record<string, string>) => Object.entries(t).map(([Key, Value]) => ({ Key, Value }));

describe('duplicates made by retried creates are repaired (moto)', () => {
  it('keeps the NLB the Service points at, the TG in use and one listener per port', async () => {
    const c = await makeCluster();
    await c.addNode({}, 0);
    const nodes = await discoverNodes(c.clients.ec2, c.clusterName);
    const svc = lbService('dup', {
      ports: [
        { name: 'a', port: 80, nodePort: 30080 },
        { name: 'b', port: 81, nodePort: 30081 },
      ],
    });
    const first = await reconcileService(c.ctx, svc, nodes);
    expect(first.error).toBeUndefined();
    const key = 'default/dup';
    const s = (await observe(c.ctx, { stack: key })).stacks.get(key)!;
    const lb = s.loadBalancers[0]!;
    const tg80 = s.targetGroups.find((t) => t.port === 30080)!;

    // A second listener on 80 (moto, unlike ELBv2, accepts it), forwarding to the same target group.
    await c.clients.elbv2.send(
      new CreateListenerCommand({
        LoadBalancerArn: lb.arn,
        Port: 80,
        Protocol: 'TCP',
        DefaultActions: [{ Type: 'forward', TargetGroupArn: tg80.arn }],
      }),
    );
    // A second, unattached target group for port 80 with the same ownership tags.
    await c.clients.elbv2.send(
      new CreateTargetGroupCommand({
        Name: `${tg80.name.slice(0, 26)}-retry`,
        Protocol: 'TCP',
        Port: 30080,
        VpcId: c.vpcId,
        TargetType: 'instance',
        Tags: toTags(tg80.tags),
      }),
    );
    // A second NLB of the same name and tags, without listeners: the retried CreateLoadBalancer.
    await c.clients.elbv2.send(
      new CreateLoadBalancerCommand({ Name: lb.name, Type: 'network', Subnets: c.subnetIds, Tags: toTags(lb.tags) }),
    );
    const messy = (await observe(c.ctx, { stack: key })).stacks.get(key)!;
    expect(messy.loadBalancers).toHaveLength(2);
    expect(messy.targetGroups.filter((t) => t.port === 30080)).toHaveLength(2);
    expect(messy.loadBalancers.find((l) => l.arn === lb.arn)!.listeners.filter((l) => l.port === 80)).toHaveLength(2);

    // The stored Service points at the first NLB: that one stays.
    const stored: V1Service = { ...svc, status: { loadBalancer: { ingress: [{ hostname: lb.dnsName }] } } };
    const st = await reconcileService(c.ctx, stored, nodes);
    expect(st.error).toBeUndefined();
    expect(st.hostname).toBe(lb.dnsName);
    const clean = (await observe(c.ctx, { stack: key })).stacks.get(key)!;
    expect(clean.loadBalancers.map((l) => l.arn)).toEqual([lb.arn]);
    expect(clean.targetGroups.map((t) => t.arn).sort()).toEqual(s.targetGroups.map((t) => t.arn).sort());
    const listeners = (await c.clients.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lb.arn })))
      .Listeners!;
    expect(listeners.map((l) => l.Port).sort()).toEqual([80, 81]);
    expect((await planService(c.ctx, stored, nodes)).actions).toEqual([]);
  });
});
