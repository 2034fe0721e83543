import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { V1Service } from '@kubernetes/client-node';
import {
  alreadyAllocated,
  emptyAvoid,
  heldValues,
  planAllocation,
  POOL_CLUSTER_IP,
  POOL_NODE_PORT,
  ServiceAllocator,
} from '../../lib/api/allocator.js';
import { formatFieldError } from '../../lib/model/field-errors.js';
import { parseIPv4 } from '../../lib/model/ip.js';
import { DEFAULT_CLUSTER_CONFIG } from '../../lib/model/types.js';

const alloc = new ServiceAllocator(DEFAULT_CLUSTER_CONFIG);
const msgs = (errs: { type: string }[]) => errs.map((e) => formatFieldError(e as never));

const svc = (spec: V1Service['spec'], name = 's'): V1Service => ({ metadata: { name, namespace: 'default' }, spec });

describe('ServiceAllocator ranges', () => {
  it('excludes the network and broadcast addresses and reserves the first usable one', () => {
    expect(alloc.ipInRange('10.96.0.0')).toBe(false);
    expect(alloc.ipInRange('10.111.255.255')).toBe(false);
    expect(alloc.ipInRange('10.96.0.1')).toBe(true);
    expect(alloc.ipInRange('10.111.255.254')).toBe(true);
    expect(alloc.ipInRange('10.112.0.1')).toBe(false);
    expect(alloc.reservedIP).toBe('10.96.0.1');
  });

  it('a /29 hands out its 5 non-reserved usable addresses, then reports exhaustion', () => {
    const small = new ServiceAllocator({ serviceCidr: '10.0.0.0/29', nodePortRange: { min: 30000, max: 30002 } });
    const taken = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const ip = small.pickIP(taken);
      expect(ip).toBeDefined();
      taken.add(ip!);
    }
    expect([...taken].sort()).toEqual(['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
    expect(small.pickIP(taken)).toBeUndefined();
    const ports = new Set<string>();
    for (let i = 0; i < 3; i++) ports.add(String(small.pickPort(ports)));
    expect([...ports].sort()).toEqual(['30000', '30001', '30002']);
    expect(small.pickPort(ports)).toBeUndefined();
  });

  it('automatic picks prefer the upper band, leaving the lower band for fixed requests', () => {
    // NodePort band: min(max(16, 2768/32), 128) = 86 ports at the bottom.
    for (let i = 0; i < 200; i++) expect(alloc.pickPort(new Set())!).toBeGreaterThanOrEqual(30086);
    // ClusterIP band: min(max(16, size/16), 256) = 256 addresses at the bottom of a /12.
    const low = parseIPv4('10.96.1.1')!;
    for (let i = 0; i < 200; i++) expect(parseIPv4(alloc.pickIP(new Set())!)!).toBeGreaterThanOrEqual(low);
  });

  it('falls back to the lower band when the upper band is full', () => {
    const a = new ServiceAllocator({ serviceCidr: '10.0.0.0/24', nodePortRange: { min: 30000, max: 30099 } });
    // 100 ports: band offset = max(16, 3) = 16; fill 30016..30099.
    const taken = new Set(Array.from({ length: 84 }, (_, i) => String(30016 + i)));
    const p = a.pickPort(taken)!;
    expect(p).toBeGreaterThanOrEqual(30000);
    expect(p).toBeLessThan(30016);
  });

  it('refuses CIDRs without usable addresses and inverted port ranges', () => {
    expect(() => new ServiceAllocator({ serviceCidr: '10.0.0.0/31', nodePortRange: { min: 1, max: 2 } })).toThrow(
      /CIDR/,
    );
    expect(() => new ServiceAllocator({ serviceCidr: '10.0.0.0/24', nodePortRange: { min: 3, max: 2 } })).toThrow(
      /range/,
    );
  });
});

describe('planAllocation', () => {
  it('allocates a clusterIP and a nodePort per port; TCP and UDP of one port share the number', () => {
    const plan = planAllocation(alloc, {
      next: svc({
        type: 'NodePort',
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP' },
          { name: 'dns-tcp', port: 53, protocol: 'TCP' },
          { name: 'http', port: 80, protocol: 'TCP' },
        ],
      }),
    });
    expect(plan.errors).toEqual([]);
    const ports = plan.service.spec!.ports!;
    expect(ports[0]!.nodePort).toBe(ports[1]!.nodePort);
    expect(ports[2]!.nodePort).not.toBe(ports[0]!.nodePort);
    expect(plan.service.spec!.clusterIPs).toEqual([plan.service.spec!.clusterIP]);
    expect(plan.claims.map((c) => [c.pool, c.field])).toEqual([
      [POOL_CLUSTER_IP, 'spec.clusterIPs[0]'],
      [POOL_NODE_PORT, 'spec.ports[0].nodePort'],
      [POOL_NODE_PORT, 'spec.ports[2].nodePort'],
    ]);
  });

  it('honours requested values and words range errors like the API server', () => {
    const plan = planAllocation(alloc, {
      next: svc({
        type: 'LoadBalancer',
        externalTrafficPolicy: 'Local',
        clusterIP: '1.2.3.4',
        clusterIPs: ['1.2.3.4'],
        healthCheckNodePort: 80,
        ports: [{ port: 80, protocol: 'TCP', nodePort: 29999 }],
      }),
    });
    expect(msgs(plan.errors)).toEqual([
      'spec.clusterIPs[0]: Invalid value: "1.2.3.4": failed to allocate IP 1.2.3.4: provided IP is not in the valid range. The range of valid IPs is 10.96.0.0/12',
      'spec.ports[0].nodePort: Invalid value: 29999: provided port is not in the valid range. The range of valid ports is 30000-32767',
      'spec.healthCheckNodePort: Invalid value: 80: failed to allocate requested HealthCheck NodePort 80: provided port is not in the valid range. The range of valid ports is 30000-32767',
    ]);
  });

  it('the reserved first address goes to default/kubernetes only', () => {
    const k = planAllocation(alloc, { next: { metadata: { name: 'kubernetes', namespace: 'default' }, spec: {} } });
    expect(k.service.spec?.clusterIP).toBe('10.96.0.1');
    const other = planAllocation(alloc, { next: svc({ clusterIP: '10.96.0.1', clusterIPs: ['10.96.0.1'] }) });
    expect(msgs(other.errors)).toEqual([
      'spec.clusterIPs[0]: Invalid value: "10.96.0.1": failed to allocate IP 10.96.0.1: provided IP is already allocated',
    ]);
  });

  it('headless and ExternalName allocate nothing', () => {
    for (const spec of [
      { clusterIP: 'None', clusterIPs: ['None'], ports: [{ port: 80 }] },
      { type: 'ExternalName', externalName: 'example.com' },
    ]) {
      const plan = planAllocation(alloc, { next: svc(spec) });
      expect(plan.claims).toEqual([]);
      expect(plan.errors).toEqual([]);
    }
  });

  it('LoadBalancer with allocateLoadBalancerNodePorts=false allocates only requested node ports', () => {
    const plan = planAllocation(alloc, {
      next: svc({
        type: 'LoadBalancer',
        allocateLoadBalancerNodePorts: false,
        ports: [
          { name: 'a', port: 80, protocol: 'TCP' },
          { name: 'b', port: 81, protocol: 'TCP', nodePort: 30500 },
        ],
      }),
    });
    expect(plan.service.spec!.ports![0]!.nodePort).toBeUndefined();
    expect(plan.claims.filter((c) => c.pool === POOL_NODE_PORT).map((c) => c.value)).toEqual(['30500']);
  });

  it('releases what the new shape no longer holds (type change, port removal, health check)', () => {
    const prev = svc({
      type: 'LoadBalancer',
      externalTrafficPolicy: 'Local',
      healthCheckNodePort: 31000,
      clusterIP: '10.96.5.5',
      clusterIPs: ['10.96.5.5'],
      ports: [
        { name: 'a', port: 80, protocol: 'TCP', nodePort: 30080 },
        { name: 'b', port: 81, protocol: 'TCP', nodePort: 30081 },
      ],
    });
    const toNodePort = planAllocation(alloc, {
      prev,
      next: svc({
        type: 'NodePort',
        clusterIP: '10.96.5.5',
        clusterIPs: ['10.96.5.5'],
        ports: [{ name: 'a', port: 80, protocol: 'TCP', nodePort: 30080 }],
      }),
    });
    expect(toNodePort.claims).toEqual([]);
    expect(toNodePort.releases).toEqual([
      { pool: POOL_NODE_PORT, value: '30081' },
      { pool: POOL_NODE_PORT, value: '31000' },
    ]);
    const toExternal = planAllocation(alloc, { prev, next: svc({ type: 'ExternalName', externalName: 'x.io' }) });
    expect(toExternal.releases.map((r) => r.value).sort()).toEqual(['10.96.5.5', '30080', '30081', '31000']);
  });

  it('a requested nodePort used twice with the same protocol, or equal to the health check port, is refused', () => {
    const plan = planAllocation(alloc, {
      next: svc({
        type: 'LoadBalancer',
        externalTrafficPolicy: 'Local',
        healthCheckNodePort: 30001,
        ports: [
          { name: 'a', port: 80, protocol: 'TCP', nodePort: 30001 },
          { name: 'b', port: 81, protocol: 'TCP', nodePort: 30001 },
        ],
      }),
    });
    expect(msgs(plan.errors)).toEqual([
      'spec.ports[1].nodePort: Invalid value: 30001: provided port is already allocated',
      'spec.healthCheckNodePort: Invalid value: 30001: failed to allocate requested HealthCheck NodePort 30001: provided port is already allocated',
    ]);
  });

  it('alreadyAllocated wording per field', () => {
    expect(
      formatFieldError(alreadyAllocated({ pool: POOL_NODE_PORT, value: '30001', field: 'spec.ports[0].nodePort' })),
    ).toBe('spec.ports[0].nodePort: Invalid value: 30001: provided port is already allocated');
  });
});

