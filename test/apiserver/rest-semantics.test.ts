/**
 * REST semantics the kubectl tests do not reach: pagination, resourceVersion rules, watch selection transitions,
 * bookmarks, 410 as an ERROR event, sendInitialEvents, error Status objects (codes, reasons, details), verbs a
 * resource does not serve, content negotiation, finalizers and preconditions on delete, deletecollection.
 */
import { describe, expect, it } from 'vitest';
import { inProcess, readEvents, type Json } from '../support/in-process.js';

const SVC = '/api/v1/namespaces/default/services';
const svc = (name: string, labels: Record<string, string> = {}, extra: object = {}) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, labels, ...extra },
  spec: { ports: [{ port: 80 }] },
});

async function withServices(n: number) {
  const api = await inProcess({ bookmarkIntervalMs: 0 });
  for (let i = 0; i < n; i++) {
    const r = await api.json('POST', SVC, { body: svc(`s${String(i).padStart(2, '0')}`, { i: String(i % 3) }) });
    expect(r.status).toBe(201);
  }
  return api;
}

describe('list', () => {
  it('pages with limit/continue in name order, reporting remainingItemCount and the first page revision', async () => {
    const api = await withServices(7);
    const p1 = await api.json('GET', SVC, { query: { limit: '3' } });
    expect(p1.body.items.map((i: Json) => i.metadata.name)).toEqual(['s00', 's01', 's02']);
    expect(p1.body.metadata.remainingItemCount).toBe(4);
    await api.json('POST', SVC, { body: svc('s99') });
    const p2 = await api.json('GET', SVC, { query: { limit: '3', continue: p1.body.metadata.continue } });
    expect(p2.body.items.map((i: Json) => i.metadata.name)).toEqual(['s03', 's04', 's05']);
    expect(p2.body.metadata.resourceVersion).toBe(p1.body.metadata.resourceVersion);
    const p3 = await api.json('GET', SVC, { query: { limit: '3', continue: p2.body.metadata.continue } });
    expect(p3.body.items.map((i: Json) => i.metadata.name)).toEqual(['s06', 's99']);
    expect(p3.body.metadata.continue).toBeUndefined();
    const bad = await api.json('GET', SVC, { query: { continue: 'garbage' } });
    expect(bad.status).toBe(400);
  });

  it('applies set-based label selectors and rejects malformed ones with 400', async () => {
    const api = await withServices(6);
    const r = await api.json('GET', SVC, { query: { labelSelector: 'i in (0,2),i!=2' } });
    expect(r.body.items.map((i: Json) => i.metadata.name)).toEqual(['s00', 's03']);
    const bad = await api.json('GET', SVC, { query: { labelSelector: 'i in 0' } });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ kind: 'Status', reason: 'BadRequest', code: 400 });
  });

  it('resourceVersion: too large is 504 Timeout, an old Exact is 410 Expired', async () => {
    const api = await withServices(1);
    const big = await api.json('GET', SVC, { query: { resourceVersion: '999999' } });
    expect(big.status).toBe(504);
    expect(big.body.message).toMatch(/^Too large resource version: 999999, current: \d+$/);
    const exact = await api.json('GET', SVC, { query: { resourceVersion: '1', resourceVersionMatch: 'Exact' } });
    expect(exact.status).toBe(410);
    expect(exact.body.reason).toBe('Expired');
  });
});

