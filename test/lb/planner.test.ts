/**
 * Pure planner tests: whole desired states and plans as JSON golden files (test/lb/golden/). Regenerate after an
 * intended change with UPDATE_GOLDEN=1 npx vitest run test/lb/planner.test.ts, then review the diff.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { buildDesiredStack, type BuildEnv } from '../../lib/lb/build/index.js';
import type { DesiredStack, ObservedStack } from '../../lib/lb/model.js';
import { formatPlan } from '../../lib/lb/plan/format.js';
import { planStack } from '../../lib/lb/plan/index.js';
import { selectSubnets, type SubnetInfo } from '../../lib/lb/subnets.js';
import { loadBalancerName } from '../../lib/lb/naming.js';
import { A, LISTENER_ATTRIBUTES_PREFIX } from '../../lib/model/annotations.js';
import type { NodeInfo } from '../../lib/model/types.js';
import { lbService } from './fixture.js';

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

const CLUSTER = 'prod';
const subnets: SubnetInfo[] = [
  {
    subnetId: 'subnet-0a',
    availabilityZone: 'us-east-1a',
    vpcId: 'vpc-1',
    cidrBlock: '10.0.0.0/24',
    tags: { 'kubernetes.io/role/elb': '1', Name: 'pub-a' },
  },
  {
    subnetId: 'subnet-0b',
    availabilityZone: 'us-east-1b',
    vpcId: 'vpc-1',
    cidrBlock: '10.0.1.0/24',
    tags: { 'kubernetes.io/role/elb': '1', 'kubernetes.io/cluster/prod': 'shared' },
  },
  {
    subnetId: 'subnet-0c',
    availabilityZone: 'us-east-1a',
    vpcId: 'vpc-1',
    cidrBlock: '10.0.2.0/24',
    tags: { 'kubernetes.io/role/internal-elb': '1' },
  },
  {
    subnetId: 'subnet-0d',
    availabilityZone: 'us-east-1b',
    vpcId: 'vpc-1',
    cidrBlock: '10.0.3.0/24',
    tags: { 'kubernetes.io/role/internal-elb': '1', 'kubernetes.io/cluster/prod': 'owned' },
  },
  {
    subnetId: 'subnet-0e',
    availabilityZone: 'us-east-1c',
    vpcId: 'vpc-1',
    tags: { 'kubernetes.io/cluster/other': 'owned' },
  },
];
const node = (i: number, az: string, labels: Record<string, string> = {}, state = 'running'): NodeInfo => ({
  name: `ip-10-0-0-${i}.ec2.internal`,
  instanceId: `i-000${i}`,
  privateIp: `10.0.0.${i}`,
  availabilityZone: az,
  state,
  labels: { 'kubernetes.io/cluster/prod': 'owned', ...labels },
});
const nodes = [
  node(1, 'us-east-1a', { role: 'edge' }),
  node(2, 'us-east-1b'),
  node(3, 'us-east-1a', { 'node.kubernetes.io/exclude-from-external-load-balancers': 'true' }),
  node(4, 'us-east-1b', {}, 'stopped'),
];
const env: BuildEnv = {
  clusterName: CLUSTER,
  vpcId: 'vpc-1',
  subnets,
  nodes,
  nodeSecurityGroupId: 'sg-nodes',
  vpcCidrs: ['10.0.0.0/16'],
};

function build(svc: ReturnType<typeof lbService>, e: BuildEnv = env): DesiredStack {
  const r = buildDesiredStack(svc, e);
  if (!r.desired) throw new Error(r.errors.join('; '));
  return r.desired;
}

/** What AWS would hold after applying `d` (ARNs/IDs synthesised deterministically). */
function observedFrom(d: DesiredStack): ObservedStack {
  const sgId = 'sg-managed';
  const tgArn = (k: string) => `arn:tg/${k}`;
  return {
    stack: d.stack,
    loadBalancers: [
      {
        arn: 'arn:lb/1',
        name: d.loadBalancer.name,
        dnsName: `${d.loadBalancer.name}.elb.amazonaws.com`,
        scheme: d.loadBalancer.scheme,
        type: 'network',
        ipAddressType: d.loadBalancer.ipAddressType,
        vpcId: 'vpc-1',
        state: 'active',
        createdTime: '2026-01-01T00:00:00.000Z',
        subnetMappings: d.loadBalancer.subnetMappings,
        securityGroups: d.loadBalancer.securityGroups.map((s) => (s === 'managed' ? sgId : s)),
        tags: d.loadBalancer.tags,
        attributes: { ...d.loadBalancer.attributes, 'deletion_protection.enabled': 'false' },
        ...(d.loadBalancer.minimumCapacityUnits ? { minimumCapacityUnits: d.loadBalancer.minimumCapacityUnits } : {}),
        listeners: d.listeners.map((l) => ({
          arn: `arn:listener/${l.port}`,
          port: l.port,
          protocol: l.protocol,
          targetGroupArn: tgArn(l.targetGroupKey),
          certificateArns: l.certificateArns?.slice(0, 1) ?? [],
          sslPolicy: l.sslPolicy,
          alpnPolicy: l.alpnPolicy,
          // What DescribeListenerAttributes answers: AWS's default, then what the plan set.
          attributes: { 'tcp.idle_timeout.seconds': '350', ...l.attributes },
        })),
      },
    ],
    targetGroups: d.targetGroups.map((t) => ({
      arn: tgArn(t.key),
      name: t.name,
      protocol: t.protocol,
      port: t.port,
      vpcId: t.vpcId,
      targetType: t.targetType,
      healthCheck: t.healthCheck,
      tags: t.tags,
      attributes: { ...t.attributes, 'stickiness.enabled': 'false' },
      targets: t.targets,
      loadBalancerArns: ['arn:lb/1'],
    })),
    securityGroups: d.securityGroup
      ? [
          {
            groupId: sgId,
            groupName: d.securityGroup.name,
            tags: d.securityGroup.tags,
            ingress: d.securityGroup.ingress,
          },
        ]
      : [],
    nodePermissions: d.nodeRule
      ? d.nodeRule.permissions.map((p) => ({
          ...p,
          groupId: d.nodeRule!.groupId,
          sourceGroupId:
            d.nodeRule!.sourceGroup === undefined
              ? ''
              : d.nodeRule!.sourceGroup === 'managed'
                ? sgId
                : d.nodeRule!.sourceGroup,
          description: d.nodeRule!.description,
        }))
      : [],
  };
}
const empty = (stack: string): ObservedStack => ({
  stack,
  loadBalancers: [],
  targetGroups: [],
  securityGroups: [],
  nodePermissions: [],
});

