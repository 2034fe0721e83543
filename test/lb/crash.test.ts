/**
 * Crash injection: a client middleware lets the Nth AWS call reach moto and then "kills" the controller (throws
 * before the response is seen). For EVERY N across a full create, an update and a delete, rerunning the
 * interrupted step with a healthy controller must converge: one NLB, one TG per port, targets = eligible nodes,
 * nothing left after delete. Iterations run a few at a time, each on its own Service (stack) in one test cluster.
 */
import { describe, expect, it } from 'vitest';
import { DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import { pool, type LoadBalancerContext } from '../../lib/lb/context.js';
import { deleteServiceLoadBalancer, discoverNodes, planService, reconcileService } from '../../lib/lb/index.js';
import { observe } from '../../lib/lb/observe.js';
import { A } from '../../lib/model/annotations.js';
import type { NodeInfo, V1Service } from '../../lib/model/types.js';
import { Crash, crashingCtx } from './crash-support.js';
import { lbService, makeCluster, type Cluster } from './fixture.js';

type Step = (ctx: LoadBalancerContext) => Promise<unknown>;

async function expectConverged(c: Cluster, svc: V1Service, nodes: NodeInfo[], eligible: string[]) {
  const key = `default/${svc.metadata!.name}`;
  const s = (await observe(c.ctx, { stack: key })).stacks.get(key)!;
  expect(s.loadBalancers).toHaveLength(1);
  const ports = svc.spec!.ports!.map((p) => `TCP:${p.nodePort}`).sort();
  expect(s.targetGroups.map((t) => `${t.protocol}:${t.port}`).sort()).toEqual(ports);
  for (const tg of s.targetGroups) expect(tg.targets).toEqual(eligible);
  expect(s.loadBalancers[0]!.listeners.map((l) => l.port).sort()).toEqual(svc.spec!.ports!.map((p) => p.port).sort());
  expect(s.securityGroups).toHaveLength(1);
  expect((await planService(c.ctx, svc, nodes)).actions).toEqual([]);
}

async function expectGone(c: Cluster, key: string) {
  expect((await observe(c.ctx, { stack: key })).stacks.get(key)).toBeUndefined();
  const g = await c.clients.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [c.nodeSgId] }));
  const pairs = (g.SecurityGroups![0]!.IpPermissions ?? []).flatMap((p) => p.UserIdGroupPairs ?? []);
  expect(pairs.filter((p) => p.Description?.endsWith(` ${key}`))).toEqual([]);
}

describe('crash after any AWS call, then rerun', () => {
  it('converges with no duplicate and no leak for every N across create, update and delete', async () => {
    const c = await makeCluster();
    const n1 = await c.addNode({}, 0);
    const n2 = await c.addNode({}, 1);
    const nodes = await discoverNodes(c.clients.ec2, c.clusterName);
    const eligible = [n1, n2].sort();
    const v1 = (name: string) =>
      lbService(name, {
        ports: [
          { name: 'a', port: 80, nodePort: 30080 },
          { name: 'b', port: 81, nodePort: 30081 },
        ],
      });
    // The update changes a NodePort (TG replacement + listener move), removes a port, adds one, changes a health
    // check and the source ranges.
    const v2 = (name: string) =>
      lbService(name, {
        ports: [
          { name: 'a', port: 80, nodePort: 30090 },
          { name: 'c', port: 82, nodePort: 30082 },
        ],
        sourceRanges: ['10.0.0.0/8'],
        annotations: { [A.hcInterval]: '20' },
      });
    const phases = (name: string): { step: Step; check: () => Promise<void> }[] => [
      {
        step: (ctx) => reconcileService(ctx, v1(name), nodes),
        check: () => expectConverged(c, v1(name), nodes, eligible),
      },
      {
        step: (ctx) => reconcileService(ctx, v2(name), nodes),
        check: () => expectConverged(c, v2(name), nodes, eligible),
      },
      {
        step: (ctx) => deleteServiceLoadBalancer(ctx, `default/${name}`),
        check: () => expectGone(c, `default/${name}`),
      },
    ];

    // Dry run: how many calls the three phases make without a crash.
    const probe = crashingCtx(c.ctx, Number.MAX_SAFE_INTEGER);
    for (const p of phases('probe')) {
      await p.step(probe.ctx);
      await p.check();
    }
    const total = probe.calls();
    expect(total).toBeGreaterThan(30);

    const crashes: number[] = [];
    await pool(
      Array.from({ length: total }, (_, i) => i + 1),
      4,
      async (crashAt) => {
        const name = `crash${crashAt}`;
        const { ctx } = crashingCtx(c.ctx, crashAt);
        let crashed = false;
        for (const p of phases(name)) {
          if (!crashed) {
            try {
              await p.step(ctx);
            } catch (err) {
              const cause = (err as { cause?: unknown }).cause ?? err;
              if (!(cause instanceof Crash) && !(err instanceof Crash)) throw err;
              crashed = true;
              crashes.push(crashAt);
              await p.step(c.ctx); // the rerun after the "restart"
            }
          } else await p.step(c.ctx);
          await p.check();
        }
      },
    );
    // Every N crashed exactly once somewhere in the three phases.
    expect(crashes.sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  }, 240_000);
});
