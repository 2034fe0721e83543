import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { V1Service } from '@kubernetes/client-node';
import { defaultEndpoints, defaultPod, defaultService } from '../../lib/model/defaults.js';

describe('defaultService', () => {
  it('applies every API-server default to a minimal ClusterIP Service', () => {
    const out = defaultService({
      metadata: { name: 'web' },
      spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
    });
    expect(out).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        type: 'ClusterIP',
        selector: { app: 'web' },
        ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }],
        sessionAffinity: 'None',
        internalTrafficPolicy: 'Cluster',
        ipFamilyPolicy: 'SingleStack',
        ipFamilies: ['IPv4'],
      },
    });
  });

  it('does not modify its input', () => {
    const input: V1Service = { metadata: { name: 'web' }, spec: { ports: [{ port: 80 }] } };
    const snapshot = structuredClone(input);
    defaultService(input);
    expect(input).toEqual(snapshot);
  });

  it('defaults NodePort and LoadBalancer traffic fields', () => {
    const np = defaultService({ metadata: { name: 'a' }, spec: { type: 'NodePort', ports: [{ port: 80 }] } }).spec!;
    expect(np.externalTrafficPolicy).toBe('Cluster');
    expect(np.allocateLoadBalancerNodePorts).toBeUndefined();
    const lb = defaultService({ metadata: { name: 'a' }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } }).spec!;
    expect(lb.externalTrafficPolicy).toBe('Cluster');
    expect(lb.allocateLoadBalancerNodePorts).toBe(true);
    expect(lb.internalTrafficPolicy).toBe('Cluster');
    const keep = defaultService({
      metadata: { name: 'a' },
      spec: {
        type: 'LoadBalancer',
        allocateLoadBalancerNodePorts: false,
        externalTrafficPolicy: 'Local',
        ports: [{ port: 80 }],
      },
    }).spec!;
    expect(keep.allocateLoadBalancerNodePorts).toBe(false);
    expect(keep.externalTrafficPolicy).toBe('Local');
  });

  it('defaults externalTrafficPolicy for a ClusterIP Service with externalIPs only', () => {
    expect(
      defaultService({ metadata: { name: 'a' }, spec: { externalIPs: ['203.0.113.1'], ports: [{ port: 80 }] } }).spec
        ?.externalTrafficPolicy,
    ).toBe('Cluster');
    expect(
      defaultService({ metadata: { name: 'a' }, spec: { ports: [{ port: 80 }] } }).spec?.externalTrafficPolicy,
    ).toBeUndefined();
  });

  it('sets the ClientIP affinity timeout to 10800 and clears affinity config for None', () => {
    expect(defaultService({ spec: { sessionAffinity: 'ClientIP' } }).spec?.sessionAffinityConfig).toEqual({
      clientIP: { timeoutSeconds: 10800 },
    });
    expect(
      defaultService({
        spec: { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } },
      }).spec?.sessionAffinityConfig,
    ).toEqual({ clientIP: { timeoutSeconds: 60 } });
    expect(
      defaultService({ spec: { sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } } }).spec
        ?.sessionAffinityConfig,
    ).toBeUndefined();
  });

  it('defaults targetPort 0 and "" to the port, keeps named and numeric targets', () => {
    const ports = defaultService({
      spec: {
        ports: [
          { port: 80, targetPort: 0 },
          { port: 81, targetPort: '' },
          { port: 82, targetPort: 'http' },
          { port: 83, targetPort: 8083, protocol: 'UDP' },
        ],
      },
    }).spec!.ports!;
    expect(ports.map((p) => [p.targetPort, p.protocol])).toEqual([
      [80, 'TCP'],
      [81, 'TCP'],
      ['http', 'TCP'],
      [8083, 'UDP'],
    ]);
  });

  it('leaves ExternalName without internalTrafficPolicy or IP-family fields', () => {
    const spec = defaultService({ spec: { type: 'ExternalName', externalName: 'db.example.com' } }).spec!;
    expect(spec.internalTrafficPolicy).toBeUndefined();
    expect(spec.ipFamilies).toBeUndefined();
    expect(spec.ipFamilyPolicy).toBeUndefined();
    expect(spec.clusterIPs).toBeUndefined();
  });

  it('mirrors clusterIP into clusterIPs (and not the other way round)', () => {
    expect(defaultService({ spec: { clusterIP: '10.96.0.10' } }).spec?.clusterIPs).toEqual(['10.96.0.10']);
    const pluralOnly = defaultService({ spec: { clusterIPs: ['10.96.0.10'] } }).spec!;
    expect(pluralOnly.clusterIP).toBeUndefined();
  });

  it('defaults headless Services like the API server on a single-stack cluster', () => {
    const withSel = defaultService({ spec: { clusterIP: 'None', selector: { app: 'x' } } }).spec!;
    expect([withSel.clusterIPs, withSel.ipFamilyPolicy, withSel.ipFamilies]).toEqual([
      ['None'],
      'SingleStack',
      ['IPv4'],
    ]);
    const noSel = defaultService({ spec: { clusterIP: 'None' } }).spec!;
    expect([noSel.ipFamilyPolicy, noSel.ipFamilies]).toEqual(['RequireDualStack', ['IPv4', 'IPv6']]);
    const single = defaultService({ spec: { clusterIP: 'None', ipFamilyPolicy: 'SingleStack' } }).spec!;
    expect(single.ipFamilies).toEqual(['IPv4']);
  });

  it('infers ipFamilies from a requested clusterIP', () => {
    expect(defaultService({ spec: { clusterIP: 'fd00::10' } }).spec?.ipFamilies).toEqual(['IPv6']);
  });

  it('is idempotent (property)', () => {
    const portArb = fc.record(
      {
        name: fc.constantFrom('http', 'https', 'dns'),
        port: fc.integer({ min: 0, max: 70000 }),
        targetPort: fc.oneof(fc.integer({ min: 0, max: 70000 }), fc.constantFrom('', 'http', 'web')),
        protocol: fc.constantFrom('TCP', 'UDP', 'SCTP', ''),
        nodePort: fc.integer({ min: 0, max: 40000 }),
      },
      { requiredKeys: ['port'] },
    );
    const svcArb = fc.record(
      {
        type: fc.constantFrom('ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName', '', 'Bogus'),
        clusterIP: fc.constantFrom('None', '10.96.0.10', '', 'fd00::1'),
        selector: fc.dictionary(fc.constantFrom('app', 'tier'), fc.constantFrom('web', 'db')),
        ports: fc.array(portArb, { maxLength: 3 }),
        sessionAffinity: fc.constantFrom('None', 'ClientIP', ''),
        externalIPs: fc.array(fc.ipV4(), { maxLength: 1 }),
        externalTrafficPolicy: fc.constantFrom('Cluster', 'Local', ''),
        ipFamilyPolicy: fc.constantFrom('SingleStack', 'PreferDualStack', 'RequireDualStack'),
        externalName: fc.constant('db.example.com'),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(svcArb, fc.option(fc.constantFrom('default', 'prod'), { nil: undefined }), (spec, namespace) => {
        const once = defaultService({ metadata: { name: 'x', namespace }, spec: spec as V1Service['spec'] });
        expect(defaultService(once)).toEqual(once);
      }),
      { numRuns: 300 },
    );
  });
});

