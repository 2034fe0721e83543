import { beforeAll, describe, expect, it } from 'vitest';
import type { V1Endpoints, V1Pod, V1Service } from '@kubernetes/client-node';
import { ApiServer, RangeFullError, UserConflictError } from '../../lib/api/server.js';
import { POOL_CLUSTER_IP, POOL_NODE_PORT } from '../../lib/api/allocator.js';
import { InvalidError, NotFoundError } from '../../lib/errors.js';
import { DEFAULT_CLUSTER_CONFIG } from '../../lib/model/types.js';
import { ensureTable } from '../../lib/store/table.js';
import { motoClients, uniqueName } from '../support/aws.js';
import { serializingMiddleware } from '../../lib/aws/serialize.js';

const { dynamodb } = motoClients({ middleware: [serializingMiddleware()] });

async function newServer(cfg = DEFAULT_CLUSTER_CONFIG): Promise<ApiServer> {
  const tableName = uniqueName('api');
  await ensureTable(dynamodb, tableName);
  return new ApiServer({ dynamodb, tableName, cfg });
}

const service = (name: string, spec: V1Service['spec'], ns = 'default'): V1Service => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: ns },
  spec: { selector: { app: name }, ports: [{ port: 80 }], ...spec },
});

async function errorOf(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the call to fail');
}

