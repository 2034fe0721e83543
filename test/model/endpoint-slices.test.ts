/**
 * The EndpointSlice and Endpoints controllers' pure planners (lib/model/endpoint-slices.ts, endpoints-object.ts):
 * whole outputs as golden files (test/model/golden/; regenerate after an intended change with
 * UPDATE_GOLDEN=1 npx vitest run test/model/endpoint-slices.test.ts and review the diff), upstream's packing rules,
 * and, over random Pod sets and histories, that applying a plan and planning again changes nothing (no churn),
 * with every endpoint in exactly one slice.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { V1EndpointSlice, V1Pod, V1Service } from '@kubernetes/client-node';
import { computeEndpoints } from '../../lib/model/endpoints.js';
import {
  LABEL_MANAGED_BY,
  LABEL_SERVICE_NAME,
  lastChangeTriggerTime,
  planEndpointSlices,
  TRIGGER_TIME_ANNOTATION,
  type SlicePlan,
} from '../../lib/model/endpoint-slices.js';
import {
  desiredEndpoints,
  MAX_ENDPOINTS_ADDRESSES,
  OVER_CAPACITY_ANNOTATION,
} from '../../lib/model/endpoints-object.js';

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

const svc = (over: Partial<V1Service['spec']> = {}, labels: Record<string, string> = {}): V1Service => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: {
    name: 'web',
    namespace: 'shop',
    uid: 'svc-uid-1',
    labels,
    creationTimestamp: '2025-01-01T00:00:00.000Z' as unknown as Date,
  },
  spec: {
    clusterIP: '10.96.0.20',
    selector: { app: 'web' },
    ports: [
      { name: 'http', port: 80, targetPort: 'http' as unknown as number, protocol: 'TCP' },
      { name: 'metrics', port: 9090, targetPort: 9090, protocol: 'TCP', appProtocol: 'http' },
    ],
    ...over,
  },
});

interface PodOpts {
  ready?: boolean;
  terminating?: boolean;
  node?: string;
  httpPort?: number;
  readyAt?: string;
  hostname?: string;
  labels?: Record<string, string>;
}

function pod(name: string, ip: string, o: PodOpts = {}): V1Pod {
  const at = (o.readyAt ?? '2025-01-01T00:01:00.000Z') as unknown as Date;
  return {
    metadata: {
      name,
      namespace: 'shop',
      uid: `uid-${name}`,
      labels: o.labels ?? { app: 'web' },
      ...(o.terminating ? { deletionTimestamp: '2025-01-01T00:05:00.000Z' as unknown as Date } : {}),
    },
    spec: {
      nodeName: o.node ?? 'ip-10-0-1-5.ec2.internal',
      ...(o.hostname ? { hostname: o.hostname, subdomain: 'web' } : {}),
      containers: [{ name: 'c', ports: [{ name: 'http', containerPort: o.httpPort ?? 8080, protocol: 'TCP' }] }],
    },
    status: {
      phase: 'Running',
      podIP: ip,
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True', lastTransitionTime: at }],
    },
  };
}

const zones = new Map([
  ['ip-10-0-1-5.ec2.internal', 'us-east-1a'],
  ['ip-10-0-2-6.ec2.internal', 'us-east-1b'],
]);

const endpointsOf = (s: V1Service, pods: V1Pod[]) => computeEndpoints(s, pods, '10.96.0.0/12').endpoints;

/** What the store holds after the plan is written (names, uids and revisions as the write path would set them). */
function applyPlan(existing: V1EndpointSlice[], plan: SlicePlan): V1EndpointSlice[] {
  const gone = new Set([...plan.delete, ...plan.update].map((s) => s.metadata?.name));
  const kept = existing.filter((s) => !gone.has(s.metadata?.name));
  return [...kept, ...plan.update, ...plan.create].map((s) => structuredClone(s));
}

const noChange = (p: SlicePlan) => p.create.length + p.update.length + p.delete.length === 0;