describe('defaultPod / defaultEndpoints', () => {
  it('defaults namespace and port protocols', () => {
    const pod = defaultPod({
      metadata: { name: 'p' },
      spec: { containers: [{ name: 'c', ports: [{ containerPort: 80 }, { containerPort: 53, protocol: 'UDP' }] }] },
    });
    expect(pod.metadata?.namespace).toBe('default');
    expect(pod.spec?.containers[0]?.ports?.map((p) => p.protocol)).toEqual(['TCP', 'UDP']);
    const ep = defaultEndpoints({
      metadata: { name: 'e', namespace: 'prod' },
      subsets: [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 5432 }] }],
    });
    expect(ep.metadata?.namespace).toBe('prod');
    expect(ep.subsets?.[0]?.ports?.[0]?.protocol).toBe('TCP');
  });

  it('fills status.podIPs from status.podIP as the v1 conversion does; podIP wins when they differ', () => {
    const spec = { containers: [{ name: 'c' }] };
    expect(defaultPod({ metadata: { name: 'p' }, spec, status: { podIP: '10.244.1.7' } }).status?.podIPs).toEqual([
      { ip: '10.244.1.7' },
    ]);
    const both = { podIP: '10.244.1.7', podIPs: [{ ip: '10.244.1.7' }, { ip: 'fd00::7' }] };
    expect(defaultPod({ metadata: { name: 'p' }, spec, status: both }).status?.podIPs).toEqual(both.podIPs);
    expect(defaultPod({ metadata: { name: 'p' }, spec }).status).toBeUndefined();
    // Both set and different: podIP wins, as the conversion decides for older clients.
    const stale = { podIP: '10.244.9.9', podIPs: [{ ip: '10.244.1.7' }, { ip: 'fd00::7' }] };
    expect(defaultPod({ metadata: { name: 'p' }, spec, status: stale }).status?.podIPs).toEqual([{ ip: '10.244.9.9' }]);
  });
});
