/**
 * Node ports of the data plane's own for Gateway backends (lib/gateway/backend-ports.ts): the pure planning, then
 * against moto's DynamoDB through the same table, pool and allocation blocks as the API's allocator: idempotent,
 * never colliding with a Service's NodePort either way, one number per ref under concurrent callers, released with
 * the number freed, a re-created Service keeping the number, and a push asked only when something changed.
 */
import { describe, expect, it } from 'vitest';
import type { V1Service } from '@kubernetes/client-node';
import { POOL_NODE_PORT, ServiceAllocator } from '../../lib/api/allocator.js';
import { ApiServer } from '../../lib/api/server.js';
import { InvalidError, RequeueError } from '../../lib/errors.js';
import {
  backendPortKey,
  backendPortOwner,
  ensureBackendNodePorts,
  loadBackendNodePorts,
  planEnsure,
  planRelease,
  releaseBackendNodePorts,
  type BackendPortRef,
  type BackendPortsHandle,
  type StoredBackendPort,
} from '../../lib/gateway/backend-ports.js';
import { loadDataPlaneState } from '../../lib/runtime/dataplane-state.js';
import type { PushTrigger } from '../../lib/dataplane/triggers.js';
import { DEFAULT_CLUSTER_CONFIG, type ClusterConfig } from '../../lib/model/types.js';
import { ensureTable } from '../../lib/store/table.js';
import { serializingMiddleware } from '../../lib/aws/serialize.js';
import { motoClients, uniqueName } from '../support/aws.js';

// One request in flight at a time on the wire, as in test/api/concurrency.test.ts: moto is not atomic per request
// (DynamoDB is); interleaved requests still race exactly as concurrent callers do.
const { dynamodb } = motoClients({ middleware: [serializingMiddleware()] });

async function newApi(cfg: ClusterConfig = DEFAULT_CLUSTER_CONFIG): Promise<ApiServer> {
  const tableName = uniqueName('bports');
  await ensureTable(dynamodb, tableName);
  return new ApiServer({ dynamodb, tableName, cfg });
}

const ref = (service: string, port = 80, protocol: 'TCP' | 'UDP' = 'TCP', uid = `uid-${service}`): BackendPortRef => ({
  namespace: 'gw',
  service,
  uid,
  port,
  protocol,
});

function recorder(api: ApiServer, rand?: () => number): BackendPortsHandle & { pushes: PushTrigger[] } {
  const pushes: PushTrigger[] = [];
  return { api, pusher: { request: async (t) => void pushes.push(t) }, pushes, ...(rand ? { rand } : {}) };
}

const stored = (r: BackendPortRef, nodePort: number, version = 1): StoredBackendPort => ({
  port: { ...r, nodePort },
  version,
});

describe('planning (pure)', () => {
  const alloc = new ServiceAllocator({ serviceCidr: '10.96.0.0/12', nodePortRange: { min: 30000, max: 30009 } });

  it('keeps what is held, adopts a new uid with the same number, picks free numbers for the rest', () => {
    const a = ref('a');
    const b = ref('b');
    const c = ref('c');
    const plan = planEnsure(
      [stored(a, 30001), stored({ ...b, uid: 'old' }, 30002)],
      [a, b, c, c],
      new Set(['30000', '30003', '30004', '30005', '30006', '30007', '30008']),
      alloc,
    );
    expect([...plan.held]).toEqual([[backendPortKey(a), 30001]]);
    expect(plan.adopt.map((x) => [x.ref.uid, x.stored.port.nodePort])).toEqual([['uid-b', 30002]]);
    expect(plan.allocate).toEqual([{ ref: c, nodePort: 30009 }]);
    expect(plan.exhausted).toEqual([]);
  });

  it('reports exhaustion per ref, never picking a number twice in one plan', () => {
    const taken = new Set(Array.from({ length: 8 }, (_, i) => String(30000 + i)));
    const plan = planEnsure([], [ref('a'), ref('b'), ref('c')], taken, alloc);
    expect(plan.allocate.map((x) => x.nodePort).sort()).toEqual([30008, 30009]);
    expect(plan.exhausted).toHaveLength(1);
  });

  it('releases what keep does not name, by key and uid', () => {
    const s = [stored(ref('a'), 30001), stored(ref('b'), 30002), stored(ref('c'), 30003)];
    const gone = planRelease(s, [ref('a'), { ...ref('b'), uid: 'new' }]);
    expect(gone.map((x) => x.port.service)).toEqual(['b', 'c']);
  });
});