describe('EndpointSlices of a selector Service (golden)', () => {
  it('a mixed set of Pods: conditions, per-Pod ports in their own slice, zones, hostnames, owner and labels', () => {
    const s = svc({}, { tier: 'front', [LABEL_MANAGED_BY]: 'someone-else' });
    const pods = [
      pod('a', '10.244.1.10', { hostname: 'a' }),
      pod('b', '10.244.2.11', { ready: false, node: 'ip-10-0-2-6.ec2.internal' }),
      pod('c', '10.244.1.12', { terminating: true }),
      pod('d', '10.244.1.13', { httpPort: 8081 }), // the named port resolves differently: another port list
      pod('e', '10.244.1.14', { node: 'ip-10-9-9-9.ec2.internal' }), // a node nobody mirrors: no zone
      { ...pod('f', '10.244.1.15'), status: { phase: 'Succeeded', podIP: '10.244.1.15' } }, // terminal: left out
    ];
    const endpoints = endpointsOf(s, pods);
    const plan = planEndpointSlices({
      service: s,
      endpoints,
      zones,
      existing: [],
      triggerTime: lastChangeTriggerTime(s, endpoints, zones, [], new Map()),
    });
    expect(plan.update).toEqual([]);
    expect(plan.delete).toEqual([]);
    expect(plan.create.map((x) => x.metadata?.name)).toEqual(['web-q5h5z', 'web-xhfn7']);
    golden('endpoint-slices-mixed', plan.create);
    golden('endpoints-mixed', desiredEndpoints(s, endpoints, undefined, '2025-01-01T00:00:00.000Z'));
  });

  it('a Service without endpoints keeps one placeholder slice, and keeps it as it is', () => {
    const s = svc();
    const plan = planEndpointSlices({ service: s, endpoints: [], zones, existing: [] });
    golden('endpoint-slices-placeholder', plan.create);
    const again = planEndpointSlices({ service: s, endpoints: [], zones, existing: applyPlan([], plan) });
    expect(noChange(again)).toBe(true);
  });

  it('the first Pod fills the placeholder (one update, no create, no delete)', () => {
    const s = svc();
    const stored = applyPlan([], planEndpointSlices({ service: s, endpoints: [], zones, existing: [] }));
    const plan = planEndpointSlices({
      service: s,
      endpoints: endpointsOf(s, [pod('a', '10.244.1.10')]),
      zones,
      existing: stored,
    });
    expect(plan.create).toEqual([]);
    expect(plan.delete).toEqual([]);
    expect(plan.update.map((x) => [x.metadata?.name, x.endpoints?.length])).toEqual([[stored[0]!.metadata?.name, 1]]);
  });
});