describe('desired state and plans (golden)', () => {
  const cases: Record<string, ReturnType<typeof lbService>> = {
    'cluster-tcp-udp': lbService('dns', {
      namespace: 'kube-system',
      ports: [
        { name: 'dns', port: 53, nodePort: 30053, protocol: 'UDP' },
        { name: 'dns-tcp', port: 53, nodePort: 30053, protocol: 'TCP' },
        { name: 'metrics', port: 9153, nodePort: 31153 },
      ],
    }),
    'local-healthcheck': lbService('web', { local: true, sourceRanges: ['203.0.113.0/24'] }),
    'tls-internal': lbService('api', {
      ports: [
        { name: 'https', port: 443, nodePort: 30443 },
        { name: 'http', port: 80, nodePort: 30080 },
      ],
      annotations: {
        [A.scheme]: 'internal',
        [A.sslCert]: 'arn:aws:acm:us-east-1:123456789012:certificate/abc',
        [A.sslPorts]: 'https',
        [A.backendProtocol]: 'ssl',
        [A.privateIpv4Addresses]: '10.0.3.10,10.0.4.10',
        [A.targetNodeLabels]: 'role=edge',
        [A.crossZone]: 'true',
        [A.hcProtocol]: 'http',
        [A.hcPath]: '/ready',
        [A.hcInterval]: '30',
        [A.additionalTags]: 'cost-center=42',
        [A.tgAttributes]: 'deregistration_delay.timeout_seconds=30',
        [A.accessLogEnabled]: 'true',
        [A.accessLogBucket]: 'lb-logs',
        [A.accessLogPrefix]: 'api',
      },
    }),
    // Managed SG from prefix lists and source ranges, ICMP for path MTU discovery (IPv4 and IPv6), capacity.
    'sg-prefix-lists-icmp-capacity': lbService('web', {
      ports: [
        { name: 'http', port: 80, nodePort: 30080 },
        { name: 'dns', port: 53, nodePort: 30053, protocol: 'UDP' },
      ],
      sourceRanges: ['203.0.113.0/24', '2001:db8::/32'],
      annotations: {
        [A.ipAddressType]: 'dualstack',
        [A.securityGroupPrefixLists]: 'pl-00000000,pl-0123456789abcdef0',
        [A.icmpForPathMtuDiscovery]: 'on',
        [A.minimumCapacity]: 'CapacityUnits=1000',
      },
    }),
    // No NLB security group: CIDR rules on the node SG (internal: the VPC's CIDR; the NLB subnets for health checks).
    'no-nlb-sg-internal': lbService('api', {
      local: true,
      ports: [
        { name: 'http', port: 80, nodePort: 30080 },
        { name: 'dns', port: 53, nodePort: 30053, protocol: 'UDP' },
      ],
      annotations: { [A.scheme]: 'internal', [A.disableNlbSg]: 'true' },
    }),
  };
  for (const [name, svc] of Object.entries(cases)) {
    it(`${name}: desired state and create plan`, () => {
      const desired = build(svc);
      const plan = planStack(desired, empty(desired.stack), 'vpc-1');
      golden(name, { desired, plan, text: formatPlan(plan).split('\n') });
      expect(planStack(desired, observedFrom(desired), 'vpc-1').actions).toEqual([]);
    });
  }

  it('update: port added/removed, node joined/left, annotation changed, nodePort changed (TG replaced)', () => {
    const before = build(
      lbService('web', {
        ports: [
          { name: 'a', port: 80, nodePort: 30080 },
          { name: 'b', port: 81, nodePort: 30081 },
        ],
      }),
    );
    const after = build(
      lbService('web', {
        ports: [
          { name: 'a', port: 80, nodePort: 30090 },
          { name: 'c', port: 82, nodePort: 30082 },
        ],
        annotations: { [A.hcInterval]: '20', [A.additionalTags]: 'team=x' },
      }),
      { ...env, nodes: [node(1, 'us-east-1a'), node(5, 'us-east-1b')] },
    );
    const plan = planStack(after, observedFrom(before), 'vpc-1');
    golden('update', { plan, text: formatPlan(plan).split('\n') });
    const kinds = plan.actions.map((a) => `${a.op} ${a.kind}`);
    // The NLB stays; the listener on 80 moves to the replacement TG before the old TG is deleted.
    expect(kinds).not.toContain('create LoadBalancer');
    expect(kinds.indexOf('update Listener')).toBeLessThan(kinds.indexOf('delete TargetGroup'));
    expect(kinds.indexOf('delete Listener')).toBeLessThan(kinds.indexOf('delete TargetGroup'));
  });

  it('scheme change: the old NLB releases its listeners and goes first, TGs are kept and re-attached', () => {
    const before = build(lbService('web'));
    const after = build(lbService('web', { annotations: { [A.scheme]: 'internal' } }));
    const plan = planStack(after, observedFrom(before), 'vpc-1');
    golden('scheme-change', { text: formatPlan(plan).split('\n') });
    expect(plan.actions.slice(0, 2).map((a) => `${a.op} ${a.kind}`)).toEqual([
      'delete Listener',
      'delete LoadBalancer',
    ]);
    expect(plan.actions.some((a) => a.kind === 'TargetGroup')).toBe(false);
  });

  it('delete: listeners, then target groups, then node rules, then the NLB, then the SG', () => {
    const d = build(
      lbService('web', {
        ports: [
          { port: 80, nodePort: 30080 },
          { port: 81, nodePort: 30081 },
        ],
      }),
    );
    const plan = planStack(null, observedFrom(d), 'vpc-1');
    golden('delete', { text: formatPlan(plan).split('\n') });
    expect(plan.actions.map((a) => `${a.op} ${a.kind}`)).toEqual([
      'delete Listener',
      'delete Listener',
      'delete TargetGroup',
      'delete TargetGroup',
      'delete NodeRule',
      'delete LoadBalancer',
      'delete SecurityGroup',
    ]);
  });

  it('duplicate NLBs (a crashed create) keep the oldest with the desired name and delete the rest', () => {
    const d = build(lbService('web'));
    const o = observedFrom(d);
    o.loadBalancers.push({
      ...o.loadBalancers[0]!,
      arn: 'arn:lb/2',
      createdTime: '2026-01-02T00:00:00.000Z',
      listeners: [],
    });
    const plan = planStack(d, o, 'vpc-1');
    expect(plan.actions).toEqual([
      { op: 'delete', kind: 'LoadBalancer', name: d.loadBalancer.name, arn: 'arn:lb/2', reason: 'duplicate' },
    ]);
  });

  describe('duplicates are reduced to one, the one in use kept', () => {
    const svc = () =>
      lbService('web', {
        ports: [
          { name: 'a', port: 80, nodePort: 30080 },
          { name: 'b', port: 81, nodePort: 30081 },
        ],
      });
    const shape = (p: ReturnType<typeof planStack>) =>
      p.actions.map((a) => `${a.op} ${a.kind} ${'arn' in a ? a.arn : 'groupId' in a ? a.groupId : a.name}`);

    it('two listeners on one port: the one forwarding to the kept target group stays', () => {
      const d = build(svc());
      const o = observedFrom(d);
      const lb = o.loadBalancers[0]!;
      // The retried create made a second listener on 80; the first one forwards to a target group no longer there.
      lb.listeners[0]!.targetGroupArn = 'arn:tg/gone';
      lb.listeners.push({ ...lb.listeners[0]!, arn: 'arn:listener/80-retry', targetGroupArn: 'arn:tg/tcp-80' });
      const plan = planStack(d, o, 'vpc-1');
      golden('duplicate-listeners', { plan, text: formatPlan(plan).split('\n') });
      expect(shape(plan)).toEqual(['delete Listener arn:listener/80']);
      // Both forwarding to the kept target group: the first by ARN stays.
      lb.listeners[0]!.targetGroupArn = 'arn:tg/tcp-80';
      expect(shape(planStack(d, o, 'vpc-1'))).toEqual(['delete Listener arn:listener/80-retry']);
    });

    it('two NLBs with the same ownership tags: the one the Service status points at stays', () => {
      const d = build(svc());
      const o = observedFrom(d);
      const newer = {
        ...o.loadBalancers[0]!,
        arn: 'arn:lb/2',
        dnsName: 'web-2.elb.amazonaws.com',
        createdTime: '2026-01-02T00:00:00.000Z',
        listeners: o.loadBalancers[0]!.listeners.map((l) => ({ ...l, arn: `${l.arn}-on-2` })),
      };
      o.loadBalancers.push(newer);
      // Without a status the oldest is kept; with one, the NLB users already reach.
      expect(shape(planStack(d, o, 'vpc-1'))).toEqual([
        'delete Listener arn:listener/80-on-2',
        'delete Listener arn:listener/81-on-2',
        'delete LoadBalancer arn:lb/2',
      ]);
      const plan = planStack({ ...d, inUseHostname: newer.dnsName }, o, 'vpc-1');
      golden('duplicate-nlbs', { plan, text: formatPlan(plan).split('\n') });
      expect(plan.hostname).toBe(newer.dnsName);
      expect(shape(plan)).toEqual([
        'delete Listener arn:listener/80',
        'delete Listener arn:listener/81',
        'delete LoadBalancer arn:lb/1',
      ]);
    });

    it('two target groups with the same ownership tags: the one attached to the kept NLB stays', () => {
      const d = build(svc());
      const o = observedFrom(d);
      const inUse = o.targetGroups[0]!;
      // A retried create left a second, unattached TG for port 80 that even carries the expected name, while the
      // attached one (created first under an older name) is what the listener forwards to.
      o.targetGroups.push({ ...inUse, arn: 'arn:tg/tcp-80-retry', loadBalancerArns: [] });
      inUse.name = `${inUse.name.slice(0, 28)}-old`;
      const plan = planStack(d, o, 'vpc-1');
      golden('duplicate-target-groups', { plan, text: formatPlan(plan).split('\n') });
      expect(shape(plan)).toEqual(['delete TargetGroup arn:tg/tcp-80-retry']);
    });
  });

  it('targets are registered in batches of at most 200', () => {
    const many = Array.from({ length: 450 }, (_, i) => node(i + 10, i % 2 ? 'us-east-1a' : 'us-east-1b'));
    const d = build(lbService('big'), { ...env, nodes: many });
    const regs = planStack(d, empty(d.stack), 'vpc-1').actions.filter((a) => a.kind === 'RegisterTargets');
    expect(regs.map((a) => (a.kind === 'RegisterTargets' ? a.instanceIds.length : 0))).toEqual([200, 200, 50]);
  });

  it('warns before nodes x ports pass 500 targets per AZ', () => {
    const many = Array.from({ length: 300 }, (_, i) => node(i + 10, 'us-east-1a'));
    const d = build(
      lbService('big', {
        ports: [
          { port: 80, nodePort: 30080 },
          { port: 81, nodePort: 30081 },
        ],
      }),
      { ...env, nodes: many },
    );
    expect(d.warnings.join()).toContain('600 targets in us-east-1a exceed the NLB quota of 500');
    const d2 = build(lbService('big'), {
      ...env,
      nodes: Array.from({ length: 420 }, (_, i) => node(i + 10, 'us-east-1a')),
    });
    expect(d2.warnings.join()).toContain('near the NLB quota');
  });

  it('rejects what an NLB cannot do, with apiserver-style messages', () => {
    const r = buildDesiredStack(lbService('x', { ports: [{ port: 80, nodePort: 30080, protocol: 'SCTP' }] }), env);
    expect(r.errors[0]).toBe(
      'spec.ports[0].protocol: Unsupported value: "SCTP": a Network Load Balancer supports TCP and UDP',
    );
    const r2 = buildDesiredStack(
      lbService('x', {
        ports: [
          { port: 53, nodePort: 30053, protocol: 'UDP' },
          { port: 53, nodePort: 30054 },
        ],
      }),
      env,
    );
    expect(r2.errors[0]).toContain('must use the same nodePort (30053)');
    const r3 = buildDesiredStack(lbService('x', { annotations: { [A.subnets]: 'nope' } }), env);
    expect(r3.errors[0]).toContain('subnet "nope" not found');
  });

  it('steady state: any built stack planned against itself is empty (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 65535 }), { minLength: 1, maxLength: 6 }),
        fc.subarray(nodes),
        fc.boolean(),
        (ports, ns, local) => {
          const svc = lbService('p', {
            ports: ports.map((p, i) => ({ port: p, nodePort: 30000 + i, name: `p${i}` })),
            local,
          });
          const d = build(svc, { ...env, nodes: ns });
          return planStack(d, observedFrom(d), 'vpc-1').actions.length === 0;
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('prefix lists, ICMP, NLB without security groups, capacity reservation', () => {
  const shape = (p: ReturnType<typeof planStack>) => formatPlan(p).split('\n');

  it('prefix lists replace the default 0.0.0.0/0 of an existing managed SG: revoke it, authorize the lists', () => {
    const before = build(lbService('web'));
    const after = build(lbService('web', { annotations: { [A.securityGroupPrefixLists]: 'pl-00000000' } }));
    expect(after.securityGroup!.ingress).toEqual([
      { protocol: 'tcp', fromPort: 80, toPort: 80, prefixListId: 'pl-00000000' },
    ]);
    const plan = planStack(after, observedFrom(before), 'vpc-1');
    expect(plan.actions).toEqual([
      {
        op: 'update',
        kind: 'SecurityGroupIngress',
        name: before.securityGroup!.name,
        groupId: 'sg-managed',
        authorize: [{ protocol: 'tcp', fromPort: 80, toPort: 80, prefixListId: 'pl-00000000' }],
        revoke: [{ protocol: 'tcp', fromPort: 80, toPort: 80, cidr: '0.0.0.0/0' }],
      },
    ]);
    // With explicit source ranges both are admitted (the LB controller's rule).
    const both = build(
      lbService('web', { sourceRanges: ['10.1.0.0/16'], annotations: { [A.securityGroupPrefixLists]: 'pl-00000000' } }),
    );
    expect(both.securityGroup!.ingress.map((r) => r.cidr ?? r.prefixListId)).toEqual(['10.1.0.0/16', 'pl-00000000']);
    // With the user's security groups there is no managed SG to put them in (as the LB controller: no effect).
    const byo = build(
      lbService('web', {
        annotations: { [A.securityGroupPrefixLists]: 'pl-00000000', [A.securityGroups]: 'sg-user' },
      }),
      { ...env, vpcSecurityGroups: [{ groupId: 'sg-user', groupName: 'user', tags: {} }] },
    );
    expect(byo.securityGroup).toBeUndefined();
  });

  it('ICMP: type 3 code 4 from each IPv4 range, ICMPv6 type 2 code 0 from each IPv6 range; "off" or absent: none', () => {
    const icmp = (svc: ReturnType<typeof lbService>) =>
      build(svc).securityGroup!.ingress.filter((r) => r.protocol.startsWith('icmp'));
    expect(icmp(lbService('web', { annotations: { [A.icmpForPathMtuDiscovery]: 'on' } }))).toEqual([
      { protocol: 'icmp', fromPort: 3, toPort: 4, cidr: '0.0.0.0/0' },
    ]);
    expect(
      icmp(lbService('web', { annotations: { [A.icmpForPathMtuDiscovery]: 'on', [A.ipAddressType]: 'dualstack' } })),
    ).toEqual([
      { protocol: 'icmp', fromPort: 3, toPort: 4, cidr: '0.0.0.0/0' },
      { protocol: 'icmpv6', fromPort: 2, toPort: 0, cidr: '::/0' },
    ]);
    expect(icmp(lbService('web', { annotations: { [A.icmpForPathMtuDiscovery]: 'off' } }))).toEqual([]);
    // Turning it off revokes the rule.
    const on = build(lbService('web', { annotations: { [A.icmpForPathMtuDiscovery]: 'on' } }));
    expect(shape(planStack(build(lbService('web')), observedFrom(on), 'vpc-1'))).toEqual([
      'Plan for default/web: 0 to create, 1 to update, 0 to delete',
      `~ update SecurityGroupIngress ${on.securityGroup!.name}: -icmp/type=3,code=4 from 0.0.0.0/0`,
    ]);
  });

  it('disable-nlb-sg: no managed SG, no SG on the NLB, exact NodePorts from CIDRs on the node SG', () => {
    const d = build(lbService('web', { annotations: { [A.disableNlbSg]: 'true' } }));
    expect(d.securityGroup).toBeUndefined();
    expect(d.loadBalancer.securityGroups).toEqual([]);
    expect(d.loadBalancer.name).not.toBe(build(lbService('web')).loadBalancer.name);
    // Internet-facing, client IP preserved, health checks on the traffic port: 0.0.0.0/0 admits them too.
    expect(d.nodeRule).toEqual({
      groupId: 'sg-nodes',
      description: 'k8s-svc-lb prod default/web',
      permissions: [{ protocol: 'tcp', fromPort: 30080, toPort: 30080, cidr: '0.0.0.0/0' }],
    });
    // Source ranges: the traffic port from them, health checks from the NLB's subnets.
    const ranged = build(
      lbService('web', { sourceRanges: ['203.0.113.0/24'], annotations: { [A.disableNlbSg]: 'true' } }),
    );
    expect(ranged.nodeRule!.permissions.map((p) => `${p.protocol}:${p.fromPort}:${p.cidr}`)).toEqual([
      'tcp:30080:10.0.0.0/24',
      'tcp:30080:10.0.1.0/24',
      'tcp:30080:203.0.113.0/24',
    ]);
    // Client IP not preserved: everything comes from the NLB's subnets.
    const nat = build(
      lbService('web', {
        annotations: { [A.disableNlbSg]: 'true', [A.tgAttributes]: 'preserve_client_ip.enabled=false' },
      }),
    );
    expect(nat.nodeRule!.permissions.map((p) => p.cidr)).toEqual(['10.0.0.0/24', '10.0.1.0/24']);
    // Steady state.
    expect(planStack(d, observedFrom(d), 'vpc-1').actions).toEqual([]);
    // Without the VPC's CIDR an internal one cannot be built (0.0.0.0/0 would open the NodePorts to everyone).
    const r = buildDesiredStack(
      lbService('web', { annotations: { [A.disableNlbSg]: 'true', [A.scheme]: 'internal' } }),
      { ...env, vpcCidrs: undefined },
    );
    expect(r.errors).toEqual(['internal: the VPC CIDR is unknown; an internal NLB without security groups needs it']);
  });

  it('disable-nlb-sg changed on an existing NLB: a replacement, released first; the SG rule and the SG go', () => {
    const withSg = build(lbService('web'));
    const noSg = build(lbService('web', { annotations: { [A.disableNlbSg]: 'true' } }));
    const plan = planStack(noSg, observedFrom(withSg), 'vpc-1');
    golden('disable-nlb-sg-replace', { text: shape(plan) });
    expect(plan.actions.map((a) => `${a.op} ${a.kind}`)).toEqual([
      'delete Listener',
      'delete LoadBalancer',
      'create LoadBalancer',
      'update LoadBalancerAttributes',
      'update NodeRule',
      'create Listener',
      'delete NodeRule',
      'delete SecurityGroup',
    ]);
    const create = plan.actions.find((a) => a.kind === 'LoadBalancer' && a.op === 'create');
    expect(create).toMatchObject({ securityGroups: [] });
    const release = plan.actions.find((a) => a.kind === 'LoadBalancer' && a.op === 'delete');
    expect(release).toMatchObject({
      reason: `replaced by ${noSg.loadBalancer.name}: security groups cannot all be removed from an existing NLB`,
    });
    // And back: the NLB without security groups is replaced by one with the managed SG.
    const back = planStack(withSg, observedFrom(noSg), 'vpc-1');
    expect(back.actions.map((a) => `${a.op} ${a.kind}`).slice(0, 5)).toEqual([
      'delete Listener',
      'delete LoadBalancer',
      'create SecurityGroup',
      'update SecurityGroupIngress',
      'create LoadBalancer',
    ]);
    expect(back.actions.find((a) => a.kind === 'LoadBalancer' && a.op === 'delete')).toMatchObject({
      reason: `replaced by ${withSg.loadBalancer.name}: security groups cannot be added to an existing NLB`,
    });
    // A custom name does not change, but the mode still decides: replaced, not kept.
    const named = (extra: Record<string, string>) =>
      build(lbService('web', { annotations: { [A.name]: 'my-nlb', ...extra } }));
    const p2 = planStack(named({ [A.disableNlbSg]: 'true' }), observedFrom(named({})), 'vpc-1');
    expect(p2.actions[1]).toMatchObject({ op: 'delete', kind: 'LoadBalancer', arn: 'arn:lb/1' });
  });

  it('capacity: set on create, changed, reset when removed or 0, nothing when equal', () => {
    const cap = (v?: string) => build(lbService('web', { annotations: v ? { [A.minimumCapacity]: v } : {} }));
    const created = planStack(cap('CapacityUnits=1000'), empty('default/web'), 'vpc-1');
    expect(created.actions.filter((a) => a.kind === 'LoadBalancerCapacity')).toEqual([
      {
        op: 'update',
        kind: 'LoadBalancerCapacity',
        name: cap().loadBalancer.name,
        arn: { ref: 'lb' },
        capacityUnits: 1000,
      },
    ]);
    const o = observedFrom(cap('CapacityUnits=1000'));
    expect(planStack(cap('CapacityUnits=1000'), o, 'vpc-1').actions).toEqual([]);
    expect(shape(planStack(cap('CapacityUnits=2000'), o, 'vpc-1')).slice(1)).toEqual([
      `~ update LoadBalancerCapacity ${cap().loadBalancer.name}: CapacityUnits=2000`,
    ]);
    for (const d of [cap(), cap('CapacityUnits=0')])
      expect(planStack(d, o, 'vpc-1').actions).toEqual([
        { op: 'update', kind: 'LoadBalancerCapacity', name: d.loadBalancer.name, arn: 'arn:lb/1' },
      ]);
    // No reservation and none wanted: no call.
    expect(planStack(cap('CapacityUnits=0'), observedFrom(cap()), 'vpc-1').actions).toEqual([]);
  });

  it('listener attributes: set right after a new listener, changed in place, left alone when equal or removed', () => {
    const ports = [
      { name: 'http', port: 80, nodePort: 30080 },
      { name: 'dns', port: 53, nodePort: 30053, protocol: 'UDP' },
      { name: 'dns-tcp', port: 53, nodePort: 30053 },
    ];
    const svc = (a: Record<string, string>) => lbService('web', { ports, annotations: a });
    const attrs = {
      [`${LISTENER_ATTRIBUTES_PREFIX}TCP-80`]: 'tcp.idle_timeout.seconds=400',
      [`${LISTENER_ATTRIBUTES_PREFIX}TCP_UDP-53`]: 'tcp.idle_timeout.seconds=1000',
    };
    const d = build(svc(attrs));
    expect(d.listeners.map((l) => [l.key, l.attributes])).toEqual([
      ['tcp_udp-53', { 'tcp.idle_timeout.seconds': '1000' }],
      ['tcp-80', { 'tcp.idle_timeout.seconds': '400' }],
    ]);
    const plan = planStack(d, empty(d.stack), 'vpc-1');
    golden('listener-attributes', { plan, text: formatPlan(plan).split('\n') });
    const kinds = plan.actions.map(
      (a) => `${a.kind}${a.kind === 'Listener' || a.kind === 'ListenerAttributes' ? ` ${a.name}` : ''}`,
    );
    expect(kinds.slice(-4)).toEqual([
      `Listener ${d.loadBalancer.name}:53`,
      `ListenerAttributes ${d.loadBalancer.name}:53`,
      `Listener ${d.loadBalancer.name}:80`,
      `ListenerAttributes ${d.loadBalancer.name}:80`,
    ]);
    expect(plan.actions.at(-1)).toMatchObject({ arn: { ref: 'listener', key: 'tcp-80' } });
    // Applied: nothing more to do. Changed: one ModifyListenerAttributes with that key, on the listener's ARN.
    expect(planStack(d, observedFrom(d), 'vpc-1').actions).toEqual([]);
    const changed = build(svc({ ...attrs, [`${LISTENER_ATTRIBUTES_PREFIX}TCP-80`]: 'tcp.idle_timeout.seconds=600' }));
    expect(planStack(changed, observedFrom(d), 'vpc-1').actions).toEqual([
      {
        op: 'update',
        kind: 'ListenerAttributes',
        name: `${d.loadBalancer.name}:80`,
        arn: 'arn:listener/80',
        attributes: { 'tcp.idle_timeout.seconds': '600' },
      },
    ]);
    // Removed: as in the LB controller, the listener keeps its value (AWS's default 350 here): no change planned.
    expect(planStack(build(svc({})), observedFrom(d), 'vpc-1').actions).toEqual([]);
  });

  it('listener attributes naming no listener of the Service, or one without a TCP idle timeout: refused', () => {
    const err = (ports: NonNullable<Parameters<typeof lbService>[1]>['ports'], a: Record<string, string>) =>
      buildDesiredStack(lbService('web', { ports, annotations: a }), env).errors;
    const key = (s: string) => `${LISTENER_ATTRIBUTES_PREFIX}${s}`;
    const v = 'tcp.idle_timeout.seconds=400';
    expect(err(undefined, { [key('TCP-81')]: v })).toEqual([
      `metadata.annotations[${key('TCP-81')}]: Invalid value: "${v}": this Service has no port 81`,
    ]);
    expect(err(undefined, { [key('UDP-80')]: v })).toEqual([
      `metadata.annotations[${key('UDP-80')}]: Invalid value: "${v}": the listener on port 80 is TCP, not UDP`,
    ]);
    expect(err([{ port: 53, nodePort: 30053, protocol: 'UDP' }], { [key('UDP-53')]: v })).toEqual([
      `metadata.annotations[${key('UDP-53')}]: Invalid value: "${v}": a UDP listener has no settable TCP idle timeout ` +
        '(ELBv2: TCP and TCP_UDP listeners only)',
    ]);
    const tls = { [A.sslCert]: 'arn:aws:acm:us-east-1:123456789012:certificate/abc' };
    expect(err(undefined, { ...tls, [key('TCP-80')]: v })[0]).toContain('the listener on port 80 is TLS, not TCP');
    expect(err(undefined, { ...tls, [key('TLS-80')]: v })[0]).toContain('a TLS listener has no settable TCP idle');
  });

  it('a bad value of any of them: errors, nothing built', () => {
    for (const a of <Record<string, string>[]>[
      { [A.securityGroupPrefixLists]: 'sg-1' },
      { [A.disableNlbSg]: 'maybe' },
      { [A.icmpForPathMtuDiscovery]: 'yes' },
      { [A.minimumCapacity]: 'CapacityUnits=lots' },
      { [`${LISTENER_ATTRIBUTES_PREFIX}TCP-80`]: 'tcp.idle_timeout.seconds=7000' },
    ]) {
      const r = buildDesiredStack(lbService('web', { annotations: a }), env);
      expect(r.desired, JSON.stringify(a)).toBeUndefined();
      expect(r.errors[0]).toMatch(/^metadata\.annotations\[service\.beta\.kubernetes\.io\/aws-load-balancer-/);
    }
  });
});

describe('subnet selection and names', () => {
  it('one subnet per AZ: role tag, then cluster tag, then lowest id; never another cluster', () => {
    expect(selectSubnets(subnets, CLUSTER, 'internet-facing').subnets!.map((s) => s.subnetId)).toEqual([
      'subnet-0a',
      'subnet-0b',
    ]);
    expect(selectSubnets(subnets, CLUSTER, 'internal').subnets!.map((s) => s.subnetId)).toEqual([
      'subnet-0c',
      'subnet-0d',
    ]);
    const untagged: SubnetInfo[] = [
      { subnetId: 'subnet-9', availabilityZone: 'a', vpcId: 'v', tags: {} },
      { subnetId: 'subnet-5', availabilityZone: 'a', vpcId: 'v', tags: {} },
      { subnetId: 'subnet-7', availabilityZone: 'a', vpcId: 'v', tags: { 'kubernetes.io/cluster/prod': 'shared' } },
    ];
    expect(selectSubnets(untagged, CLUSTER, 'internal').subnets!.map((s) => s.subnetId)).toEqual(['subnet-7']);
    expect(selectSubnets(untagged.slice(0, 2), CLUSTER, 'internal').subnets!.map((s) => s.subnetId)).toEqual([
      'subnet-5',
    ]);
    expect(selectSubnets([subnets[4]!], CLUSTER, 'internet-facing').error).toContain('no usable subnet');
    expect(
      selectSubnets(subnets, CLUSTER, 'internet-facing', ['pub-a', 'subnet-0d']).subnets!.map((s) => s.subnetId),
    ).toEqual(['subnet-0a', 'subnet-0d']);
    expect(selectSubnets(subnets, CLUSTER, 'internet-facing', ['subnet-0a', 'subnet-0c']).error).toContain(
      'one subnet per Availability Zone',
    );
  });

  it('NLB names are deterministic, ELBv2-valid and at most 32 characters (property)', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/),
        fc.stringMatching(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/),
        (ns, name) => {
          const n = loadBalancerName('c', ns, name, 'internet-facing');
          return (
            n.length <= 32 &&
            /^[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]$/.test(n) &&
            n === loadBalancerName('c', ns, name, 'internet-facing')
          );
        },
      ),
    );
    expect(loadBalancerName('c', 'ns', 'a', 'internal')).not.toBe(loadBalancerName('c', 'ns', 'a', 'internet-facing'));
  });
});

describe('layering', () => {
  it('the pure layers (desired state, planner, subnets, names, tags, annotations, node eligibility) import no AWS SDK', () => {
    const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
    // build/ and plan/ whole: every file of the desired-state builder and of the planner.
    const folder = (d: string) => readdirSync(join(root, d)).map((f) => `${d}/${f}`);
    const pure = [
      'lib/lb/model.ts',
      ...folder('lib/lb/build'),
      ...folder('lib/lb/plan'),
      'lib/lb/subnets.ts',
      'lib/lb/naming.ts',
      'lib/lb/ownership.ts',
      'lib/tags.ts',
      'lib/model/annotations.ts',
      'lib/nodes/eligible.ts',
    ];
    for (const f of pure) {
      const src = readFileSync(join(root, f), 'utf8');
      expect(src, f).not.toMatch(/from '@aws-sdk\//);
      expect(src, f).not.toMatch(/from '\.\/(apply|observe|calls|index)\.js'/);
      expect(src, f).not.toMatch(/from '\.\.\/(apply\/[\w-]+|observe|calls|index)\.js'/);
    }
  });
});