describe('watch', () => {
  it('turns selector exits and entries into DELETED and ADDED, as the watch cache does', async () => {
    const api = await withServices(0);
    await api.json('POST', SVC, { body: svc('w', { app: 'a' }) });
    const rv = (await api.json('GET', SVC)).body.metadata.resourceVersion;
    const res = await api.call('GET', SVC, { query: { watch: 'true', resourceVersion: rv, labelSelector: 'app=a' } });
    const relabel = async (app: string) => {
      const cur = (await api.json('GET', `${SVC}/w`)).body;
      await api.json('PUT', `${SVC}/w`, { body: { ...cur, metadata: { ...cur.metadata, labels: { app } } } });
    };
    await relabel('b');
    await relabel('a');
    await api.json('DELETE', `${SVC}/w`);
    const events = await readEvents(res, (e) => e.length >= 3);
    expect(events.map((e) => `${e.type} ${e.object.metadata.labels.app}`)).toEqual([
      'DELETED a',
      'ADDED a',
      'DELETED a',
    ]);
    // DELETED for leaving the selection carries the previous state at the new revision.
    expect(Number(events[0].object.metadata.resourceVersion)).toBeGreaterThan(Number(rv));
  });

  it('sends bookmarks only when allowed, and ERROR 410 for a compacted revision', async () => {
    const api = await withServices(1);
    const rv = (await api.json('GET', SVC)).body.metadata.resourceVersion;
    const res = await api.call('GET', SVC, { query: { watch: '1', resourceVersion: rv, allowWatchBookmarks: 'true' } });
    await api.json('POST', '/api/v1/namespaces', {
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } },
    });
    // A periodic bookmark may come first at the starting revision; the one after the write carries the next one.
    const after = (e: { object: { metadata: { resourceVersion: string } } }) =>
      Number(e.object.metadata.resourceVersion) > Number(rv);
    const events = (await readEvents(res, (e) => e.some(after))).filter(after);
    expect(events[0]).toEqual({
      type: 'BOOKMARK',
      object: { apiVersion: 'v1', kind: 'Service', metadata: { resourceVersion: String(Number(rv) + 1) } },
    });
    await api.compact(Number(rv) + 1);
    const gone = await readEvents(
      await api.call('GET', SVC, { query: { watch: '1', resourceVersion: rv } }),
      () => false,
    );
    expect(gone).toHaveLength(1);
    expect(gone[0].type).toBe('ERROR');
    expect(gone[0].object).toMatchObject({ kind: 'Status', code: 410, reason: 'Expired' });
  });

  it('sendInitialEvents=true streams the current state, then the initial-events-end bookmark', async () => {
    const api = await withServices(2);
    const res = await api.call('GET', SVC, {
      query: {
        watch: '1',
        sendInitialEvents: 'true',
        resourceVersionMatch: 'NotOlderThan',
        allowWatchBookmarks: 'true',
      },
    });
    const events = await readEvents(res, (e) => e.length >= 3);
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'ADDED', 'BOOKMARK']);
    expect(events[2].object.metadata.annotations).toEqual({ 'k8s.io/initial-events-end': 'true' });
  });

  it('a watch on one name (legacy /watch/ prefix) sees only that object; timeoutSeconds ends it', async () => {
    const api = await withServices(2);
    const res = await api.call('GET', '/api/v1/watch/namespaces/default/services/s01', {
      query: { timeoutSeconds: '2' },
    });
    const events = await readEvents(res, () => false);
    expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED s01']);
  });

  it('a malformed watch request is a 400 Status, not a stream', async () => {
    const api = await withServices(0);
    const r = await api.json('GET', SVC, { query: { watch: '1', timeoutSeconds: 'soon' } });
    expect(r.body).toMatchObject({ kind: 'Status', reason: 'BadRequest', code: 400 });
  });

  it('Table watch: column definitions on the first event only', async () => {
    const api = await withServices(2);
    const res = await api.call('GET', SVC, {
      query: { watch: '1', timeoutSeconds: '2' },
      accept: 'application/json;as=Table;v=v1;g=meta.k8s.io',
    });
    const events = await readEvents(res, () => false);
    expect(events).toHaveLength(2);
    expect(events[0].object.kind).toBe('Table');
    expect(events[0].object.columnDefinitions.map((c: Json) => c.name)).toContain('Port(s)');
    expect(events[1].object.columnDefinitions).toBeNull();
    expect(events[1].object.rows[0].cells[0]).toBe('s01');
  });
});