describe('packing, as upstream reconcileByPortMapping', () => {
  const many = (n: number, from = 0) =>
    Array.from({ length: n }, (_, i) =>
      pod(`p${i + from}`, `10.244.${Math.floor((i + from) / 200)}.${((i + from) % 200) + 1}`),
    );

  it('250 endpoints: three slices of at most 100; one more Pod touches one slice only', () => {
    const s = svc();
    const pods = many(250);
    const first = planEndpointSlices({ service: s, endpoints: endpointsOf(s, pods), zones, existing: [] });
    expect(first.create.map((x) => x.endpoints?.length)).toEqual([100, 100, 50]);
    const stored = applyPlan([], first);
    const plan = planEndpointSlices({
      service: s,
      endpoints: endpointsOf(s, [...pods, ...many(1, 250)]),
      zones,
      existing: stored,
    });
    expect(plan.create).toEqual([]);
    expect(plan.delete).toEqual([]);
    expect(plan.update.map((x) => x.endpoints?.length)).toEqual([51]);
  });

  it('a Pod that changed readiness is updated in place; the other slices are untouched', () => {
    const s = svc();
    const pods = many(150);
    const stored = applyPlan(
      [],
      planEndpointSlices({ service: s, endpoints: endpointsOf(s, pods), zones, existing: [] }),
    );
    pods[120] = { ...pods[120]!, status: { ...pods[120]!.status, conditions: [{ type: 'Ready', status: 'False' }] } };
    const plan = planEndpointSlices({ service: s, endpoints: endpointsOf(s, pods), zones, existing: stored });
    expect(plan.create.length + plan.delete.length).toBe(0);
    expect(plan.update).toHaveLength(1);
    const ep = plan.update[0]!.endpoints!.find((e) => e.targetRef?.name === 'p120');
    expect(ep?.conditions).toEqual({ ready: false, serving: false, terminating: false });
  });

  it("slices of a previous Service of the same name are deleted; a slice being created takes one's name", () => {
    const s = svc();
    const old = applyPlan(
      [],
      planEndpointSlices({
        service: { ...s, metadata: { ...s.metadata, uid: 'old-uid' } },
        endpoints: [],
        zones,
        existing: [],
      }),
    );
    const foreign = { ...old[0]!, addressType: 'IPv6' };
    const plan = planEndpointSlices({ service: s, endpoints: endpointsOf(s, many(1)), zones, existing: [old[0]!] });
    // The old slice is not owned by this uid: deleted, and (not being ours) never recycled.
    expect(plan.delete.map((x) => x.metadata?.name)).toEqual([old[0]!.metadata?.name]);
    expect(plan.create).toHaveLength(1);
    expect(plan.create[0]!.metadata?.ownerReferences?.[0]?.uid).toBe('svc-uid-1');
    const p2 = planEndpointSlices({ service: s, endpoints: endpointsOf(s, many(1)), zones, existing: [foreign] });
    expect(p2.delete).toEqual([foreign]);
  });

  it('an own slice with a port list no longer wanted is recycled into the slice that would be created', () => {
    const s = svc();
    const stored = applyPlan(
      [],
      planEndpointSlices({ service: s, endpoints: endpointsOf(s, many(3)), zones, existing: [] }),
    );
    const renamed = svc({ ports: [{ name: 'http', port: 80, targetPort: 9999, protocol: 'TCP' }] });
    const plan = planEndpointSlices({
      service: renamed,
      endpoints: endpointsOf(renamed, many(3)),
      zones,
      existing: stored,
    });
    expect(plan.create).toEqual([]);
    expect(plan.delete).toEqual([]);
    expect(plan.update.map((x) => x.metadata?.name)).toEqual([stored[0]!.metadata?.name]);
    expect(plan.update[0]!.ports).toEqual([{ name: 'http', port: 9999, protocol: 'TCP' }]);
  });

  it('a Service being deleted gets no new slices', () => {
    const s = svc();
    const deleting = { ...s, metadata: { ...s.metadata, deletionTimestamp: new Date() } };
    expect(
      planEndpointSlices({ service: deleting, endpoints: endpointsOf(s, many(2)), zones, existing: [] }).create,
    ).toEqual([]);
  });

  it('names are derived: the same input names the same slices, another uid other ones', () => {
    const s = svc();
    const a = planEndpointSlices({ service: s, endpoints: endpointsOf(s, many(120)), zones, existing: [] });
    const b = planEndpointSlices({ service: s, endpoints: endpointsOf(s, many(120)), zones, existing: [] });
    const c = planEndpointSlices({
      service: { ...s, metadata: { ...s.metadata, uid: 'svc-uid-2' } },
      endpoints: endpointsOf(s, many(120)),
      zones,
      existing: [],
    });
    const names = (p: SlicePlan) => p.create.map((x) => x.metadata?.name);
    expect(names(a)).toEqual(names(b));
    expect(new Set([...names(a), ...names(c)]).size).toBe(4);
    for (const n of names(a)) expect(n).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  it('the labels follow the Service (reserved keys are the controller’s own)', () => {
    const s = svc({ clusterIP: 'None' }, { tier: 'front', [LABEL_SERVICE_NAME]: 'spoof' });
    const [slice] = planEndpointSlices({ service: s, endpoints: [], zones, existing: [] }).create;
    expect(slice!.metadata?.labels).toEqual({
      tier: 'front',
      'service.kubernetes.io/headless': '',
      [LABEL_SERVICE_NAME]: 'web',
      [LABEL_MANAGED_BY]: 'endpointslice-controller.k8s.io',
    });
  });
});

describe('no churn, whatever the history (property)', () => {
  const podArb = fc.record({
    ipLast: fc.integer({ min: 1, max: 40 }),
    ready: fc.boolean(),
    terminating: fc.boolean(),
    httpPort: fc.constantFrom(8080, 8081),
    node: fc.constantFrom('ip-10-0-1-5.ec2.internal', 'ip-10-0-2-6.ec2.internal'),
  });
  const stateArb = fc.uniqueArray(podArb, { selector: (p) => p.ipLast, maxLength: 25 });

  it('plan, apply, plan again: nothing to do; every endpoint in exactly one slice of at most 4', () => {
    fc.assert(
      fc.property(fc.array(stateArb, { minLength: 1, maxLength: 5 }), (history) => {
        const s = svc();
        let stored: V1EndpointSlice[] = [];
        for (const state of history) {
          const pods = state.map((p) => pod(`p${p.ipLast}`, `10.244.0.${p.ipLast}`, p));
          const endpoints = endpointsOf(s, pods);
          const input = { service: s, endpoints, zones, maxEndpointsPerSlice: 4 };
          stored = applyPlan(stored, planEndpointSlices({ ...input, existing: stored }));
          expect(noChange(planEndpointSlices({ ...input, existing: stored }))).toBe(true);
          const listed = stored.flatMap((x) => (x.endpoints ?? []).map((e) => e.addresses[0]));
          expect(listed.sort()).toEqual(endpoints.map((e) => e.ip).sort());
          for (const x of stored) expect(x.endpoints?.length ?? 0).toBeLessThanOrEqual(4);
          expect(new Set(stored.map((x) => x.metadata?.name)).size).toBe(stored.length);
          if (endpoints.length === 0) expect(stored).toHaveLength(1); // the placeholder
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('the last-change-trigger-time', () => {
  it('a new Service: its creation time; a changed Pod: when it became ready; nothing changed: none', () => {
    const s = svc();
    const pods = [pod('a', '10.244.1.10'), pod('b', '10.244.1.11', { readyAt: '2025-01-01T00:09:00.000Z' })];
    const readyTimes = new Map(
      pods.map((p) => [p.metadata!.name!, p.status!.conditions![0]!.lastTransitionTime as unknown as string]),
    );
    const endpoints = endpointsOf(s, [pods[0]!]);
    expect(lastChangeTriggerTime(s, endpoints, zones, [], readyTimes)).toBe('2025-01-01T00:00:00.000Z');
    const stored = applyPlan([], planEndpointSlices({ service: s, endpoints, zones, existing: [] }));
    expect(lastChangeTriggerTime(s, endpoints, zones, stored, readyTimes)).toBeUndefined();
    const both = endpointsOf(s, pods);
    expect(lastChangeTriggerTime(s, both, zones, stored, readyTimes)).toBe('2025-01-01T00:09:00.000Z');
    const plan = planEndpointSlices({
      service: s,
      endpoints: both,
      zones,
      existing: stored,
      triggerTime: '2025-01-01T00:09:00.000Z',
    });
    expect(plan.update[0]!.metadata?.annotations?.[TRIGGER_TIME_ANNOTATION]).toBe('2025-01-01T00:09:00.000Z');
  });
});

describe('core/v1 Endpoints of a selector Service', () => {
  it('written only when subsets, labels or the capacity annotation change', () => {
    const s = svc();
    const endpoints = endpointsOf(s, [pod('a', '10.244.1.10'), pod('b', '10.244.1.11', { ready: false })]);
    const first = desiredEndpoints(s, endpoints, undefined, 't1')!;
    const stored = { ...first, metadata: { ...first.metadata, resourceVersion: '7', uid: 'ep-uid' } };
    expect(desiredEndpoints(s, endpoints, stored, 't2')).toBeUndefined();
    const relabelled = svc({}, { tier: 'x' });
    expect(desiredEndpoints(relabelled, endpoints, stored)?.metadata?.labels).toEqual({
      tier: 'x',
      'endpoints.kubernetes.io/managed-by': 'endpoint-controller',
    });
  });

  it('terminating Pods only with publishNotReadyAddresses (then as ready addresses)', () => {
    const pods = [pod('a', '10.244.1.10', { terminating: true })];
    expect(desiredEndpoints(svc(), endpointsOf(svc(), pods), undefined)?.subsets).toEqual([]);
    const pub = svc({ publishNotReadyAddresses: true });
    const subsets = desiredEndpoints(pub, endpointsOf(pub, pods), undefined)?.subsets;
    expect(subsets?.map((x) => [x.addresses?.map((a) => a.ip), x.notReadyAddresses])).toEqual([
      [['10.244.1.10'], undefined],
    ]);
  });

  it('a headless Service without ports lists its addresses without ports', () => {
    const h = svc({ clusterIP: 'None', ports: [] });
    const ep = desiredEndpoints(h, endpointsOf(h, [pod('a', '10.244.1.10')]), undefined)!;
    expect(ep.subsets).toEqual([
      {
        addresses: [
          {
            ip: '10.244.1.10',
            nodeName: 'ip-10-0-1-5.ec2.internal',
            targetRef: { kind: 'Pod', namespace: 'shop', name: 'a', uid: 'uid-a' },
          },
        ],
      },
    ]);
    expect(ep.metadata?.labels?.['service.kubernetes.io/headless']).toBe('');
  });

  it('over 1000 addresses: truncated to 1000, ready ones first, annotated; then stable', () => {
    const s = svc({ ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] });
    const pods = Array.from({ length: 1100 }, (_, i) =>
      pod(`p${i}`, `10.244.${Math.floor(i / 250)}.${(i % 250) + 1}`, { ready: i % 2 === 0 }),
    );
    const ep = desiredEndpoints(s, endpointsOf(s, pods), undefined)!;
    const subset = ep.subsets![0]!;
    expect(subset.addresses).toHaveLength(550);
    expect(subset.notReadyAddresses).toHaveLength(MAX_ENDPOINTS_ADDRESSES - 550);
    expect(ep.metadata?.annotations?.[OVER_CAPACITY_ANNOTATION]).toBe('truncated');
    expect(desiredEndpoints(s, endpointsOf(s, pods), ep)).toBeUndefined();
    const back = desiredEndpoints(s, endpointsOf(s, pods.slice(0, 10)), ep)!;
    expect(back.metadata?.annotations?.[OVER_CAPACITY_ANNOTATION]).toBeUndefined();
  });
});
