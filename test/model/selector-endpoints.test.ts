import { describe, expect, it } from 'vitest';
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { defaultService } from '../../lib/model/defaults.js';
import { computeEndpoints, endpointsFromManual, resolveTargetPort } from '../../lib/model/endpoints.js';
import { hasSelector, selectorMatches, selectorToString, serviceSelectsPods } from '../../lib/model/selector.js';

describe('selector', () => {
  it('matches when every entry is present with the same value', () => {
    expect(selectorMatches({ app: 'web' }, { app: 'web', tier: 'fe' })).toBe(true);
    expect(selectorMatches({ app: 'web', tier: 'fe' }, { app: 'web' })).toBe(false);
    expect(selectorMatches({ app: 'web' }, { app: 'db' })).toBe(false);
    expect(selectorMatches({ app: '' }, { app: '' })).toBe(true);
    expect(selectorMatches({ app: '' }, {})).toBe(false);
    expect(selectorMatches({ toString: 'x' }, {})).toBe(false);
  });
  it('an empty or absent selector selects nothing', () => {
    expect(selectorMatches({}, { app: 'web' })).toBe(false);
    expect(selectorMatches(undefined, { app: 'web' })).toBe(false);
    expect(selectorMatches(null, {})).toBe(false);
    expect(hasSelector({})).toBe(false);
    expect(serviceSelectsPods({ spec: { selector: {} } })).toBe(false);
    expect(serviceSelectsPods({ spec: { type: 'ExternalName', selector: { a: 'b' } } })).toBe(false);
    expect(serviceSelectsPods({ spec: { selector: { a: 'b' } } })).toBe(true);
  });
  it('prints like labels.Set.String()', () => {
    expect(selectorToString({ tier: 'fe', app: 'web' })).toBe('app=web,tier=fe');
    expect(selectorToString({})).toBe('');
  });
});

const ready = [{ type: 'Ready', status: 'True' }];
const pod = (
  name: string,
  ip: string | undefined,
  o: {
    ns?: string;
    labels?: Record<string, string>;
    ready?: boolean;
    phase?: string;
    deleting?: boolean;
    node?: string;
    ports?: { name?: string; containerPort: number; protocol?: string }[];
  } = {},
): V1Pod => ({
  metadata: {
    name,
    namespace: o.ns ?? 'default',
    uid: `uid-${name}`,
    labels: o.labels ?? { app: 'web' },
    ...(o.deleting ? { deletionTimestamp: new Date('2024-01-01T00:00:00Z') } : {}),
  },
  spec: {
    nodeName: o.node ?? 'ip-10-0-1-5.ec2.internal',
    containers: [{ name: 'app', ports: o.ports ?? [{ name: 'http', containerPort: 8080 }] }],
  },
  status: {
    podIP: ip,
    phase: o.phase ?? 'Running',
    conditions: o.ready === false ? [{ type: 'Ready', status: 'False' }] : ready,
  },
});

const web = (extra: Partial<NonNullable<V1Service['spec']>> = {}): V1Service =>
  defaultService({
    metadata: { name: 'web' },
    spec: {
      selector: { app: 'web' },
      ports: [
        { name: 'http', port: 80, targetPort: 'http' },
        { name: 'metrics', port: 9090 },
      ],
      ...extra,
    },
  });

