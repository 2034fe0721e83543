/**
 * The EndpointSlice, Endpoints, mirroring and namespace controllers against moto (DynamoDB), driven by the change
 * log exactly as the Pipe drives them (test/controller/support.ts): what kubectl reads appears in the store, a
 * message or resync that changes nothing writes nothing (the global revision does not move), a resync repairs
 * what was changed behind the controller's back, and deletions clean up explicitly.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { V1EndpointSlice, V1Endpoints, V1Pod, V1Service } from '@kubernetes/client-node';
import { ENDPOINT_SLICES, NAMESPACES, SERVICES } from '../../lib/api/resources.js';
import { LABEL_SERVICE_NAME, TRIGGER_TIME_ANNOTATION } from '../../lib/model/endpoint-slices.js';
import { makeTestRuntime, type TestRuntime } from '../handlers/support.js';
import { uniqueName } from '../support/aws.js';
import { drainLog } from './support.js';

const SLICES = 'EndpointSlice.discovery.k8s.io';

const service = (ns: string, name: string, selector?: Record<string, string>): V1Service => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: ns, labels: { tier: 'front' } },
  spec: {
    ...(selector ? { selector } : {}),
    ports: [{ name: 'http', port: 80, targetPort: 'http' as unknown as number }],
  },
});

const pod = (ns: string, name: string, ip: string, ready = true, labels = { app: 'web' }): V1Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: ns, labels },
  spec: {
    nodeName: 'ip-10-0-1-5.ec2.internal',
    containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080 }] }],
  },
  status: {
    phase: 'Running',
    podIP: ip,
    conditions: [
      { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: new Date('2025-01-01T00:00:00Z') },
    ],
  },
});

describe('EndpointSlices and Endpoints from messages (moto)', () => {
  let t: TestRuntime;
  let rev = 0;
  const ns = uniqueName('ep');
  const slicesOf = async (name: string) =>
    (await t.rt.store.list<V1EndpointSlice>(SLICES, ns)).filter(
      (s) => s.metadata?.labels?.[LABEL_SERVICE_NAME] === name,
    );
  const endpointsOf = (name: string) => t.rt.store.get<V1Endpoints>('Endpoints', ns, name);
  const drain = async () => (rev = (await drainLog(t.rt.store, t.rt.controller, rev)).rev);
  const ips = (s: V1EndpointSlice[]) =>
    s.flatMap((x) => (x.endpoints ?? []).map((e) => `${e.addresses[0]}:${e.conditions?.ready}`)).sort();

  beforeAll(async () => {
    t = await makeTestRuntime();
  });

  it('a Service and its Pods: one slice and the Endpoints, from the messages of their writes', async () => {
    await t.rt.api.applyService(service(ns, 'web', { app: 'web' }));
    await t.rt.api.applyPod(pod(ns, 'a', '10.244.1.10'));
    await t.rt.api.applyPod(pod(ns, 'b', '10.244.1.11', false));
    await drain();
    const [slice, ...more] = await slicesOf('web');
    expect(more).toEqual([]);
    expect(ips([slice!])).toEqual(['10.244.1.10:true', '10.244.1.11:false']);
    expect(slice!.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    expect(slice!.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Service', name: 'web', controller: true });
    const ep = await endpointsOf('web');
    expect(ep?.subsets?.[0]?.addresses?.map((a) => a.ip)).toEqual(['10.244.1.10']);
    expect(ep?.subsets?.[0]?.notReadyAddresses?.map((a) => a.ip)).toEqual(['10.244.1.11']);
    expect(ep?.metadata?.labels).toEqual({
      tier: 'front',
      'endpoints.kubernetes.io/managed-by': 'endpoint-controller',
    });
    expect(ep?.metadata?.annotations?.[TRIGGER_TIME_ANNOTATION]).toBeDefined();
  });

  it('the same messages again, and a resync, write nothing: the revision does not move', async () => {
    const before = await t.rt.store.currentRevision();
    const redo = await drainLog(t.rt.store, t.rt.controller, 0); // every message of the log once more
    expect(redo.messages.length).toBeGreaterThan(5);
    await t.rt.controller.resync();
    expect(await t.rt.store.currentRevision()).toBe(before);
  });

  it('readiness and labels of Pods follow: a Pod that becomes ready, one that leaves the selection', async () => {
    await t.rt.api.updatePodStatus(ns, 'b', (s) => ({ ...s, conditions: [{ type: 'Ready', status: 'True' }] }));
    await t.rt.api.applyPod(pod(ns, 'a', '10.244.1.10', true, { app: 'other' } as { app: string }));
    await drain();
    expect(ips(await slicesOf('web'))).toEqual(['10.244.1.11:true']);
    const ep = await endpointsOf('web');
    expect(ep?.subsets?.map((s) => [s.addresses?.map((a) => a.ip), s.notReadyAddresses])).toEqual([
      [['10.244.1.11'], undefined],
    ]);
  });

  it('a resync repairs a slice deleted behind the controller’s back: same name, same content', async () => {
    const [slice] = await slicesOf('web');
    await t.rt.api.writes.delete(ENDPOINT_SLICES, ns, slice!.metadata!.name!);
    expect(await slicesOf('web')).toEqual([]);
    await t.rt.controller.resync();
    const [back] = await slicesOf('web');
    expect(back!.metadata?.name).toBe(slice!.metadata?.name);
    expect(back!.endpoints).toEqual(slice!.endpoints);
    rev = await t.rt.store.currentRevision();
  });

  it('a deleted Service loses its slices and its Endpoints (nothing garbage-collects by owner here)', async () => {
    await t.rt.api.deleteService(ns, 'web');
    await drain();
    expect(await slicesOf('web')).toEqual([]);
    expect(await endpointsOf('web')).toBeUndefined();
  });

  it('a selector-less Service: its manual Endpoints mirrored, updated, and removed with the Service', async () => {
    await t.rt.api.applyService(service(ns, 'db'));
    await t.rt.api.applyEndpoints({
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'db', namespace: ns },
      subsets: [{ addresses: [{ ip: '10.0.5.10' }], ports: [{ name: 'http', port: 5432 }] }],
    });
    await drain();
    const [mirrored] = await slicesOf('db');
    expect(mirrored!.metadata?.labels?.['endpointslice.kubernetes.io/managed-by']).toBe(
      'endpointslicemirroring-controller.k8s.io',
    );
    expect(ips([mirrored!])).toEqual(['10.0.5.10:true']);
    await t.rt.api.applyEndpoints({
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'db', namespace: ns },
      subsets: [{ addresses: [{ ip: '10.0.5.11' }], ports: [{ name: 'http', port: 5432 }] }],
    });
    await drain();
    const [updated] = await slicesOf('db');
    expect(updated!.metadata?.name).toBe(mirrored!.metadata?.name);
    expect(ips([updated!])).toEqual(['10.0.5.11:true']);
    await t.rt.api.deleteService(ns, 'db');
    await drain();
    expect(await slicesOf('db')).toEqual([]);
    expect(await endpointsOf('db')).toBeUndefined();
  });

  it('a Service that stops selecting Pods loses what the controllers made for it', async () => {
    await t.rt.api.applyService(service(ns, 'api', { app: 'web' }));
    await drain();
    expect(await slicesOf('api')).toHaveLength(1);
    await t.rt.api.applyService(service(ns, 'api'));
    await drain();
    expect(await slicesOf('api')).toEqual([]);
    expect(await endpointsOf('api')).toBeUndefined();
  });
});

describe('namespace deletion (moto)', () => {
  it('a terminating namespace is emptied and finalized from its own message', async () => {
    const t = await makeTestRuntime();
    const ns = uniqueName('gone');
    await t.rt.api.applyService(service(ns, 'web', { app: 'web' }));
    await t.rt.api.applyPod(pod(ns, 'a', '10.244.1.10'));
    let rev = (await drainLog(t.rt.store, t.rt.controller, 0)).rev;
    expect(await t.rt.store.list(SLICES, ns)).toHaveLength(1);
    const marked = await t.rt.api.writes.delete(NAMESPACES, undefined, ns);
    expect(marked.pending).toBe(true);
    rev = (await drainLog(t.rt.store, t.rt.controller, rev)).rev;
    expect(await t.rt.store.get('Namespace', '', ns)).toBeUndefined();
    for (const kind of ['Service', 'Pod', 'Endpoints', SLICES, 'Event'] as const)
      expect(await t.rt.store.list(kind, ns)).toEqual([]);
    expect(rev).toBeGreaterThan(0);
  });

  it('an object with a finalizer holds the namespace until it is released; then the namespace goes', async () => {
    const t = await makeTestRuntime();
    const ns = uniqueName('held');
    await t.rt.api.applyService({
      ...service(ns, 'web'),
      metadata: { name: 'web', namespace: ns, finalizers: ['example.com/hold'] },
    });
    let rev = (await drainLog(t.rt.store, t.rt.controller, 0)).rev;
    await t.rt.api.writes.delete(NAMESPACES, undefined, ns);
    rev = (await drainLog(t.rt.store, t.rt.controller, rev)).rev;
    expect((await t.rt.store.get<V1Service>('Service', ns, 'web'))?.metadata?.deletionTimestamp).toBeDefined();
    expect(await t.rt.store.get('Namespace', '', ns)).toBeDefined();
    const held = await t.rt.api.getService(ns, 'web');
    await t.rt.api.writes.update(SERVICES, ns, 'web', { ...held, metadata: { ...held.metadata, finalizers: [] } });
    await drainLog(t.rt.store, t.rt.controller, rev);
    expect(await t.rt.store.get('Namespace', '', ns)).toBeUndefined();
  });
});
