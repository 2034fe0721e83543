/** Table cells as the apiserver's printers compute them, for the states kubectl users see most. */
import { describe, expect, it } from 'vitest';
import type { ApiObject } from '../../lib/api/backend.js';
import { humanDuration } from '../../lib/apiserver/table/duration.js';
import { toTable } from '../../lib/apiserver/table/convert.js';

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const ago = (ms: number) => new Date(NOW - ms).toISOString();
const cells = (o: object) =>
  (
    toTable(
      (o as ApiObject).kind,
      [o as ApiObject],
      {},
      { includeObject: 'None', noHeaders: true, version: 'v1', now: NOW },
    ).rows as { cells: unknown[] }[]
  )[0]!.cells;

describe('ages', () => {
  it('HumanDuration boundaries', () => {
    const s = 1000;
    const cases: [number, string][] = [
      [-5 * s, '<invalid>'],
      [-1 * s, '0s'],
      [59 * s, '59s'],
      [119 * s, '119s'],
      [125 * s, '2m5s'],
      [10 * 60 * s, '10m'],
      [179 * 60 * s, '179m'],
      [3 * 3600 * s + 5 * 60 * s, '3h5m'],
      [9 * 3600 * s, '9h'],
      [50 * 3600 * s, '2d2h'],
      [10 * 86400 * s, '10d'],
      [800 * 86400 * s, '2y70d'],
      [9 * 365 * 86400 * s, '9y'],
    ];
    for (const [ms, text] of cases) expect(humanDuration(ms), String(ms)).toBe(text);
  });
});

describe('service rows', () => {
  const base = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', creationTimestamp: ago(90_000) } };
  it('LoadBalancer: ingress hostnames and IPs (sorted, deduplicated) then externalIPs; <pending> without', () => {
    const lb = {
      ...base,
      spec: {
        type: 'LoadBalancer',
        clusterIPs: ['10.96.0.10'],
        externalIPs: ['9.9.9.9'],
        ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }],
      },
      status: { loadBalancer: { ingress: [{ hostname: 'b.example' }, { ip: '1.2.3.4' }, { hostname: 'b.example' }] } },
    };
    expect(cells(lb)).toEqual([
      's',
      'LoadBalancer',
      '10.96.0.10',
      '1.2.3.4,b.example,9.9.9.9',
      '80:30080/TCP',
      '90s',
      '<none>',
      '<unknown>', // LB-COST/MO: this server has no region
    ]);
    const pending = { ...lb, spec: { ...lb.spec, externalIPs: [] }, status: {} };
    expect(cells(pending)[3]).toBe('<pending>');
  });

  it('headless and portless services', () => {
    const headless = { ...base, spec: { type: 'ClusterIP', clusterIPs: ['None'], selector: { b: '2', a: '1' } } };
    expect(cells(headless)).toEqual(['s', 'ClusterIP', 'None', '<none>', '<none>', '90s', 'a=1,b=2', '<none>']);
  });
});

describe('pod rows', () => {
  const pod = (status: object, spec: object = { containers: [{ name: 'a' }] }, meta: object = {}) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', creationTimestamp: ago(3_600_000), ...meta },
    spec,
    status,
  });

  it('waiting reasons, restarts with the last restart age, terminating', () => {
    const crash = pod({
      phase: 'Running',
      containerStatuses: [
        {
          name: 'a',
          ready: false,
          restartCount: 5,
          state: { waiting: { reason: 'CrashLoopBackOff' } },
          lastState: { terminated: { exitCode: 1, finishedAt: ago(120_000) } },
        },
      ],
    });
    expect(cells(crash).slice(0, 5)).toEqual(['p', '0/1', 'CrashLoopBackOff', '5 (2m ago)', '60m']);
    const deleting = pod({ phase: 'Running' }, undefined, { deletionTimestamp: ago(0) });
    expect(cells(deleting)[2]).toBe('Terminating');
    const done = pod({
      phase: 'Succeeded',
      containerStatuses: [{ name: 'a', state: { terminated: { exitCode: 0, reason: 'Completed' } } }],
    });
    expect(cells(done)[2]).toBe('Completed');
  });

  it('init containers: Init:N/M, and sidecars count toward READY', () => {
    const spec = { initContainers: [{ name: 'i1' }, { name: 'i2' }], containers: [{ name: 'a' }] };
    const init = pod(
      {
        phase: 'Pending',
        initContainerStatuses: [
          { name: 'i1', state: { terminated: { exitCode: 0 } } },
          { name: 'i2', state: { running: {} } },
        ],
      },
      spec,
    );
    expect(cells(init).slice(1, 3)).toEqual(['0/1', 'Init:1/2']);
    const sidecarSpec = { initContainers: [{ name: 'proxy', restartPolicy: 'Always' }], containers: [{ name: 'a' }] };
    const running = pod(
      {
        phase: 'Running',
        conditions: [{ type: 'Initialized', status: 'True' }],
        initContainerStatuses: [{ name: 'proxy', started: true, ready: true, state: { running: {} } }],
        containerStatuses: [{ name: 'a', ready: true, state: { running: {} } }],
      },
      sidecarSpec,
    );
    expect(cells(running).slice(1, 3)).toEqual(['2/2', 'Running']);
  });
});

describe('endpoints, slices, nodes, events', () => {
  it('endpoints show three addresses then "+ N more..."', () => {
    const ep = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'e' },
      subsets: [{ addresses: ['1', '2', '3', '4'].map((i) => ({ ip: `10.0.0.${i}` })), ports: [{ port: 80 }] }],
    };
    expect(cells(ep)[1]).toBe('10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 1 more...');
    expect(cells({ ...ep, subsets: [] })[1]).toBe('<none>');
  });

  it('endpointslices: ports and addresses, <unset> when empty', () => {
    const es = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'x' },
      addressType: 'IPv4',
      ports: [],
      endpoints: [],
    };
    expect(cells(es).slice(0, 4)).toEqual(['x', 'IPv4', '<unset>', '<unset>']);
  });

  it('nodes: NotReady and SchedulingDisabled, roles from both label forms', () => {
    const node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'n', labels: { 'kubernetes.io/role': 'edge', 'node-role.kubernetes.io/control-plane': '' } },
      spec: { unschedulable: true },
      status: { conditions: [{ type: 'Ready', status: 'False' }] },
    };
    expect(cells(node).slice(1, 3)).toEqual(['NotReady,SchedulingDisabled', 'control-plane,edge']);
    expect(cells({ ...node, status: {} })[1]).toBe('Unknown,SchedulingDisabled');
  });

  it('events: series count and last seen, object, source with host', () => {
    const ev = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'ev1' },
      involvedObject: { kind: 'Service', name: 'web' },
      type: 'Warning',
      reason: 'SyncFailed',
      message: ' boom \n',
      source: { component: 'lb-controller', host: 'node-1' },
      eventTime: ago(600_000),
      series: { count: 4, lastObservedTime: ago(30_000) },
    };
    expect(cells(ev)).toEqual([
      '30s',
      'Warning',
      'SyncFailed',
      'service/web',
      '',
      'lb-controller, node-1',
      'boom',
      '10m',
      4,
      'ev1',
    ]);
  });
});
