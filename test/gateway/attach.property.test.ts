/**
 * Hostile review of the pure Gateway pipeline (fast-check): any mix of listeners, routes (any kind, parents, ports,
 * weights, namespaces, creation times, in any order) and Services gives, without throwing, a stack and a status
 * that keep the NLB's rules: at most one route programmed per listener and counted there, one NLB listener per port,
 * weights within 0-999, at most 5 target groups per forward, every forward's group in the stack, a route's parent
 * results only for parentRefs naming this Gateway, and the same answer whatever order the routes come in.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { attach, type RouteObject } from '../../lib/gateway/attach.js';
import { buildGatewayStack } from '../../lib/gateway/build.js';
import { backendKeyOf } from '../../lib/gateway/names.js';
import { gatewayStatus } from '../../lib/gateway/status.js';
import type { BuildEnv } from '../../lib/lb/build/index.js';
import { gateway, listener, service, tcpRoute, tlsRoute, udpRoute } from './fixture.js';

const env: BuildEnv = {
  clusterName: 'prod',
  vpcId: 'vpc-1',
  subnets: [
    { subnetId: 'subnet-a', availabilityZone: 'us-east-1a', vpcId: 'vpc-1', tags: { 'kubernetes.io/role/elb': '1' } },
  ],
  nodes: [
    {
      name: 'n1',
      instanceId: 'i-1',
      privateIp: '10.0.0.1',
      availabilityZone: 'us-east-1a',
      state: 'running',
      labels: {},
    },
  ],
  nodeSecurityGroupId: 'sg-nodes',
};
const ACM = 'arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-000000000001';
const names = ['a', 'b', 'c', 'd'];
const ports = [53, 80, 443, 9000];

const listenerArb = fc.record({
  name: fc.constantFrom(...names),
  protocol: fc.constantFrom('TCP', 'UDP', 'TLS', 'HTTP'),
  port: fc.constantFrom(...ports),
  mode: fc.constantFrom('Terminate', 'Passthrough'),
  from: fc.constantFrom('Same', 'All'),
});
const backendArb = fc.record({
  name: fc.constantFrom('s1', 's2', 's3', 'missing'),
  port: fc.constantFrom(...ports),
  weight: fc.oneof(fc.constant(undefined), fc.integer({ min: 0, max: 1_000_000 })),
  namespace: fc.constantFrom(undefined, 'default', 'other'),
});
const routeArb = fc.record({
  kind: fc.constantFrom('TCPRoute', 'UDPRoute', 'TLSRoute'),
  ns: fc.constantFrom('default', 'other'),
  parent: fc.record({
    name: fc.constantFrom('shared', 'elsewhere'),
    sectionName: fc.constantFrom(undefined, ...names, 'zz'),
    port: fc.constantFrom(undefined, ...ports),
  }),
  backends: fc.array(backendArb, { minLength: 1, maxLength: 7 }),
  created: fc.integer({ min: 0, max: 5 }),
});

const services = ['s1', 's2', 's3'].flatMap((n, i) =>
  ['default', 'other'].map((ns) =>
    service(
      n,
      [
        { port: 53, protocol: 'UDP', nodePort: 30053 + i },
        { port: 53, protocol: 'TCP', nodePort: 30053 + i },
        { port: 80, nodePort: 30080 + i },
        { port: 443, nodePort: 30443 + i },
        { port: 9000 },
      ],
      { ns },
    ),
  ),
);

type RouteSpec = typeof routeArb extends fc.Arbitrary<infer T> ? T : never;

function toRoute(r: RouteSpec, i: number): RouteObject {
  const make = r.kind === 'TCPRoute' ? tcpRoute : r.kind === 'UDPRoute' ? udpRoute : tlsRoute;
  const parent = {
    name: r.parent.name,
    namespace: 'default',
    ...(r.parent.sectionName ? { sectionName: r.parent.sectionName } : {}),
    ...(r.parent.port ? { port: r.parent.port } : {}),
  };
  return make(`r${i}`, {
    ns: r.ns,
    parents: [parent],
    backends: r.backends.map((b) => ({
      name: b.name,
      port: b.port,
      ...(b.weight !== undefined ? { weight: b.weight } : {}),
      ...(b.namespace ? { namespace: b.namespace } : {}),
    })),
    created: `2026-12-01T00:00:0${r.created}Z`,
  });
}

describe('the Gateway pipeline under arbitrary listeners and routes', () => {
  it('never throws and keeps the NLB rules, in any route order', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(listenerArb, { minLength: 1, maxLength: 4, selector: (l) => l.name }),
        fc.array(routeArb, { maxLength: 8 }),
        fc.boolean(),
        (ls, rs, reverse) => {
          const gw = gateway(
            ls.map((l) =>
              listener(l.name, l.protocol, l.port, {
                allowedRoutes: { namespaces: { from: l.from } },
                ...(l.protocol === 'TLS' ? { tls: { mode: l.mode, certificateRefs: [{ name: ACM }] } } : {}),
              }),
            ),
          );
          const routes = rs.map(toRoute);
          const run = (order: RouteObject[]) => {
            const a = attach({ gateway: gw, routes: order, services, grants: [], namespaces: [] });
            const np = new Map(
              a.listeners.flatMap((l) => l.backends).map((b) => [backendKeyOf(b), b.nodePort ?? 31000]),
            );
            return { a, built: buildGatewayStack(gw, a, np, env) };
          };
          const { a, built } = run(reverse ? [...routes].reverse() : routes);
          const st = gatewayStatus(gw, a, { hostname: 'nlb.example' }, '2026-12-02T00:00:00Z');
          for (const l of a.listeners) {
            expect(l.attached.length).toBeLessThanOrEqual(1);
            expect(st.listeners!.find((x) => x.name === l.listener.name)!.attachedRoutes).toBe(l.attached.length);
          }
          for (const [key, results] of a.routes) {
            const r = routes.find((x) => `${x.kind}/${x.route.metadata!.namespace}/${x.route.metadata!.name}` === key)!;
            expect(results.length).toBe(r.route.spec.parentRefs!.filter((p) => p.name === 'shared').length);
          }
          if (!built.desired) return;
          const d = built.desired;
          expect(new Set(d.listeners.map((l) => l.port)).size).toBe(d.listeners.length);
          const keys = new Set(d.targetGroups.map((t) => t.key));
          for (const l of d.listeners) {
            expect(keys.has(l.targetGroupKey)).toBe(true);
            for (const w of l.weighted ?? []) {
              expect(keys.has(w.targetGroupKey)).toBe(true);
              expect(w.weight).toBeGreaterThanOrEqual(0);
              expect(w.weight).toBeLessThanOrEqual(999);
            }
            expect((l.weighted ?? []).length).toBeLessThanOrEqual(5);
          }
          // Order independence: the oldest route wins, not the first listed.
          expect(run(reverse ? routes : [...routes].reverse()).built.desired).toEqual(d);
        },
      ),
      { numRuns: 1500 },
    );
  });
});
