/**
 * Gateway stacks, pure: the desired NLB stack and its create plan as golden files (test/gateway/golden/; regenerate
 * after an intended change with UPDATE_GOLDEN=1 npx vitest run test/gateway/stack.test.ts and review the diff), the
 * NLB weight scaling, and what a route's removal takes away (only its listener and target group).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { attach, type RouteObject } from '../../lib/gateway/attach.js';
import { buildGatewayStack, nlbWeights } from '../../lib/gateway/build.js';
import { backendKeyOf } from '../../lib/gateway/names.js';
import type { BuildEnv } from '../../lib/lb/build/index.js';
import type { DesiredStack, ObservedStack } from '../../lib/lb/model.js';
import { formatPlan } from '../../lib/lb/plan/format.js';
import { planStack } from '../../lib/lb/plan/index.js';
import type { Gateway } from '../../lib/model/gateway/types.js';
import type { NodeInfo } from '../../lib/model/types.js';
import { gateway, listener, service, tcpRoute, udpRoute } from './fixture.js';

const GOLDEN = join(dirname(fileURLToPath(import.meta.url)), 'golden');
function golden(name: string, value: unknown): void {
  const file = join(GOLDEN, `${name}.json`);
  const text = JSON.stringify(value, null, 2) + '\n';
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) {
    if (process.env.CI && !existsSync(file)) throw new Error(`golden file ${file} missing`);
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(file, text);
  }
  expect(text).toBe(readFileSync(file, 'utf8'));
}

const node = (i: number, az: string): NodeInfo => ({
  name: `ip-10-0-0-${i}.ec2.internal`,
  instanceId: `i-000${i}`,
  privateIp: `10.0.0.${i}`,
  availabilityZone: az,
  state: 'running',
  labels: {},
});
const env: BuildEnv = {
  clusterName: 'prod',
  vpcId: 'vpc-1',
  subnets: [
    { subnetId: 'subnet-0a', availabilityZone: 'us-east-1a', vpcId: 'vpc-1', tags: { 'kubernetes.io/role/elb': '1' } },
    { subnetId: 'subnet-0b', availabilityZone: 'us-east-1b', vpcId: 'vpc-1', tags: { 'kubernetes.io/role/elb': '1' } },
    {
      subnetId: 'subnet-1a',
      availabilityZone: 'us-east-1a',
      vpcId: 'vpc-1',
      tags: { 'kubernetes.io/role/internal-elb': '1' },
    },
  ],
  nodes: [node(1, 'us-east-1a'), node(2, 'us-east-1b')],
  nodeSecurityGroupId: 'sg-nodes',
};
const ACM = 'arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-000000000001';
const services = [
  service('web', [{ port: 8080, nodePort: 30080 }]),
  service('web-canary', [{ port: 8080, nodePort: 30081 }]),
  service('api', [{ port: 9000, nodePort: 30900 }]),
  service('dns', [
    { port: 53, protocol: 'UDP', nodePort: 30053 },
    { port: 53, protocol: 'TCP', nodePort: 30053 },
  ]),
  service('cache', [{ port: 6379 }]), // ClusterIP: the data plane's own node port
];
const empty = (stack: string): ObservedStack => ({
  stack,
  loadBalancers: [],
  targetGroups: [],
  securityGroups: [],
  nodePermissions: [],
});

function stackOf(gw: Gateway, routes: RouteObject[], hidden: Record<string, number> = {}): DesiredStack {
  const a = attach({ gateway: gw, routes, services, grants: [], namespaces: [] });
  const ports = new Map<string, number>(Object.entries(hidden));
  for (const b of a.listeners.flatMap((l) => l.backends)) if (b.nodePort) ports.set(backendKeyOf(b), b.nodePort);
  const r = buildGatewayStack(gw, a, ports, env);
  if (!r.desired) throw new Error(r.errors.join('; '));
  return r.desired;
}

const threeListeners = gateway([listener('web', 'TCP', 80), listener('api', 'TCP', 9000), listener('dns', 'UDP', 53)]);
const threeRoutes = [
  tcpRoute('web', {
    parents: [{ name: 'shared', sectionName: 'web' }],
    backends: [
      { name: 'web', port: 8080, weight: 3 },
      { name: 'web-canary', port: 8080, weight: 1 },
    ],
  }),
  tcpRoute('api', { parents: [{ name: 'shared', sectionName: 'api' }], backends: [{ name: 'api', port: 9000 }] }),
  udpRoute('dns', { parents: [{ name: 'shared', sectionName: 'dns' }], backends: [{ name: 'dns', port: 53 }] }),
];

describe('Gateway stacks (golden)', () => {
  const cases: Record<string, () => DesiredStack> = {
    'three-listeners-weighted': () => stackOf(threeListeners, threeRoutes),
    'tls-terminate-clusterip-backend': () =>
      stackOf(
        gateway([listener('tls', 'TLS', 443, { tls: { mode: 'Terminate', certificateRefs: [{ name: ACM }] } })], {
          annotations: { 'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internal' },
        }),
        [tcpRoute('cache', { backends: [{ name: 'cache', port: 6379 }] })],
        { 'default/cache:6379/TCP': 31500 },
      ),
    'tcp-udp-one-port': () =>
      stackOf(gateway([listener('dns-tcp', 'TCP', 53), listener('dns-udp', 'UDP', 53)]), [
        tcpRoute('dns-tcp', {
          parents: [{ name: 'shared', sectionName: 'dns-tcp' }],
          backends: [{ name: 'dns', port: 53 }],
        }),
        udpRoute('dns-udp', {
          parents: [{ name: 'shared', sectionName: 'dns-udp' }],
          backends: [{ name: 'dns', port: 53 }],
        }),
      ]),
  };
  for (const [name, make] of Object.entries(cases)) {
    it(`${name}: desired stack and create plan`, () => {
      const desired = make();
      const plan = planStack(desired, empty(desired.stack), 'vpc-1');
      golden(name, { desired, plan, text: formatPlan(plan).split('\n') });
    });
  }

  it('the weighted listener forwards 3:1 to two target groups at the two NodePorts; one NLB, three listeners', () => {
    const d = stackOf(threeListeners, threeRoutes);
    expect(d.listeners.map((l) => `${l.protocol}:${l.port}`)).toEqual(['TCP:80', 'TCP:9000', 'UDP:53']);
    expect(d.listeners[0]!.weighted).toEqual([
      { targetGroupKey: 'tcp-30080', weight: 3 },
      { targetGroupKey: 'tcp-30081', weight: 1 },
    ]);
    expect(d.targetGroups.map((t) => `${t.protocol}:${t.port}:${t.targets.join(',')}`)).toEqual([
      'TCP:30080:i-0001,i-0002',
      'TCP:30081:i-0001,i-0002',
      'TCP:30900:i-0001,i-0002',
      'UDP:30053:i-0001,i-0002',
    ]);
    expect(d.stack).toBe('gateway/default/shared');
  });

  it("a route's removal takes away only its listener and its target group", () => {
    const before = stackOf(threeListeners, threeRoutes);
    const after = stackOf(
      threeListeners,
      threeRoutes.filter((r) => r.route.metadata?.name !== 'api'),
    );
    expect(before.listeners.map((l) => l.key).filter((k) => !after.listeners.some((l) => l.key === k))).toEqual([
      'tcp-9000',
    ]);
    expect(before.targetGroups.map((t) => t.key).filter((k) => !after.targetGroups.some((t) => t.key === k))).toEqual([
      'tcp-30900',
    ]);
    expect(after.loadBalancer).toEqual(before.loadBalancer);
  });

  it('a ClusterIP backend without an allocated node port is left out (no listener to nowhere)', () => {
    const d = stackOf(gateway([listener('c', 'TCP', 6379)]), [
      tcpRoute('cache', { backends: [{ name: 'cache', port: 6379 }] }),
    ]);
    expect(d.listeners).toEqual([]);
  });

  it('NLB annotations on the Gateway: disable-nlb-sg opens the nodes to the client ranges; listener attributes per listener', () => {
    const gw = gateway([listener('web', 'TCP', 80), listener('api', 'TCP', 9000), listener('dns', 'UDP', 53)], {
      annotations: {
        'service.beta.kubernetes.io/aws-load-balancer-disable-nlb-sg': 'true',
        'service.beta.kubernetes.io/load-balancer-source-ranges': '203.0.113.0/24',
        'service.beta.kubernetes.io/aws-load-balancer-listener-attributes.TCP-80': 'tcp.idle_timeout.seconds=400',
      },
    });
    const d = stackOf(gw, threeRoutes);
    expect(d.securityGroup).toBeUndefined();
    expect(d.loadBalancer.securityGroups).toEqual([]);
    expect(d.nodeRule?.sourceGroup).toBeUndefined();
    expect(JSON.stringify(d.nodeRule?.permissions)).toContain('203.0.113.0/24');
    expect(d.listeners.find((l) => l.port === 80)!.attributes).toEqual({ 'tcp.idle_timeout.seconds': '400' });
    expect(d.listeners.find((l) => l.port === 9000)!.attributes).toBeUndefined();
    // An NLB without SGs is another NLB (AWS cannot add SGs later): its name differs, so the switch is a replacement.
    expect(d.loadBalancer.name).not.toBe(stackOf(threeListeners, threeRoutes).loadBalancer.name);
  });

  it('a listener-attributes annotation naming no listener of the Gateway is refused with the annotation path', () => {
    const gw = gateway([listener('web', 'TCP', 80)], {
      annotations: {
        'service.beta.kubernetes.io/aws-load-balancer-listener-attributes.TCP-81': 'tcp.idle_timeout.seconds=400',
      },
    });
    const a = attach({ gateway: gw, routes: threeRoutes.slice(0, 1), services, grants: [], namespaces: [] });
    const ports = new Map(a.listeners.flatMap((l) => l.backends).map((b) => [backendKeyOf(b), b.nodePort!]));
    const r = buildGatewayStack(gw, a, ports, env);
    expect(r.desired).toBeUndefined();
    expect(r.errors.join()).toMatch(/listener-attributes\.TCP-81\]: Invalid value/);
  });

  it('NLB weights: Gateway API weights above 999 are scaled keeping proportions; 0 stays 0', () => {
    expect(nlbWeights([3, 1])).toEqual([3, 1]);
    expect(nlbWeights([1_000_000, 250_000, 0])).toEqual([999, 250, 0]);
    expect(nlbWeights([1_000_000, 1])).toEqual([999, 1]);
  });
});