describe('ApiServer Services (moto DynamoDB)', () => {
  let api: ApiServer;
  beforeAll(async () => {
    api = await newServer();
  });

  it('apply creates (defaulted, allocated), re-apply is unchanged without a write, a change is configured', async () => {
    const manifest = service('web', { type: 'NodePort', ports: [{ port: 80, targetPort: 8080 }] });
    const created = await api.applyService(manifest);
    expect(created.action).toBe('created');
    expect(created.event?.type).toBe('ADDED');
    const s = created.object;
    // resourceVersion is the store's global revision: the write's own, and the current one right after it.
    const rv = Number(s.metadata?.resourceVersion);
    expect(rv).toBe(await api.store.currentRevision());
    expect(s.spec?.sessionAffinity).toBe('None');
    expect(s.spec?.externalTrafficPolicy).toBe('Cluster');
    expect(api.allocator.ipInRange(s.spec!.clusterIP!)).toBe(true);
    expect(s.spec?.clusterIPs).toEqual([s.spec?.clusterIP]);
    const np = s.spec!.ports![0]!.nodePort!;
    expect(api.allocator.portInRange(np)).toBe(true);
    expect(await api.store.allocationOwner(POOL_CLUSTER_IP, s.spec!.clusterIP!)).toBe(s.metadata?.uid);
    expect(await api.store.allocationOwner(POOL_NODE_PORT, String(np))).toBe(s.metadata?.uid);

    const again = await api.applyService(manifest);
    expect(again.action).toBe('unchanged');
    expect(again.event).toBeUndefined();
    expect((await api.getService('default', 'web')).metadata?.resourceVersion).toBe(String(rv));

    const changed = await api.applyService({ ...manifest, metadata: { ...manifest.metadata, labels: { v: '2' } } });
    expect(changed.action).toBe('configured');
    expect(changed.event?.type).toBe('MODIFIED');
    // Allocated values carried over, as kubectl apply keeps them.
    expect(changed.object.spec?.clusterIP).toBe(s.spec?.clusterIP);
    expect(changed.object.spec?.ports?.[0]?.nodePort).toBe(np);
    expect(changed.object.metadata?.resourceVersion).toBe(String(rv + 1));
    expect(changed.object.metadata?.generation).toBe(1);
    expect(changed.object.metadata?.uid).toBe(s.metadata?.uid);

    const respec = await api.applyService(service('web', { type: 'NodePort', ports: [{ port: 81 }] }));
    expect(respec.object.metadata?.generation).toBe(2);
    expect(respec.object.spec?.ports?.[0]?.nodePort).toBe(np); // matched by (empty) port name
  });

  it('get/list by namespace; delete returns DELETED, releases allocations, then NotFound like kubectl', async () => {
    await api.applyService(service('a', {}, 'ns1'));
    await api.applyService(service('b', {}, 'ns1'));
    const c = await api.applyService(service('c', { type: 'NodePort' }, 'ns2'));
    expect((await api.listServices('ns1')).map((s) => s.metadata?.name).sort()).toEqual(['a', 'b']);
    expect((await api.listServices()).length).toBeGreaterThanOrEqual(3);

    const ev = await api.deleteService('ns2', 'c');
    expect(ev.type).toBe('DELETED');
    expect(ev.object.metadata?.uid).toBe(c.object.metadata?.uid);
    expect(await api.store.allocationOwner(POOL_CLUSTER_IP, c.object.spec!.clusterIP!)).toBeUndefined();
    expect(await api.store.allocationOwner(POOL_NODE_PORT, String(c.object.spec!.ports![0]!.nodePort))).toBeUndefined();
    const err = await errorOf(api.getService('ns2', 'c'));
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.message).toBe('services "c" not found');
    expect((await errorOf(api.deleteService('ns2', 'c'))).message).toBe('services "c" not found');
  });

  it('honours a requested clusterIP and nodePort; a second requester gets the API server errors; nothing is stored', async () => {
    const first = await api.applyService(
      service('fixed', {
        type: 'NodePort',
        clusterIP: '10.96.0.10',
        ports: [{ port: 80, nodePort: 30001 }],
      }),
    );
    expect(first.object.spec?.clusterIP).toBe('10.96.0.10');
    expect(first.object.spec?.ports?.[0]?.nodePort).toBe(30001);

    const ipErr = await errorOf(api.applyService(service('thief-ip', { clusterIP: '10.96.0.10' })));
    expect(ipErr).toBeInstanceOf(InvalidError);
    expect(ipErr.message).toBe(
      'Service "thief-ip" is invalid: spec.clusterIPs[0]: Invalid value: "10.96.0.10": failed to allocate IP 10.96.0.10: provided IP is already allocated',
    );
    const portErr = await errorOf(
      api.applyService(service('thief-port', { type: 'NodePort', ports: [{ port: 80, nodePort: 30001 }] })),
    );
    expect(portErr.message).toBe(
      'Service "thief-port" is invalid: spec.ports[0].nodePort: Invalid value: 30001: provided port is already allocated',
    );
    const rangeErr = await errorOf(api.applyService(service('outside', { clusterIP: '1.2.3.4' })));
    expect(rangeErr.message).toBe(
      'Service "outside" is invalid: spec.clusterIPs[0]: Invalid value: "1.2.3.4": failed to allocate IP 1.2.3.4: provided IP is not in the valid range. The range of valid IPs is 10.96.0.0/12',
    );
    for (const n of ['thief-ip', 'thief-port', 'outside']) {
      expect(await api.store.get('Service', 'default', n)).toBeUndefined();
    }
    // The failed attempts left no allocation behind.
    const ips = await api.store.listAllocations(POOL_CLUSTER_IP);
    const uids = new Set((await api.listServices()).map((s) => s.metadata?.uid));
    for (const owner of ips.values()) expect(uids.has(owner)).toBe(true);
  });

  it('healthCheckNodePort: allocated for LoadBalancer+Local, requested values checked, released when no longer needed', async () => {
    const lb = await api.applyService(service('lb', { type: 'LoadBalancer', externalTrafficPolicy: 'Local' }));
    const hc = lb.object.spec!.healthCheckNodePort!;
    expect(api.allocator.portInRange(hc)).toBe(true);
    expect(hc).not.toBe(lb.object.spec!.ports![0]!.nodePort);
    expect(lb.object.status).toEqual({ loadBalancer: {} });

    const taken = await errorOf(
      api.applyService(
        service('lb2', { type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: hc }),
      ),
    );
    expect(taken.message).toBe(
      `Service "lb2" is invalid: spec.healthCheckNodePort: Invalid value: ${hc}: failed to allocate requested HealthCheck NodePort ${hc}: provided port is already allocated`,
    );

    const cluster = await api.applyService(service('lb', { type: 'LoadBalancer', externalTrafficPolicy: 'Cluster' }));
    expect(cluster.object.spec?.healthCheckNodePort).toBeUndefined();
    expect(await api.store.allocationOwner(POOL_NODE_PORT, String(hc))).toBeUndefined();
    // Node ports are carried over across the policy change.
    expect(cluster.object.spec?.ports?.[0]?.nodePort).toBe(lb.object.spec?.ports?.[0]?.nodePort);
  });

  it('type changes release what the new type does not use', async () => {
    const np = await api.applyService(service('morph', { type: 'NodePort' }));
    const ip = np.object.spec!.clusterIP!;
    const port = String(np.object.spec!.ports![0]!.nodePort);
    const uid = np.object.metadata!.uid!;

    const toCluster = await api.applyService(service('morph', { type: 'ClusterIP' }));
    expect(toCluster.object.spec?.ports?.[0]?.nodePort).toBeUndefined();
    expect(toCluster.object.spec?.clusterIP).toBe(ip);
    expect(await api.store.allocationOwner(POOL_NODE_PORT, port)).toBeUndefined();
    expect(await api.store.allocationOwner(POOL_CLUSTER_IP, ip)).toBe(uid);

    const toExternal = await api.applyService({
      metadata: { name: 'morph' },
      spec: { type: 'ExternalName', externalName: 'db.example.com' },
    });
    expect(toExternal.object.spec?.clusterIP).toBeUndefined();
    expect(await api.store.allocationOwner(POOL_CLUSTER_IP, ip)).toBeUndefined();

    const back = await api.applyService(service('morph', { type: 'ClusterIP' }));
    expect(api.allocator.ipInRange(back.object.spec!.clusterIP!)).toBe(true);
    expect(await api.store.allocationOwner(POOL_CLUSTER_IP, back.object.spec!.clusterIP!)).toBe(uid);
  });

  it('LoadBalancer with allocateLoadBalancerNodePorts=false releases node ports the manifest does not name', async () => {
    const lb = await api.applyService(service('nonp', { type: 'LoadBalancer', ports: [{ name: 'a', port: 80 }] }));
    const np = String(lb.object.spec!.ports![0]!.nodePort);
    const off = await api.applyService(
      service('nonp', { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, ports: [{ name: 'a', port: 80 }] }),
    );
    expect(off.object.spec?.ports?.[0]?.nodePort).toBeUndefined();
    expect(await api.store.allocationOwner(POOL_NODE_PORT, np)).toBeUndefined();
  });

  it('port removal releases that port; TCP+UDP of one port share one node port', async () => {
    const dns = await api.applyService(
      service('dns', {
        type: 'NodePort',
        ports: [
          { name: 'udp', port: 53, protocol: 'UDP' },
          { name: 'tcp', port: 53, protocol: 'TCP' },
          { name: 'metrics', port: 9153, protocol: 'TCP' },
        ],
      }),
    );
    const [u, t, m] = dns.object.spec!.ports!;
    expect(u!.nodePort).toBe(t!.nodePort);
    expect(m!.nodePort).not.toBe(u!.nodePort);
    const trimmed = await api.applyService(
      service('dns', {
        type: 'NodePort',
        ports: [
          { name: 'udp', port: 53, protocol: 'UDP' },
          { name: 'tcp', port: 53, protocol: 'TCP' },
        ],
      }),
    );
    expect(trimmed.object.spec?.ports?.map((p) => p.nodePort)).toEqual([u!.nodePort, u!.nodePort]);
    expect(await api.store.allocationOwner(POOL_NODE_PORT, String(m!.nodePort))).toBeUndefined();
    expect(await api.store.allocationOwner(POOL_NODE_PORT, String(u!.nodePort))).toBe(dns.object.metadata?.uid);
  });

  it('headless allocates nothing; the kubernetes Service gets the reserved first address', async () => {
    const h = await api.applyService(service('headless', { clusterIP: 'None' }));
    expect(h.object.spec?.clusterIPs).toEqual(['None']);
    const k = await api.applyService({
      metadata: { name: 'kubernetes', namespace: 'default' },
      spec: { ports: [{ name: 'https', port: 443, targetPort: 6443 }] },
    });
    expect(k.object.spec?.clusterIP).toBe('10.96.0.1');
    const other = await errorOf(api.applyService(service('wants-first', { clusterIP: '10.96.0.1' })));
    expect(other.message).toContain('failed to allocate IP 10.96.0.1: provided IP is already allocated');
  });

  it('invalid input: apiserver-style aggregate error and nothing changes', async () => {
    const err = await errorOf(
      api.applyService({ metadata: { name: 'Bad_Name' }, spec: { type: 'Foo' as never, ports: [{ port: 0 }] } }),
    );
    expect(err).toBeInstanceOf(InvalidError);
    expect(err.message).toMatch(/^Service "Bad_Name" is invalid: \[/);
    expect(err.message).toContain('spec.type: Unsupported value: "Foo"');
    expect((await api.listServices()).some((s) => s.metadata?.name === 'Bad_Name')).toBe(false);

    // An invalid update leaves the stored object as it was.
    const ok = await api.applyService(service('keep', {}));
    await expect(api.applyService(service('keep', { clusterIP: '10.96.9.9' }))).rejects.toThrow(
      /may not change once set/,
    );
    expect(await api.getService('default', 'keep')).toEqual(ok.object);
  });

  it('a stale resourceVersion in the manifest is a Conflict', async () => {
    const a = await api.applyService(service('pre', {}));
    await api.applyService({ ...service('pre', {}), metadata: { name: 'pre', labels: { x: '1' } } });
    const err = await errorOf(
      api.applyService({
        ...service('pre', {}),
        metadata: { name: 'pre', resourceVersion: a.object.metadata?.resourceVersion },
      }),
    );
    expect(err).toBeInstanceOf(UserConflictError);
    expect(err.message).toContain('the object has been modified');
  });

  it('updateServiceStatus writes status only (generation unchanged) and survives concurrent writers', async () => {
    const s = await api.applyService(service('stat', { type: 'LoadBalancer' }));
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        api.updateServiceStatus('default', 'stat', (st) => ({
          ...st,
          conditions: [
            ...(st.conditions ?? []),
            { type: `W${i}`, status: 'True', reason: 'R', message: '', lastTransitionTime: new Date(0) },
          ],
        })),
      ),
    );
    expect(results.every((r) => r.action === 'configured')).toBe(true);
    const now = await api.getService('default', 'stat');
    expect(now.status?.conditions?.map((c) => c.type).sort()).toEqual(['W0', 'W1', 'W2', 'W3', 'W4', 'W5']);
    expect(now.metadata?.generation).toBe(s.object.metadata?.generation);
    expect(Number(now.metadata?.resourceVersion)).toBe(Number(s.object.metadata?.resourceVersion) + 6);
    const same = await api.updateServiceStatus('default', 'stat', (st) => st);
    expect(same.action).toBe('unchanged');
    // A later apply keeps the status (main-resource writes never touch it).
    const re = await api.applyService({
      ...service('stat', { type: 'LoadBalancer' }),
      metadata: { name: 'stat', labels: { a: 'b' } },
    });
    expect(re.object.status?.conditions).toHaveLength(6);
  });
});