describe('ensureBackendNodePorts / releaseBackendNodePorts (moto)', () => {
  it('is idempotent, records the owner in the NodePort pool, and pushes only on a change', async () => {
    const api = await newApi();
    const h = recorder(api);
    const wanted = [ref('web'), ref('dns', 53, 'UDP'), ref('dns', 53, 'TCP')];
    const first = await ensureBackendNodePorts(h, wanted);
    expect([...first.keys()].sort()).toEqual(wanted.map(backendPortKey).sort());
    expect(new Set(first.values()).size).toBe(3);
    for (const p of first.values()) expect(api.allocator.portInRange(p)).toBe(true);
    expect(h.pushes).toEqual([{ kind: 'objects' }]);
    expect(await ensureBackendNodePorts(h, wanted)).toEqual(first);
    expect(h.pushes).toHaveLength(1); // nothing changed: no second push
    const pool = await api.store.listAllocations(POOL_NODE_PORT);
    for (const [key, port] of first) expect(pool.get(String(port))).toBe(backendPortOwner(key));
    // survives a restart: a new handle on the same table finds the same numbers
    const again = await newHandleOn(api);
    expect(await ensureBackendNodePorts(again, wanted)).toEqual(first);
    expect((await loadBackendNodePorts(api.store)).map((p) => [backendPortKey(p), p.nodePort]).sort()).toEqual(
      [...first].sort(),
    );
  });

  it('never collides with Service NodePorts, in either direction', async () => {
    const api = await newApi({ ...DEFAULT_CLUSTER_CONFIG, nodePortRange: { min: 30000, max: 30019 } });
    const svc = (name: string, spec: V1Service['spec']): V1Service => ({
      metadata: { name, namespace: 'default' },
      spec: { type: 'NodePort', selector: { app: name }, ports: [{ port: 80 }], ...spec },
    });
    for (let i = 0; i < 12; i++) await api.applyService(svc(`np-${i}`, {}));
    const held = new Set((await api.listServices()).flatMap((s) => (s.spec?.ports ?? []).map((p) => p.nodePort!)));
    expect(held.size).toBe(12);
    const refs = Array.from({ length: 8 }, (_, i) => ref(`b${i}`));
    const got = await ensureBackendNodePorts(recorder(api), refs);
    for (const p of got.values()) {
      expect(held.has(p)).toBe(false);
      expect(api.allocator.portInRange(p)).toBe(true);
    }
    expect(new Set(got.values()).size).toBe(8);
    // The range is full now: one more backend waits, and so does a new NodePort Service.
    await expect(ensureBackendNodePorts(recorder(api), [...refs, ref('late')])).rejects.toThrow(RequeueError);
    await expect(api.applyService(svc('np-late', {}))).rejects.toThrow(/range is full/);
    // A Service asking for a hidden port by number is told it is taken, as for another Service's NodePort.
    const hiddenPort = got.get(backendPortKey(refs[0]!))!;
    await api.deleteService('default', 'np-0');
    await expect(api.applyService(svc('np-0', { ports: [{ port: 80, nodePort: hiddenPort }] }))).rejects.toThrow(
      InvalidError,
    );
    await expect(api.applyService(svc('np-0', { ports: [{ port: 80, nodePort: hiddenPort }] }))).rejects.toThrow(
      'provided port is already allocated',
    );
    // The freed Service port is free for the late backend.
    const late = await ensureBackendNodePorts(recorder(api), [ref('late')]);
    expect(held.has(late.get(backendPortKey(ref('late')))!)).toBe(true);
  }, 60_000);

  it('concurrent callers get the same number per ref; different refs picking the same number get different ones', async () => {
    const api = await newApi();
    const wanted = [ref('a'), ref('b'), ref('c')];
    // Each caller picks different numbers first (its own random source): only the record decides who wins a ref.
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        ensureBackendNodePorts(
          recorder(api, () => (i + 0.5) / 8),
          wanted,
        ),
      ),
    );
    for (const r of results) expect(r).toEqual(results[0]);
    expect(new Set(results[0]!.values()).size).toBe(3);
    const records = await loadBackendNodePorts(api.store);
    expect(records).toHaveLength(3);
    const ours = [...(await api.store.listAllocations(POOL_NODE_PORT))].filter(([, o]) => o.startsWith('gateway-'));
    expect(ours.map(([v]) => Number(v)).sort()).toEqual([...results[0]!.values()].sort());
    // Different refs racing for the same pick end with different numbers.
    const [x, y] = await Promise.all([
      ensureBackendNodePorts(
        recorder(api, () => 0.25),
        [ref('x')],
      ),
      ensureBackendNodePorts(
        recorder(api, () => 0.25),
        [ref('y')],
      ),
    ]);
    expect(x!.get(backendPortKey(ref('x')))).not.toBe(y!.get(backendPortKey(ref('y'))));
  }, 60_000);

  it('releases what keep leaves out (numbers freed for Services), and a re-created Service keeps its number', async () => {
    const api = await newApi();
    const h = recorder(api);
    const got = await ensureBackendNodePorts(h, [ref('a'), ref('b'), ref('c')]);
    // b re-created (new uid): ensure adopts the number for the new uid.
    const b2 = ref('b', 80, 'TCP', 'uid-b-2');
    const adopted = await ensureBackendNodePorts(h, [b2]);
    expect(adopted.get(backendPortKey(b2))).toBe(got.get(backendPortKey(b2)));
    expect((await loadBackendNodePorts(api.store)).find((p) => p.service === 'b')!.uid).toBe('uid-b-2');
    h.pushes.length = 0;
    // keep a, and b under its OLD uid: b's allocation (now for uid-b-2) and c go.
    const released = await releaseBackendNodePorts(h, [ref('a'), ref('b')]);
    expect(released.sort()).toEqual([backendPortKey(ref('b')), backendPortKey(ref('c'))]);
    expect(h.pushes).toEqual([{ kind: 'objects' }]);
    expect(await releaseBackendNodePorts(h, [ref('a')])).toEqual([]);
    expect(h.pushes).toHaveLength(1);
    const pool = await api.store.listAllocations(POOL_NODE_PORT);
    expect(pool.has(String(got.get(backendPortKey(ref('a')))))).toBe(true);
    const freed = got.get(backendPortKey(ref('c')))!;
    expect(pool.has(String(freed))).toBe(false);
    // A Service can now take the freed number by request.
    const r = await api.applyService({
      metadata: { name: 'takes', namespace: 'default' },
      spec: { type: 'NodePort', selector: { app: 'x' }, ports: [{ port: 80, nodePort: freed }] },
    });
    expect(r.object.spec?.ports?.[0]?.nodePort).toBe(freed);
    expect(await releaseBackendNodePorts(h, [])).toEqual([backendPortKey(ref('a'))]);
    expect(await loadBackendNodePorts(api.store)).toEqual([]);
  }, 60_000);

  it('the data plane loads them with the Services (loadDataPlaneState)', async () => {
    const api = await newApi();
    await api.applyService({
      metadata: { name: 'web', namespace: 'gw' },
      spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
    });
    const uid = (await api.listServices('gw'))[0]!.metadata!.uid!;
    const got = await ensureBackendNodePorts(recorder(api), [ref('web', 80, 'TCP', uid)]);
    const state = await loadDataPlaneState(api, api.cfg, []);
    expect(state.backendNodePorts).toEqual([
      { namespace: 'gw', service: 'web', uid, port: 80, protocol: 'TCP', nodePort: got.get('gw/web:80/TCP') },
    ]);
    // kubectl's view is unchanged: the Service still has no nodePort
    expect((await api.listServices('gw'))[0]!.spec?.ports?.[0]?.nodePort).toBeUndefined();
  });
});

async function newHandleOn(api: ApiServer): Promise<BackendPortsHandle> {
  const fresh = new ApiServer({ store: api.store, cfg: api.cfg });
  return { api: fresh };
}
