/**
 * EndpointSliceMirroring's planner (lib/model/endpoint-slice-mirroring.ts): when a manual Endpoints is mirrored,
 * what its slices hold (one per address type and port list), what is skipped and reported, and that a mirrored
 * state plans nothing more.
 */
import { describe, expect, it } from 'vitest';
import type { V1EndpointSlice, V1Endpoints, V1Service } from '@kubernetes/client-node';
import { planMirroredSlices, shouldMirror, type MirrorPlan } from '../../lib/model/endpoint-slice-mirroring.js';

const svc = (selector?: Record<string, string>): V1Service => ({
  metadata: { name: 'db', namespace: 'shop', uid: 's-1' },
  spec: { ports: [{ port: 5432 }], ...(selector ? { selector } : {}) },
});

const manual = (over: Partial<V1Endpoints> = {}): V1Endpoints => ({
  apiVersion: 'v1',
  kind: 'Endpoints',
  metadata: {
    name: 'db',
    namespace: 'shop',
    uid: 'ep-1',
    labels: { team: 'data' },
    annotations: {
      'endpoints.kubernetes.io/last-change-trigger-time': 'x',
      'kubectl.kubernetes.io/last-applied-configuration': '{}',
      note: 'kept',
    },
  },
  subsets: [
    {
      addresses: [{ ip: '10.0.5.10', nodeName: 'ip-10-0-5-10.ec2.internal' }, { ip: 'fd00::5' }],
      notReadyAddresses: [{ ip: '10.0.5.11', hostname: 'replica' }],
      ports: [{ name: 'pg', port: 5432 }],
    },
    { addresses: [{ ip: '10.0.5.12' }], ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] },
    { addresses: [{ ip: 'not-an-ip' }], ports: [{ name: 'metrics', port: 9187 }] },
  ],
  ...over,
});

const applied = (existing: V1EndpointSlice[], p: MirrorPlan): V1EndpointSlice[] => {
  const gone = new Set([...p.delete, ...p.update].map((s) => s.metadata?.name));
  return [...existing.filter((s) => !gone.has(s.metadata?.name)), ...p.update, ...p.create];
};

describe('EndpointSliceMirroring', () => {
  it('mirrors only a selector-less Service’s manual Endpoints', () => {
    expect(shouldMirror(svc(), manual())).toBe(true);
    expect(shouldMirror(undefined, manual())).toBe(false);
    expect(shouldMirror(svc({ app: 'db' }), manual())).toBe(false);
    const skip = manual();
    skip.metadata!.labels = { 'endpointslice.kubernetes.io/skip-mirror': 'true' };
    expect(shouldMirror(svc(), skip)).toBe(false);
    const managed = manual();
    managed.metadata!.labels = { 'endpoints.kubernetes.io/managed-by': 'endpoint-controller' };
    expect(shouldMirror(svc(), managed)).toBe(false);
    const leader = manual();
    leader.metadata!.annotations = { 'control-plane.alpha.kubernetes.io/leader': '{}' };
    expect(shouldMirror(svc(), leader)).toBe(false);
  });

  it('one slice per address type and port list; subsets with the same ports merge; invalid IPs reported', () => {
    const plan = planMirroredSlices(manual(), [], true);
    expect(plan.invalid).toBe(1);
    expect(plan.skipped).toBe(1);
    const byType = Object.fromEntries(plan.create.map((s) => [s.addressType, s]));
    expect(Object.keys(byType).sort()).toEqual(['IPv4', 'IPv6']);
    const v4 = byType.IPv4!;
    expect(v4.endpoints).toEqual([
      { addresses: ['10.0.5.10'], conditions: { ready: true }, nodeName: 'ip-10-0-5-10.ec2.internal' },
      { addresses: ['10.0.5.11'], conditions: { ready: false }, hostname: 'replica' },
      { addresses: ['10.0.5.12'], conditions: { ready: true } },
    ]);
    expect(v4.ports).toEqual([{ name: 'pg', port: 5432, protocol: 'TCP' }]);
    expect(v4.metadata?.labels).toEqual({
      team: 'data',
      'kubernetes.io/service-name': 'db',
      'endpointslice.kubernetes.io/managed-by': 'endpointslicemirroring-controller.k8s.io',
    });
    expect(v4.metadata?.annotations).toEqual({ note: 'kept' });
    expect(v4.metadata?.ownerReferences).toEqual([
      { apiVersion: 'v1', kind: 'Endpoints', name: 'db', uid: 'ep-1', controller: true, blockOwnerDeletion: true },
    ]);
    expect(v4.metadata?.name).toMatch(/^db-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  it('mirrored once, planning again does nothing; a changed address updates the slice in place', () => {
    const stored = applied([], planMirroredSlices(manual(), [], true));
    const again = planMirroredSlices(manual(), stored, true);
    expect(again.create.length + again.update.length + again.delete.length).toBe(0);
    const changed = manual();
    changed.subsets![1]!.addresses = [{ ip: '10.0.5.13' }];
    const plan = planMirroredSlices(changed, stored, true);
    expect(plan.create).toEqual([]);
    expect(plan.update).toHaveLength(1);
    expect(plan.update[0]!.metadata?.name).toBe(stored.find((s) => s.addressType === 'IPv4')!.metadata?.name);
  });

  it('at most 1000 addresses per subset; duplicates of a key beyond the first slice are deleted', () => {
    const big = manual({
      subsets: [
        {
          addresses: Array.from({ length: 1005 }, (_, i) => ({ ip: `10.1.${Math.floor(i / 250)}.${(i % 250) + 1}` })),
          ports: [{ name: 'pg', port: 5432 }],
        },
      ],
    });
    const plan = planMirroredSlices(big, [], true);
    expect(plan.create[0]!.endpoints).toHaveLength(1000);
    expect(plan.skipped).toBe(5);
    expect(plan.invalid).toBe(0);
    const stored = applied([], plan);
    const dup = { ...structuredClone(stored[0]!), metadata: { ...stored[0]!.metadata, name: 'db-zzzzz' } };
    const again = planMirroredSlices(big, [...stored, dup], true);
    expect(again.delete.map((s) => s.metadata?.name)).toEqual(['db-zzzzz']);
  });

  it('no longer mirrored: every mirrored slice goes', () => {
    const stored = applied([], planMirroredSlices(manual(), [], true));
    expect(planMirroredSlices(manual(), stored, false).delete).toHaveLength(2);
    expect(planMirroredSlices(undefined, stored, true).delete).toHaveLength(2);
  });
});