describe('ApiServer Pods and Endpoints (moto DynamoDB)', () => {
  let api: ApiServer;
  beforeAll(async () => {
    api = await newServer();
  });

  const pod = (name: string, ip?: string, ready = true): V1Pod => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: 'web' } },
    spec: {
      nodeName: 'ip-10-0-1-10.ec2.internal',
      containers: [{ name: 'app', ports: [{ name: 'http', containerPort: 8080 }] }],
    },
    ...(ip ? { status: { podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } } : {}),
  });

  it('pods: create with status, status change is configured, re-apply unchanged, apply without status keeps it', async () => {
    const c = await api.applyPod(pod('p1', '10.244.1.5', false));
    expect(c.action).toBe('created');
    expect(c.object.spec?.containers[0]?.ports?.[0]?.protocol).toBe('TCP');
    const r = await api.applyPod(pod('p1', '10.244.1.5', true));
    expect(r.action).toBe('configured');
    expect(r.object.status?.conditions?.[0]?.status).toBe('True');
    expect((await api.applyPod(pod('p1', '10.244.1.5', true))).action).toBe('unchanged');
    const noStatus = await api.applyPod(pod('p1'));
    expect(noStatus.action).toBe('unchanged');
    expect((await api.getPod('default', 'p1')).status?.podIP).toBe('10.244.1.5');
    expect((await api.listPods('default')).map((p) => p.metadata?.name)).toEqual(['p1']);
    const del = await api.deletePod('default', 'p1');
    expect(del.type).toBe('DELETED');
    expect((await errorOf(api.getPod('default', 'p1'))).message).toBe('pods "p1" not found');
  });

  it('pods: invalid input is refused', async () => {
    const err = await errorOf(api.applyPod({ metadata: { name: 'nocontainers' }, spec: { containers: [] } }));
    expect(err).toBeInstanceOf(InvalidError);
    expect(err.message).toContain('Pod "nocontainers" is invalid');
    expect(await api.store.get('Pod', 'default', 'nocontainers')).toBeUndefined();
  });

  it('manual endpoints: apply, unchanged, change, list, delete', async () => {
    const ep: V1Endpoints = {
      metadata: { name: 'external-db' },
      subsets: [{ addresses: [{ ip: '10.0.5.10' }], ports: [{ port: 5432 }] }],
    };
    const c = await api.applyEndpoints(ep);
    expect(c.action).toBe('created');
    expect(c.object.subsets?.[0]?.ports?.[0]?.protocol).toBe('TCP');
    expect((await api.applyEndpoints(ep)).action).toBe('unchanged');
    const changed = await api.applyEndpoints({
      ...ep,
      subsets: [{ addresses: [{ ip: '10.0.5.11' }], ports: [{ port: 5432 }] }],
    });
    expect(changed.action).toBe('configured');
    expect((await api.listEndpoints()).map((e) => e.metadata?.name)).toEqual(['external-db']);
    expect((await api.deleteEndpoints('default', 'external-db')).type).toBe('DELETED');
    expect((await errorOf(api.deleteEndpoints('default', 'external-db'))).message).toBe(
      'endpoints "external-db" not found',
    );
  });
});