describe('allocator properties (fast-check)', () => {
  it('random sequences of automatic picks stay in range, never repeat, never take the reserved address, and fill the range exactly', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 24, max: 29 }),
        fc.integer({ min: 1, max: 200 }),
        fc.array(fc.double({ min: 0, max: 0.999999, noNaN: true }), { minLength: 1, maxLength: 64 }),
        (prefix, portCount, randoms) => {
          const a = new ServiceAllocator({
            serviceCidr: `10.20.30.0/${prefix}`,
            nodePortRange: { min: 30000, max: 30000 + portCount - 1 },
          });
          let k = 0;
          const rand = () => randoms[k++ % randoms.length]!;
          const ips = new Set<string>();
          for (;;) {
            const ip = a.pickIP(ips, rand);
            if (ip === undefined) break;
            expect(ips.has(ip)).toBe(false);
            expect(a.ipInRange(ip)).toBe(true);
            expect(ip).not.toBe(a.reservedIP);
            ips.add(ip);
          }
          // Usable = size - 2 (network, broadcast), minus the reserved first address.
          expect(ips.size).toBe(2 ** (32 - prefix) - 3);
          const ports = new Set<string>();
          for (;;) {
            const p = a.pickPort(ports, rand);
            if (p === undefined) break;
            expect(a.portInRange(p)).toBe(true);
            expect(ports.has(String(p))).toBe(false);
            ports.add(String(p));
          }
          expect(ports.size).toBe(portCount);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('plans never claim a value to avoid, and every held value is either kept or released', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'),
        fc.constantFrom('ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'),
        fc.uniqueArray(fc.integer({ min: 1, max: 65535 }), { minLength: 1, maxLength: 5 }),
        fc.boolean(),
        fc.array(fc.integer({ min: 30000, max: 32767 }), { maxLength: 50 }),
        (prevType, nextType, portNums, local, avoidPorts) => {
          const mk = (type: string) =>
            svc({
              type,
              externalTrafficPolicy: local ? 'Local' : 'Cluster',
              ...(type === 'ExternalName' ? { externalName: 'x.io' } : {}),
              ports: portNums.map((port, i) => ({ name: `p${i}`, port, protocol: 'TCP' })),
            });
          const prev = planAllocation(alloc, { next: mk(prevType) }).service;
          const avoid = emptyAvoid();
          for (const p of avoidPorts) avoid.nodePort.add(String(p));
          const plan = planAllocation(alloc, { prev, next: mk(nextType), avoid });
          expect(plan.errors).toEqual([]);
          for (const c of plan.claims) {
            if (c.pool === POOL_NODE_PORT) expect(avoid.nodePort.has(c.value)).toBe(false);
          }
          const before = heldValues(prev);
          const after = heldValues(plan.service);
          const released = new Set(plan.releases.map((r) => `${r.pool}/${r.value}`));
          for (const v of before.nodePort)
            expect(after.nodePort.has(v) || released.has(`${POOL_NODE_PORT}/${v}`)).toBe(true);
          for (const v of before.clusterIP)
            expect(after.clusterIP.has(v) || released.has(`${POOL_CLUSTER_IP}/${v}`)).toBe(true);
          // Every value held after the write is either kept from before or claimed now.
          const claimed = new Set(plan.claims.map((c) => `${c.pool}/${c.value}`));
          for (const v of after.nodePort)
            expect(before.nodePort.has(v) || claimed.has(`${POOL_NODE_PORT}/${v}`)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });
});
