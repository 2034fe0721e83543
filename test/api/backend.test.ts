/**
 * The ApiBackend on the store (moto DynamoDB), verb by verb, with the apiserver's semantics and messages: namespace
 * lifecycle, create/get/list, update with preconditions and server-owned metadata, the status subresource,
 * finalizers, dry runs, fieldValidation, system-owned kinds and Events.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { V1Namespace, V1Service } from '@kubernetes/client-node';
import {
  AlreadyExistsError,
  BadRequestError,
  DecodeError,
  ConflictError,
  ForbiddenError,
  InvalidError,
  MethodNotSupportedError,
  NotFoundError,
} from '../../lib/errors.js';
import type { ApiObject } from '../../lib/api/backend.js';
import { POOL_CLUSTER_IP } from '../../lib/api/allocator.js';
import { ENDPOINT_SLICES, EVENTS, NAMESPACES, NODES, PODS, RESOURCES, SERVICES } from '../../lib/api/resources.js';
import { StoreBackend } from '../../lib/api/store-backend.js';
import { DEFAULT_CLUSTER_CONFIG } from '../../lib/model/types.js';
import { DynamoStore } from '../../lib/store/store.js';
import { ensureTable } from '../../lib/store/table.js';
import { serializingMiddleware } from '../../lib/aws/serialize.js';
import { motoClients, uniqueName } from '../support/aws.js';

const { dynamodb } = motoClients({ middleware: [serializingMiddleware()] });

async function errorOf(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the call to fail');
}

const svc = (name: string, spec: V1Service['spec'] = {}, ns = 'default'): ApiObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: ns },
  spec: { selector: { app: name }, ports: [{ port: 80 }], ...spec },
});

describe('StoreBackend (moto DynamoDB)', () => {
  let table: string;
  let store: DynamoStore;
  let api: StoreBackend;
  beforeAll(async () => {
    table = uniqueName('backend');
    await ensureTable(dynamodb, table);
    store = new DynamoStore(dynamodb, table);
    api = new StoreBackend({ store, cfg: DEFAULT_CLUSTER_CONFIG, tailer: { pollIntervalMs: 30 } });
  });
  afterAll(() => api.close());

  it('serves the registry with upstream verbs, short names and categories', () => {
    const byName = Object.fromEntries(RESOURCES.map((r) => [r.resource, r]));
    expect(Object.keys(byName).sort()).toEqual([
      'endpoints',
      'endpointslices',
      'events',
      'gatewayclasses',
      'gateways',
      'namespaces',
      'nodes',
      'pods',
      'referencegrants',
      'services',
      'tcproutes',
      'tlsroutes',
      'udproutes',
    ]);
    expect(byName.services).toMatchObject({ shortNames: ['svc'], categories: ['all'], subresources: ['status'] });
    expect(byName.pods).toMatchObject({ shortNames: ['po'], categories: ['all'], subresources: ['status'] });
    expect(byName.namespaces).toMatchObject({ shortNames: ['ns'], namespaced: false });
    expect(byName.nodes).toMatchObject({ shortNames: ['no'], namespaced: false, systemOwned: true });
    expect(byName.nodes!.verbs).toEqual(['get', 'list', 'watch']);
    expect(byName.endpointslices).toMatchObject({ group: 'discovery.k8s.io', version: 'v1', systemOwned: true });
    expect(byName.services!.verbs).toEqual([
      'create',
      'delete',
      'deletecollection',
      'get',
      'list',
      'patch',
      'update',
      'watch',
    ]);
    expect(byName.events!.shortNames).toEqual(['ev']);
    expect(byName.endpoints!.shortNames).toEqual(['ep']);
  });

  it('bootstraps the system namespaces; a missing namespace is NotFound, an invalid name Invalid', async () => {
    const names = (await api.list(NAMESPACES, undefined)).items.map((n) => n.metadata.name);
    expect(names).toEqual(expect.arrayContaining(['default', 'kube-system', 'kube-public', 'kube-node-lease']));
    const ns = (await api.get(NAMESPACES, undefined, 'kube-system')) as V1Namespace;
    expect(ns.spec?.finalizers).toEqual(['kubernetes']);
    expect(ns.status?.phase).toBe('Active');

    const missing = await errorOf(api.create(SERVICES, 'nope', svc('x', {}, 'nope'), {}));
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing.message).toBe('namespaces "nope" not found');
    const bad = await errorOf(
      api.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'Bad_Name' } }, {}),
    );
    expect(bad).toBeInstanceOf(InvalidError);
    expect(bad.message).toMatch(
      /^Namespace "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 label/,
    );
  });

  it("a dry run takes the watch cache's word for an active namespace, and reads a new, missing or terminating one", async () => {
    const name = uniqueName('dry');
    const namespaceReads = vi.spyOn(store, 'get');
    const reads = () => namespaceReads.mock.calls.filter(([kind]) => kind === 'Namespace').length;
    await api.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, {});
    // Created a moment ago: admitted whether or not the cache has it yet.
    await api.create(SERVICES, name, svc('dry-1', {}, name), { dryRun: true });
    await api.list(NAMESPACES, undefined); // a consistent read: the cache has applied the namespace
    namespaceReads.mockClear();
    await api.create(SERVICES, name, svc('dry-2', {}, name), { dryRun: true });
    expect(reads()).toBe(0);
    await api.create(SERVICES, name, svc('real', {}, name), {});
    expect(reads()).toBeGreaterThan(0); // a write reads it consistently
    await api.delete(NAMESPACES, undefined, name, {});
    await api.list(NAMESPACES, undefined);
    const refused = await errorOf(api.create(SERVICES, name, svc('dry-3', {}, name), { dryRun: true }));
    expect(refused).toBeInstanceOf(ForbiddenError);
    const missing = await errorOf(api.create(SERVICES, `${name}-x`, svc('dry-4', {}, `${name}-x`), { dryRun: true }));
    expect(missing).toBeInstanceOf(NotFoundError);
    namespaceReads.mockRestore();
  });

  it('namespace deletion: Terminating, no new content, immortal system namespaces, finalize once empty', async () => {
    const name = uniqueName('team');
    const created = await api.create(
      NAMESPACES,
      undefined,
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
      {},
    );
    expect((created.object as V1Namespace).spec?.finalizers).toEqual(['kubernetes']);
    await api.create(SERVICES, name, svc('inside', {}, name), {});
    const del = await api.delete(NAMESPACES, undefined, name, {});
    expect(del.pending).toBe(true);
    const ns = del.object as V1Namespace;
    expect(ns.status?.phase).toBe('Terminating');
    expect(ns.metadata?.deletionTimestamp).toBeTruthy();
    expect(ns.metadata?.deletionGracePeriodSeconds).toBe(0);

    const refused = await errorOf(api.create(SERVICES, name, svc('late', {}, name), {}));
    expect(refused).toBeInstanceOf(ForbiddenError);
    expect(refused.message).toBe(`unable to create new content in namespace ${name} because it is being terminated`);
    const again = await errorOf(api.delete(NAMESPACES, undefined, name, {}));
    expect(again).toBeInstanceOf(ConflictError);
    expect(again.message).toMatch(/The system is ensuring all content is removed from this namespace/);
    const immortal = await errorOf(api.delete(NAMESPACES, undefined, 'default', {}));
    expect(immortal).toBeInstanceOf(ForbiddenError);
    expect(immortal.message).toBe('namespaces "default" is forbidden: this namespace may not be deleted');

    expect(await api.finalizeNamespace(name)).toBe(false); // a Service is still in it
    await api.delete(SERVICES, name, 'inside', {});
    expect(await api.finalizeNamespace(name)).toBe(true);
    await expect(api.get(NAMESPACES, undefined, name)).rejects.toThrow(`namespaces "${name}" not found`);
  });

  it('create: defaulted and allocated, AlreadyExists on the second, generateName; get and list are consistent', async () => {
    const before = Number(await api.currentRevision());
    const { object, warnings } = await api.create(SERVICES, 'default', svc('web', { type: 'NodePort' }), {
      fieldValidation: 'Strict',
    });
    expect(warnings).toEqual([]);
    const s = object as V1Service;
    expect(Number(s.metadata?.resourceVersion)).toBe(before + 1);
    expect(s.spec?.clusterIP).toMatch(/^10\./);
    expect(s.spec?.ports?.[0]?.nodePort).toBeGreaterThanOrEqual(30000);
    expect(s.metadata?.generation).toBe(1);
    expect(s.status).toEqual({ loadBalancer: {} });
    const dup = await errorOf(api.create(SERVICES, 'default', svc('web'), {}));
    expect(dup).toBeInstanceOf(AlreadyExistsError);
    expect(dup.message).toBe('services "web" already exists');

    const gen = await api.create(SERVICES, 'default', { ...svc(''), metadata: { generateName: 'gen-' } }, {});
    expect(gen.object.metadata.name).toMatch(/^gen-[a-z0-9]{5}$/);

    const listed = await api.list(SERVICES, 'default');
    expect(Number(listed.resourceVersion)).toBeGreaterThanOrEqual(Number(gen.object.metadata.resourceVersion));
    expect(listed.items.map((o) => o.metadata.name)).toEqual(expect.arrayContaining(['web', gen.object.metadata.name]));
    expect(await api.get(SERVICES, 'default', 'web')).toEqual(s);
    const nf = await errorOf(api.get(SERVICES, 'default', 'nobody'));
    expect(nf).toBeInstanceOf(NotFoundError);
    expect(nf.message).toBe('services "nobody" not found');
    const wrongNs = await errorOf(api.create(SERVICES, 'kube-system', svc('x', {}, 'default'), {}));
    expect(wrongNs).toBeInstanceOf(BadRequestError);
  });

  it('dryRun create, update and delete run every step but write nothing', async () => {
    const rev = await api.currentRevision();
    const dry = await api.create(SERVICES, 'default', svc('dry', { clusterIP: '10.96.7.7' }), { dryRun: true });
    expect((dry.object as V1Service).spec?.clusterIP).toBe('10.96.7.7');
    expect(dry.object.metadata.uid).toBeTruthy();
    expect(dry.object.metadata.resourceVersion).toBeUndefined();
    // A dry run still reports what a real write would refuse.
    const invalid = await errorOf(
      api.create(SERVICES, 'default', svc('dry', { type: 'Foo' as never }), { dryRun: true }),
    );
    expect(invalid).toBeInstanceOf(InvalidError);
    const web = await api.get(SERVICES, 'default', 'web');
    const upd = await api.update(
      SERVICES,
      'default',
      'web',
      { ...web, metadata: { ...web.metadata, labels: { x: 'y' } } },
      { dryRun: true },
    );
    expect(upd.object.metadata.labels).toEqual({ x: 'y' });
    const del = await api.delete(SERVICES, 'default', 'web', { dryRun: true });
    expect(del.pending).toBe(false);
    expect(await api.currentRevision()).toBe(rev);
    expect(await store.allocationOwner(POOL_CLUSTER_IP, '10.96.7.7')).toBeUndefined();
    expect((await api.get(SERVICES, 'default', 'web')).metadata.labels).toBeUndefined();
  });

  it('update: NotFound, stale resourceVersion Conflict, server-owned metadata, generation on spec change only', async () => {
    const missing = await errorOf(api.update(SERVICES, 'default', 'ghost', svc('ghost'), {}));
    expect(missing.message).toBe('services "ghost" not found');
    const cur = (await api.get(SERVICES, 'default', 'web')) as V1Service;
    // uid, creationTimestamp and generation from the client are ignored; no resourceVersion = unconditional.
    const forged = {
      ...cur,
      metadata: {
        ...cur.metadata,
        labels: { tier: 'web' },
        resourceVersion: undefined,
        generation: 99,
        creationTimestamp: new Date(0),
      },
    } as unknown as ApiObject;
    const relabeled = (await api.update(SERVICES, 'default', 'web', forged, {})).object as V1Service;
    expect(relabeled.metadata?.generation).toBe(cur.metadata?.generation);
    expect(relabeled.metadata?.creationTimestamp).toBe(cur.metadata?.creationTimestamp);
    expect(relabeled.metadata?.uid).toBe(cur.metadata?.uid);
    expect(Number(relabeled.metadata?.resourceVersion)).toBeGreaterThan(Number(cur.metadata?.resourceVersion));
    // The PUT left out clusterIP and nodePort: carried over, as upstream's Service REST does.
    const bare = svc('web', { type: 'NodePort', ports: [{ port: 8080 }] });
    const respec = (await api.update(SERVICES, 'default', 'web', bare, {})).object as V1Service;
    expect(respec.spec?.clusterIP).toBe(cur.spec?.clusterIP);
    expect(respec.metadata?.generation).toBe((cur.metadata?.generation ?? 0) + 1);
    // A stale resourceVersion is a Conflict with the apiserver's words; nothing changes.
    const stale = await errorOf(
      api.update(
        SERVICES,
        'default',
        'web',
        { ...respec, metadata: { ...respec.metadata, resourceVersion: cur.metadata?.resourceVersion } } as ApiObject,
        {},
      ),
    );
    expect(stale).toBeInstanceOf(ConflictError);
    expect(stale.message).toBe(
      'Operation cannot be fulfilled on services "web": the object has been modified; please apply your changes to the latest version and try again',
    );
    // An update that changes nothing writes nothing.
    const same = await api.update(SERVICES, 'default', 'web', respec as ApiObject, {});
    expect(same.object.metadata.resourceVersion).toBe(respec.metadata?.resourceVersion);
    const renamed = await errorOf(api.update(SERVICES, 'default', 'web', svc('other'), {}));
    expect(renamed).toBeInstanceOf(BadRequestError);
    expect(renamed.message).toBe('the name of the object (other) does not match the name on the URL (web)');
  });

  it('status subresource: main PUT keeps the stored status, status PUT changes only the status', async () => {
    const cur = (await api.get(SERVICES, 'default', 'web')) as V1Service;
    const lbStatus = { loadBalancer: { ingress: [{ hostname: 'a.elb' }] } };
    const withSpec = { ...cur, spec: { ...cur.spec, ports: [{ port: 9 }] }, status: lbStatus } as unknown as ApiObject;
    const st = (await api.update(SERVICES, 'default', 'web', withSpec, { subresource: 'status' })).object as V1Service;
    expect(st.status).toEqual(lbStatus);
    expect(st.spec?.ports?.map((p) => p.port)).toEqual([8080]);
    expect(st.metadata?.generation).toBe(cur.metadata?.generation);
    const main = {
      ...st,
      metadata: { ...st.metadata, resourceVersion: undefined },
      status: { loadBalancer: {} },
    } as unknown as ApiObject;
    main.metadata.labels = { changed: 'yes' };
    const kept = (await api.update(SERVICES, 'default', 'web', main, {})).object as V1Service;
    expect(kept.status).toEqual(lbStatus);
    const noStatus = await errorOf(api.update(SERVICES, 'default', 'web', main, { subresource: 'scale' as never }));
    expect(noStatus).toBeInstanceOf(MethodNotSupportedError);
  });

  it('finalizers: delete marks the object, removing the last finalizer deletes it; preconditions are Conflicts', async () => {
    const { object } = await api.create(
      SERVICES,
      'default',
      { ...svc('fin'), metadata: { name: 'fin', finalizers: ['example.com/hold'] } },
      {},
    );
    const uidErr = await errorOf(api.delete(SERVICES, 'default', 'fin', { preconditions: { uid: 'other' } }));
    expect(uidErr).toBeInstanceOf(ConflictError);
    expect(uidErr.message).toBe(
      `Precondition failed: UID in precondition: other, UID in object meta: ${object.metadata.uid}`,
    );
    const rvErr = await errorOf(api.delete(SERVICES, 'default', 'fin', { preconditions: { resourceVersion: '1' } }));
    expect(rvErr.message).toBe(
      `Precondition failed: ResourceVersion in precondition: 1, ResourceVersion in object meta: ${object.metadata.resourceVersion}`,
    );
    const marked = await api.delete(SERVICES, 'default', 'fin', { preconditions: { uid: object.metadata.uid } });
    expect(marked.pending).toBe(true);
    expect(marked.object.metadata.deletionTimestamp).toBeTruthy();
    expect(marked.object.metadata.deletionGracePeriodSeconds).toBe(0);
    expect(marked.object.metadata.generation).toBe(2);
    // No new finalizers on a deleting object.
    const add = {
      ...marked.object,
      metadata: { ...marked.object.metadata, finalizers: ['example.com/hold', 'example.com/more'] },
    };
    const refused = await errorOf(api.update(SERVICES, 'default', 'fin', add, {}));
    expect(refused).toBeInstanceOf(InvalidError);
    expect(refused.message).toContain(
      'no new finalizers can be added if the object is being deleted, found new finalizers []string{"example.com/more"}',
    );
    const released = { ...marked.object, metadata: { ...marked.object.metadata, finalizers: [] } };
    await api.update(SERVICES, 'default', 'fin', released, {});
    await expect(api.get(SERVICES, 'default', 'fin')).rejects.toBeInstanceOf(NotFoundError);
    const badName = await errorOf(
      api.create(SERVICES, 'default', { ...svc('f2'), metadata: { name: 'f2', finalizers: ['hold'] } }, {}),
    );
    expect(badName.message).toContain(
      'metadata.finalizers: Invalid value: "hold": name is neither a standard finalizer name nor is it fully qualified',
    );
  });

  it('fieldValidation: Strict refuses unknown fields, Warn warns, Ignore ignores; wrong types always fail', async () => {
    const typo = { ...svc('typo'), spec: { selectr: { app: 'x' }, ports: [{ port: 80, nam: 'http' }] } } as ApiObject;
    const strict = await errorOf(api.create(SERVICES, 'default', typo, { fieldValidation: 'Strict' }));
    // lib/model's decoding step: a DecodeError is the apiserver's 400 BadRequest.
    expect(strict).toBeInstanceOf(DecodeError);
    expect((strict as DecodeError).reason).toBe('BadRequest');
    expect(strict.message).toBe(
      'Service in version "v1" cannot be handled as a Service: strict decoding error: unknown field "spec.selectr", unknown field "spec.ports[0].nam"',
    );
    const warn = await api.create(SERVICES, 'default', typo, { fieldValidation: 'Warn', dryRun: true });
    // In document order, as the apiserver's decoder meets them.
    expect(warn.warnings).toEqual(['unknown field "spec.selectr"', 'unknown field "spec.ports[0].nam"']);
    expect((await api.create(SERVICES, 'default', typo, { fieldValidation: 'Ignore', dryRun: true })).warnings).toEqual(
      [],
    );
    const wrongType = { ...svc('wt'), spec: { ports: [{ port: '80' }] } } as unknown as ApiObject;
    const typed = await errorOf(api.create(SERVICES, 'default', wrongType, { fieldValidation: 'Ignore' }));
    // Wrong types are reported field by field, whatever the mode (issue 11's wording: the schema-validation form).
    expect(typed).toBeInstanceOf(InvalidError);
    expect(typed.message).toBe(
      'Service "wt" is invalid: spec.ports[0].port: Invalid value: "string": spec.ports[0].port in body must be of type integer: "string"',
    );
    const otherKind = await errorOf(api.create(SERVICES, 'default', { ...svc('k'), kind: 'Pod' }, {}));
    expect(otherKind).toBeInstanceOf(BadRequestError);
  });

  it('Nodes and EndpointSlices: users get MethodNotAllowed, the controller writes them through system', async () => {
    const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'ip-10-0-1-10.ec2.internal' } };
    const refused = await errorOf(api.create(NODES, undefined, node, {}));
    expect(refused).toBeInstanceOf(MethodNotSupportedError);
    expect(refused.message).toBe('the server does not allow this method on the requested resource');
    await expect(api.delete(NODES, undefined, 'x', {})).rejects.toBeInstanceOf(MethodNotSupportedError);
    const stored = await api.system.create(NODES, undefined, node);
    expect(stored.metadata.namespace).toBeUndefined();
    expect((await api.list(NODES, undefined)).items.map((n) => n.metadata.name)).toEqual(['ip-10-0-1-10.ec2.internal']);
    const slice = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'web-abc12', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      endpoints: [],
    };
    await expect(api.create(ENDPOINT_SLICES, 'default', slice, {})).rejects.toBeInstanceOf(MethodNotSupportedError);
    const s = await api.system.create(ENDPOINT_SLICES, 'default', slice);
    expect(s.apiVersion).toBe('discovery.k8s.io/v1');
    expect(s.metadata.generation).toBe(1);
    expect((await api.get(ENDPOINT_SLICES, 'default', 'web-abc12')).metadata.uid).toBe(s.metadata.uid);
  });

  it('Events: validated like core/v1 (legacyValidateEvent), stored with a one-hour TTL', async () => {
    const ev = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'web.1', namespace: 'default' },
      involvedObject: { kind: 'Service', namespace: 'default', name: 'web' },
      reason: 'EnsuredLoadBalancer',
      message: 'Ensured load balancer',
      type: 'Normal',
    };
    const { object } = await api.create(EVENTS, 'default', ev, {});
    expect(object.metadata.generation).toBeUndefined();
    const item = await dynamodb.send(
      new GetItemCommand({ TableName: table, Key: { pk: { S: 'obj#Event' }, sk: { S: 'default/web.1' } } }),
    );
    const expiresAt = Number(item.Item?.expiresAt?.N);
    expect(expiresAt).toBeGreaterThan(Date.now() / 1000 + 3500);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() / 1000 + 3601);
    expect((await api.list(EVENTS, 'default')).items.map((e) => e.metadata.name)).toContain('web.1');
    const mismatch = await errorOf(
      api.create(
        EVENTS,
        'default',
        { ...ev, metadata: { name: 'web.2' }, involvedObject: { kind: 'Service', namespace: 'other', name: 'x' } },
        {},
      ),
    );
    expect(mismatch.message).toBe(
      'Event "web.2" is invalid: involvedObject.namespace: Invalid value: "other": does not match event.namespace',
    );
    const newStyle = await errorOf(
      api.create(
        EVENTS,
        'default',
        { ...ev, metadata: { name: 'web.3' }, reason: '', eventTime: '2026-01-01T00:00:00.000000Z' },
        {},
      ),
    );
    expect(newStyle.message).toContain('reportingComponent: Required value');
    expect(newStyle.message).toContain('reason: Required value');
  });

  it('Pods: main PUT keeps the stored status; the status subresource sets it', async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p1', namespace: 'default', labels: { app: 'web' } },
      spec: { containers: [{ name: 'c', ports: [{ containerPort: 80 }] }] },
    };
    const created = await api.create(PODS, 'default', pod, {});
    const status = { phase: 'Running', podIP: '10.244.0.9', conditions: [{ type: 'Ready', status: 'True' }] };
    await api.update(PODS, 'default', 'p1', { ...created.object, status }, { subresource: 'status' });
    const relabeled = await api.update(
      PODS,
      'default',
      'p1',
      { ...pod, metadata: { ...pod.metadata, labels: { app: 'db' } }, status: {} },
      {},
    );
    // As the apiserver returns it: the v1 conversion fills podIPs from podIP.
    expect(relabeled.object.status).toEqual({ ...status, podIPs: [{ ip: '10.244.0.9' }] });
  });
});