describe('ApiServer.applyAll (moto DynamoDB)', () => {
  it('one invalid object in a file applies nothing and reports every error', async () => {
    const api = await newServer();
    await api.applyService(service('holder', { type: 'NodePort', ports: [{ port: 80, nodePort: 30100 }] }));
    const err = await errorOf(
      api.applyAll([
        service('good', {}),
        { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c' }] } },
        service('bad', { type: 'Foo' as never }),
        service('clash', { type: 'NodePort', ports: [{ port: 80, nodePort: 30100 }] }),
        service('twice-a', { type: 'NodePort', ports: [{ port: 80, nodePort: 30200 }] }),
        service('twice-b', { type: 'NodePort', ports: [{ port: 80, nodePort: 30200 }] }),
        { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' } },
      ]),
    );
    expect(err).toBeInstanceOf(InvalidError);
    const lines = err.message.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^Service "bad" is invalid: spec.type: Unsupported value: "Foo"/);
    expect(lines[1]).toBe(
      'Service "clash" is invalid: spec.ports[0].nodePort: Invalid value: 30100: provided port is already allocated',
    );
    expect(lines[2]).toBe(
      'Service "twice-b" is invalid: spec.ports[0].nodePort: Invalid value: 30200: provided port is already allocated',
    );
    expect(lines[3]).toBe(
      'resource mapping not found for name: "d": no matches for kind "Deployment" in version "apps/v1"',
    );
    expect((await api.listServices()).map((s) => s.metadata?.name)).toEqual(['holder']);
    expect(await api.listPods()).toEqual([]);
    expect(await api.store.allocationOwner(POOL_NODE_PORT, '30200')).toBeUndefined();
  });

  it('a valid file applies every object in order and reports each action', async () => {
    const api = await newServer();
    const objs = [
      service('web', { type: 'NodePort' }),
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'web-1', labels: { app: 'web' } },
        spec: { containers: [{ name: 'c' }] },
      },
      {
        apiVersion: 'v1',
        kind: 'Endpoints',
        metadata: { name: 'ext' },
        subsets: [{ addresses: [{ ip: '10.0.0.9' }], ports: [{ port: 80 }] }],
      },
    ];
    const first = await api.applyAll(objs);
    expect(first.map((r) => [r.object.kind, r.action])).toEqual([
      ['Service', 'created'],
      ['Pod', 'created'],
      ['Endpoints', 'created'],
    ]);
    const second = await api.applyAll(objs);
    expect(second.map((r) => r.action)).toEqual(['unchanged', 'unchanged', 'unchanged']);

    // The generic entry points dispatch by kind.
    expect((await api.apply({ ...objs[2], subsets: [] })).action).toBe('configured');
    expect((await api.delete('Pod', 'default', 'web-1')).object.kind).toBe('Pod');
    expect((await api.delete('Service', 'default', 'web')).type).toBe('DELETED');
    await expect(api.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } })).rejects.toThrow(
      'no matches for kind "ConfigMap" in version "v1"',
    );
  });
});