describe('errors and verbs', () => {
  it('NotFound, AlreadyExists and Conflict carry the apiserver reason, code and details', async () => {
    const api = await withServices(1);
    const nf = await api.json('GET', `${SVC}/nope`);
    expect(nf.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'services "nope" not found',
      reason: 'NotFound',
      details: { name: 'nope', kind: 'services' },
      code: 404,
    });
    const dup = await api.json('POST', SVC, { body: svc('s00') });
    expect(dup.body).toMatchObject({ reason: 'AlreadyExists', code: 409, details: { name: 's00', kind: 'services' } });
    const cur = (await api.json('GET', `${SVC}/s00`)).body;
    await api.json('PUT', `${SVC}/s00`, { body: { ...cur, metadata: { ...cur.metadata, labels: { x: '1' } } } });
    const stale = await api.json('PUT', `${SVC}/s00`, { body: cur });
    expect(stale.body).toMatchObject({ reason: 'Conflict', code: 409 });
    expect(stale.body.message).toContain('the object has been modified');
  });

  it('Invalid carries the kind, the name and one cause per field without repeating the field', async () => {
    const api = await withServices(0);
    const r = await api.json('POST', SVC, {
      body: {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'bad' },
        spec: { type: 'Foo', ports: [{ port: 80 }] },
      },
    });
    expect(r.status).toBe(422);
    expect(r.body.details).toEqual({
      name: 'bad',
      kind: 'Service',
      causes: [
        {
          reason: 'FieldValueNotSupported',
          message:
            'Unsupported value: "Foo": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
          field: 'spec.type',
        },
      ],
    });
  });

  it('405 for verbs a resource does not serve, 404 for unknown paths, 406 for protobuf-only clients, 400 for mismatches', async () => {
    const api = await withServices(0);
    const post = await api.json('POST', '/api/v1/nodes', {
      body: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' } },
    });
    expect(post.body).toMatchObject({ reason: 'MethodNotAllowed', code: 405 });
    expect((await api.json('GET', '/api/v1/widgets')).status).toBe(404);
    expect((await api.json('GET', '/apis/apps/v1')).status).toBe(404);
    expect((await api.call('GET', SVC, { accept: 'application/vnd.kubernetes.protobuf' })).status).toBe(406);
    const ns = await api.json('POST', SVC, { body: { ...svc('a'), metadata: { name: 'a', namespace: 'other' } } });
    expect(ns.status).toBe(400);
    const name = await api.json('PUT', `${SVC}/a`, { body: svc('b') });
    expect(name.body.message).toBe('the name of the object (b) does not match the name on the URL (a)');
    const kind = await api.json('POST', SVC, { body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } } });
    expect(kind.status).toBe(400);
  });

  it('delete: preconditions conflict, finalizers make it pending (202) until the last one is removed', async () => {
    const api = await withServices(0);
    const created = (await api.json('POST', SVC, { body: svc('f', {}, { finalizers: ['example.com/hold'] }) })).body;
    const wrong = await api.json('DELETE', `${SVC}/f`, { body: { preconditions: { uid: 'other' } } });
    expect(wrong.body).toMatchObject({ reason: 'Conflict', code: 409 });
    const pending = await api.json('DELETE', `${SVC}/f`, {
      body: { kind: 'DeleteOptions', propagationPolicy: 'Background' },
    });
    expect(pending.status).toBe(202);
    expect(pending.body.metadata.deletionTimestamp).toBeDefined();
    const patch = await api.json('PATCH', `${SVC}/f`, {
      body: { metadata: { finalizers: null } },
      contentType: 'application/merge-patch+json',
    });
    expect(patch.status).toBe(200);
    expect((await api.json('GET', `${SVC}/f`)).status).toBe(404);
    expect(created.metadata.uid).toBeDefined();
  });

  it('deletecollection deletes what the selector selects', async () => {
    const api = await withServices(6);
    const r = await api.json('DELETE', SVC, { query: { labelSelector: 'i=1' } });
    expect(r.body.items.map((i: Json) => i.metadata.name)).toEqual(['s01', 's04']);
    expect((await api.json('GET', SVC)).body.items).toHaveLength(4);
  });

  it('fieldValidation=Warn returns unknown fields as Warning headers (kubectl prints them)', async () => {
    const api = await withServices(0);
    const r = await api.json('POST', SVC, {
      query: { fieldValidation: 'Warn' },
      body: { ...svc('warned'), spec: { ports: [{ port: 80 }], colour: 'blue' } },
    });
    expect(r.status).toBe(201);
    expect(r.headers.warning).toBe('299 - "unknown field \\"spec.colour\\""');
    const bad = await api.json('POST', SVC, { query: { fieldValidation: 'Loose' }, body: svc('x') });
    expect(bad.status).toBe(400);
  });

  it('status subresource updates status only; the main resource keeps status', async () => {
    const api = await withServices(1);
    const cur = (await api.json('GET', `${SVC}/s00`)).body;
    const withStatus = {
      ...cur,
      spec: { ...cur.spec, ports: [{ port: 81 }] },
      status: { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } },
    };
    const s = await api.json('PUT', `${SVC}/s00/status`, { body: withStatus });
    expect(s.body.spec.ports[0].port).toBe(80);
    expect(s.body.status.loadBalancer.ingress).toEqual([{ ip: '1.2.3.4' }]);
    const m = await api.json('PUT', `${SVC}/s00`, { body: { ...s.body, status: {} } });
    expect(m.body.status.loadBalancer.ingress).toEqual([{ ip: '1.2.3.4' }]);
  });
});

describe('decoding', () => {
  it('values of the wrong JSON type are 400 before the backend sees them; Quantities take strings or numbers', async () => {
    const api = await withServices(0);
    const cases: [object, string][] = [
      [{ ...svc('t1'), spec: 'x' }, 'spec: expected object, got string'],
      [{ ...svc('t2'), spec: { ports: [{ port: '80' }] } }, 'spec.ports[0].port: expected integer, got string'],
      [{ ...svc('t3'), spec: { ports: [{ port: 80.5 }] } }, 'spec.ports[0].port: expected integer, got number'],
      [{ ...svc('t4'), spec: { ports: {} } }, 'spec.ports: expected array, got object'],
      [
        { ...svc('t5'), spec: { ports: [{ port: 80, targetPort: true }] } },
        'spec.ports[0].targetPort: expected integer or string, got boolean',
      ],
      [{ ...svc('t6', { a: 1 as unknown as string }) }, 'metadata.labels.a: expected string, got integer'],
    ];
    const before = await api.backend.currentRevision();
    for (const [body, problem] of cases) {
      const r = await api.json('POST', SVC, { body });
      expect(r.status).toBe(400);
      expect(r.body.message).toBe(`Service in version "v1" cannot be handled as a Service: ${problem}`);
    }
    expect(await api.backend.currentRevision()).toBe(before);
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'q' },
      spec: { containers: [{ name: 'a', image: 'x', resources: { limits: { cpu: 1, memory: '64Mi' } } }] },
    };
    expect((await api.json('POST', '/api/v1/namespaces/default/pods', { body: pod })).status).toBe(201);
    const patched = await api.json('PATCH', `${SVC}/none`, {
      body: { spec: 'x' },
      contentType: 'application/merge-patch+json',
    });
    expect(patched.status).toBe(404);
  });
});
