/**
 * Crash injection extended to a Gateway with routes: for EVERY N across a Gateway's create (two listeners, one
 * forwarding 3:1 to two target groups), an update (a route removed, the weights changed to 1:1, a UDP listener
 * added) and its deletion, the Nth AWS call reaches moto and the controller "dies" before seeing the answer; the
 * rerun with a healthy controller must converge: one NLB, the listeners and target groups wanted (weights included),
 * targets = the nodes, a second plan empty, nothing left after the delete.
 */
import { describe, expect, it } from 'vitest';
import { DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import { attach, type RouteObject } from '../../lib/gateway/attach.js';
import { annotationsOf, buildGatewayStack } from '../../lib/gateway/build.js';
import { backendKeyOf } from '../../lib/gateway/names.js';
import { pool, type LoadBalancerContext } from '../../lib/lb/context.js';
import { discoverNodes, loadEnv, reconcileDesiredStack } from '../../lib/lb/index.js';
import type { DesiredStack } from '../../lib/lb/model.js';
import { observe } from '../../lib/lb/observe.js';
import { planStack } from '../../lib/lb/plan/index.js';
import type { Gateway } from '../../lib/model/gateway/types.js';
import type { BuildEnv } from '../../lib/lb/build/index.js';
import { crashingCtx, isCrash } from '../lb/crash-support.js';
import { makeCluster, type Cluster } from '../lb/fixture.js';
import { gateway, listener, service, tcpRoute, udpRoute } from './fixture.js';

const services = [
  service('web', [{ port: 8080, nodePort: 30280 }]),
  service('canary', [{ port: 8080, nodePort: 30281 }]),
  service('api', [{ port: 9000, nodePort: 30290 }]),
  service('dns', [{ port: 53, protocol: 'UDP', nodePort: 30253 }]),
];
const web = (w: [number, number]) =>
  tcpRoute('web', {
    parents: [{ name: 'g', sectionName: 'web' }],
    backends: [
      { name: 'web', port: 8080, weight: w[0] },
      { name: 'canary', port: 8080, weight: w[1] },
    ],
  });
const api = tcpRoute('api', { parents: [{ name: 'g', sectionName: 'api' }], backends: [{ name: 'api', port: 9000 }] });
const dns = udpRoute('dns', { parents: [{ name: 'g', sectionName: 'dns' }], backends: [{ name: 'dns', port: 53 }] });

const v1 = (name: string) => ({
  gw: gateway([listener('web', 'TCP', 80), listener('api', 'TCP', 9000)], { name }),
  routes: [web([3, 1]), api],
});
const v2 = (name: string) => ({
  gw: gateway([listener('web', 'TCP', 80), listener('api', 'TCP', 9000), listener('dns', 'UDP', 53)], { name }),
  routes: [web([1, 1]), dns],
});

/** Routes name their Gateway "g"; each iteration's Gateway has its own name, so the parents are renamed. */
function routesFor(name: string, routes: RouteObject[]): RouteObject[] {
  return routes.map((r) => ({
    ...r,
    route: { ...r.route, spec: { ...r.route.spec, parentRefs: r.route.spec.parentRefs!.map((p) => ({ ...p, name })) } },
  })) as RouteObject[];
}

/** The desired stack, pure, from an environment read once (subnets and nodes do not change during the test). */
function desiredOf(env: BuildEnv, gw: Gateway, routes: RouteObject[]) {
  const a = attach({
    gateway: gw,
    routes: routesFor(gw.metadata!.name!, routes),
    services,
    grants: [],
    namespaces: [],
  });
  const ports = new Map(a.listeners.flatMap((l) => l.backends).map((b) => [backendKeyOf(b), b.nodePort!]));
  const r = buildGatewayStack(gw, a, ports, env);
  if (!r.desired) throw new Error(r.errors.join('; '));
  return r.desired;
}

async function expectConverged(c: Cluster, d: DesiredStack, eligible: string[]) {
  const s = (await observe(c.ctx, { stack: d.stack })).stacks.get(d.stack)!;
  expect(s.loadBalancers).toHaveLength(1);
  const lb = s.loadBalancers[0]!;
  expect(lb.listeners.map((l) => `${l.protocol}:${l.port}`).sort()).toEqual(
    d.listeners.map((l) => `${l.protocol}:${l.port}`).sort(),
  );
  expect(s.targetGroups.map((t) => `${t.protocol}:${t.port}`).sort()).toEqual(
    d.targetGroups.map((t) => `${t.protocol}:${t.port}`).sort(),
  );
  for (const tg of s.targetGroups) expect(tg.targets).toEqual(eligible);
  const weighted = lb.listeners.find((l) => l.port === 80)!.weighted!;
  const portOf = new Map(s.targetGroups.map((t) => [t.arn, t.port]));
  const want = d.listeners.find((l) => l.port === 80)!.weighted!;
  expect(weighted.map((w) => `${portOf.get(w.targetGroupArn)}*${w.weight}`).sort()).toEqual(
    want.map((w) => `${w.targetGroupKey.split('-')[1]}*${w.weight}`).sort(),
  );
  expect(planStack(d, s, c.vpcId).actions).toEqual([]);
}

async function expectGone(c: Cluster, stack: string) {
  expect((await observe(c.ctx, { stack })).stacks.get(stack)).toBeUndefined();
  const g = await c.clients.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [c.nodeSgId] }));
  const pairs = (g.SecurityGroups![0]!.IpPermissions ?? []).flatMap((p) => p.UserIdGroupPairs ?? []);
  expect(pairs.filter((p) => p.Description?.endsWith(` ${stack}`))).toEqual([]);
}

type Step = (ctx: LoadBalancerContext) => Promise<unknown>;

describe('crash after any AWS call of a Gateway stack, then rerun', () => {
  it('converges with no duplicate and no leak for every N across create, update and delete', async () => {
    const c = await makeCluster();
    const eligible = [await c.addNode({}, 0), await c.addNode({}, 1)].sort();
    const nodes = await discoverNodes(c.clients.ec2, c.clusterName);
    // Read once: the crash numbering then counts only the stack's own calls (observe, plan, apply).
    const env = await loadEnv(c.ctx, [annotationsOf(v1('x').gw)], nodes);
    const stackOf = (name: string) => `gateway/default/${name}`;
    const phases = (name: string): { step: Step; check: () => Promise<void> }[] => {
      const run = (v: { gw: Gateway; routes: RouteObject[] }) => (ctx: LoadBalancerContext) =>
        reconcileDesiredStack(ctx, stackOf(name), desiredOf(env, v.gw, v.routes));
      return [
        {
          step: run(v1(name)),
          check: () => expectConverged(c, desiredOf(env, v1(name).gw, v1(name).routes), eligible),
        },
        {
          step: run(v2(name)),
          check: () => expectConverged(c, desiredOf(env, v2(name).gw, v2(name).routes), eligible),
        },
        { step: (ctx) => reconcileDesiredStack(ctx, stackOf(name), null), check: () => expectGone(c, stackOf(name)) },
      ];
    };

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
        const name = `gcrash${crashAt}`;
        const { ctx } = crashingCtx(c.ctx, crashAt);
        let crashed = false;
        for (const p of phases(name)) {
          if (!crashed) {
            try {
              await p.step(ctx);
            } catch (err) {
              if (!isCrash(err)) throw err;
              crashed = true;
              crashes.push(crashAt);
              await p.step(c.ctx); // the rerun after the "restart"
            }
          } else await p.step(c.ctx);
          await p.check();
        }
      },
    );
    expect(crashes.sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  }, 300_000);
});