describe('ApiServer with a tiny range', () => {
  it('reports "range is full" once every value is taken, and frees values on delete', async () => {
    const api = await newServer({
      ...DEFAULT_CLUSTER_CONFIG,
      serviceCidr: '10.200.0.0/29',
      nodePortRange: { min: 30000, max: 30001 },
    });
    // /29: 6 usable, the first reserved for `kubernetes`: 5 Services fit.
    for (let i = 0; i < 5; i++) await api.applyService(service(`s${i}`, {}));
    const full = await errorOf(api.applyService(service('s5', {})));
    expect(full).toBeInstanceOf(RangeFullError);
    expect(full.message).toBe('Internal error occurred: failed to allocate a serviceIP: range is full');
    await api.deleteService('default', 's0');
    expect((await api.applyService(service('s5', {}))).action).toBe('created');

    await api.deleteService('default', 's1');
    await api.deleteService('default', 's2');
    await api.applyService(service('n1', { type: 'NodePort' }));
    await api.applyService(service('n2', { type: 'NodePort' }));
    const portsFull = await errorOf(api.applyService(service('s1', { type: 'NodePort' })));
    expect(portsFull.message).toBe('Internal error occurred: failed to allocate a nodePort: range is full');
    expect(await api.store.get('Service', 'default', 's1')).toBeUndefined();
  });
});