describe('computeEndpoints', () => {
  it('resolves named target ports per Pod and sorts by IP', () => {
    const pods = [
      pod('b', '10.0.1.20', { ports: [{ name: 'http', containerPort: 8081 }] }),
      pod('a', '10.0.1.3', { ports: [{ name: 'http', containerPort: 8080 }] }),
      pod('c', '10.0.1.100', { ports: [{ name: 'web', containerPort: 9000 }] }),
    ];
    const eps = computeEndpoints(web(), pods);
    expect(eps.namespace).toBe('default');
    expect(eps.name).toBe('web');
    expect(eps.endpoints.map((e) => [e.ip, e.ports.map((p) => `${p.name}:${p.port}/${p.protocol}`)])).toEqual([
      ['10.0.1.3', ['http:8080/TCP', 'metrics:9090/TCP']],
      ['10.0.1.20', ['http:8081/TCP', 'metrics:9090/TCP']],
      // Pod c lacks the "http" port: no entry for it, still an endpoint for "metrics".
      ['10.0.1.100', ['metrics:9090/TCP']],
    ]);
    expect(eps.endpoints[0]).toMatchObject({
      nodeName: 'ip-10-0-1-5.ec2.internal',
      targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' },
      ready: true,
      terminating: false,
    });
  });

  it('matches named ports by protocol too', () => {
    const svc = defaultService({
      metadata: { name: 'dns' },
      spec: { selector: { app: 'web' }, ports: [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 'dns' }] },
    });
    const tcpOnly = pod('a', '10.0.0.1', { ports: [{ name: 'dns', containerPort: 5353, protocol: 'TCP' }] });
    const udp = pod('b', '10.0.0.2', { ports: [{ name: 'dns', containerPort: 5353, protocol: 'UDP' }] });
    expect(computeEndpoints(svc, [tcpOnly, udp]).endpoints.map((e) => [e.ip, e.ports.length])).toEqual([
      ['10.0.0.1', 0],
      ['10.0.0.2', 1],
    ]);
    expect(resolveTargetPort(udp, svc.spec!.ports![0]!)).toBe(5353);
  });

  it('resolves a named port declared by a sidecar (restartable init container)', () => {
    const p = pod('a', '10.0.0.1', { ports: [] });
    p.spec!.initContainers = [
      { name: 'proxy', restartPolicy: 'Always', ports: [{ name: 'http', containerPort: 15001, protocol: 'TCP' }] },
    ];
    expect(computeEndpoints(web(), [p]).endpoints[0]?.ports).toEqual([
      { name: 'http', port: 15001, protocol: 'TCP' },
      { name: 'metrics', port: 9090, protocol: 'TCP' },
    ]);
  });

  it('excludes other namespaces, non-matching labels, Pods without IP and terminal Pods', () => {
    const eps = computeEndpoints(web(), [
      pod('other-ns', '10.0.0.1', { ns: 'prod' }),
      pod('other-app', '10.0.0.2', { labels: { app: 'db' } }),
      pod('no-ip', undefined),
      pod('done', '10.0.0.4', { phase: 'Succeeded' }),
      pod('failed', '10.0.0.5', { phase: 'Failed' }),
      pod('ok', '10.0.0.6'),
    ]);
    expect(eps.endpoints.map((e) => e.targetRef?.name)).toEqual(['ok']);
  });

  it('marks readiness and keeps terminating Pods apart', () => {
    const eps = computeEndpoints(web(), [
      pod('unready', '10.0.0.1', { ready: false }),
      pod('leaving', '10.0.0.2', { deleting: true }),
      pod('ok', '10.0.0.3'),
    ]);
    expect(eps.endpoints.map((e) => [e.targetRef?.name, e.ready, e.terminating])).toEqual([
      ['unready', false, false],
      ['leaving', false, true],
      ['ok', true, false],
    ]);
  });

  it('publishNotReadyAddresses makes every endpoint ready', () => {
    const eps = computeEndpoints(web({ publishNotReadyAddresses: true }), [
      pod('unready', '10.0.0.1', { ready: false }),
      pod('leaving', '10.0.0.2', { deleting: true }),
    ]);
    expect(eps.endpoints.map((e) => [e.ready, e.terminating])).toEqual([
      [true, false],
      [true, true],
    ]);
  });

  it('gives selector-less and ExternalName Services no Pod endpoints', () => {
    const pods = [pod('a', '10.0.0.1')];
    expect(
      computeEndpoints(defaultService({ metadata: { name: 'x' }, spec: { ports: [{ port: 80 }] } }), pods).endpoints,
    ).toEqual([]);
    expect(
      computeEndpoints(
        defaultService({
          metadata: { name: 'x' },
          spec: { type: 'ExternalName', externalName: 'a.b', selector: { app: 'web' } },
        }),
        pods,
      ).endpoints,
    ).toEqual([]);
  });

  it('uses the IPv4 address of a dual-stack Pod', () => {
    const p = pod('a', 'fd00::5');
    p.status!.podIPs = [{ ip: 'fd00::5' }, { ip: '10.0.0.9' }];
    expect(computeEndpoints(web(), [p]).endpoints[0]?.ip).toBe('10.0.0.9');
  });
});

describe('endpointsFromManual', () => {
  it('mirrors addresses, readiness and ports, merging an address listed in several subsets', () => {
    const eps = endpointsFromManual({
      metadata: { name: 'db', namespace: 'data' },
      subsets: [
        {
          addresses: [{ ip: '10.0.5.20', nodeName: 'n1' }, { ip: '10.0.5.3' }],
          notReadyAddresses: [{ ip: '10.0.5.4' }],
          ports: [{ name: 'pg', port: 5432 }],
        },
        { addresses: [{ ip: '10.0.5.20' }], ports: [{ name: 'metrics', port: 9187, protocol: 'TCP' }] },
        { addresses: [{ ip: 'fd00::1' }], ports: [{ name: 'pg', port: 5432 }] },
      ],
    });
    expect(eps).toEqual({
      namespace: 'data',
      name: 'db',
      endpoints: [
        { ip: '10.0.5.3', ready: true, terminating: false, ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] },
        { ip: '10.0.5.4', ready: false, terminating: false, ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] },
        {
          ip: '10.0.5.20',
          nodeName: 'n1',
          ready: true,
          terminating: false,
          ports: [
            { name: 'pg', port: 5432, protocol: 'TCP' },
            { name: 'metrics', port: 9187, protocol: 'TCP' },
          ],
        },
      ],
    });
  });
});
