/**
 * kubectl get / describe against the API server: the apiserver's Table columns and cell formatting per kind
 * (services, pods, endpoints, endpointslices, nodes, events, namespaces), -o wide|yaml|json|jsonpath|name, -A, -l,
 * --field-selector, --show-labels, and describe with events (which kubectl finds by involvedObject field selectors).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { ApiObject } from '../../lib/api/backend.js';
import { startTestApi, type TestApi } from '../support/api-server.js';
import type { Kubectl } from '../support/kubectl.js';
import { resourceOf } from '../support/registry.js';

let api: TestApi;
let k: Kubectl;

const obj = (apiVersion: string, kind: string, metadata: ApiObject['metadata'], rest: object): ApiObject =>
  ({ apiVersion, kind, metadata, ...rest }) as ApiObject;

async function seed(): Promise<void> {
  const b = api.backend;
  // Nodes and EndpointSlices are the controllers' to write (system writes); users' kinds go through create.
  const apply = async (resource: string, o: ApiObject) => {
    const r = resourceOf(resource);
    return r.systemOwned ? b.system.create(r, o.metadata.namespace, o) : b.create(r, o.metadata.namespace, o, {});
  };
  await k.run(['apply', '-f', 'examples/']);
  await k.run(['create', 'namespace', 'other']);
  await apply(
    'services',
    obj(
      'v1',
      'Service',
      { name: 'elsewhere', namespace: 'other', labels: { tier: 'x' } },
      {
        spec: { selector: { app: 'x' }, ports: [{ port: 53, protocol: 'UDP' }] },
      },
    ),
  );
  const web = await b.get(resourceOf('services'), 'default', 'web');
  await b.update(
    resourceOf('services'),
    'default',
    'web',
    {
      ...web,
      status: { loadBalancer: { ingress: [{ hostname: 'k8s-default-web-0123456789.elb.us-east-1.amazonaws.com' }] } },
    },
    { subresource: 'status' },
  );
  await apply(
    'nodes',
    obj(
      'v1',
      'Node',
      { name: 'ip-10-0-1-10.ec2.internal', labels: { 'node-role.kubernetes.io/worker': '' } },
      {
        spec: {},
        status: {
          conditions: [{ type: 'Ready', status: 'True' }],
          addresses: [
            { type: 'InternalIP', address: '10.0.1.10' },
            { type: 'ExternalIP', address: '3.80.1.2' },
          ],
          nodeInfo: {
            kubeletVersion: 'v1.32.0',
            osImage: 'Amazon Linux 2023',
            kernelVersion: '6.1.0',
            containerRuntimeVersion: 'containerd://1.7.0',
          },
        },
      },
    ),
  );
  const pod = (name: string, ready: boolean) =>
    obj(
      'v1',
      'Pod',
      { name, namespace: 'default', labels: { app: 'hellok8s' } },
      {
        spec: {
          nodeName: 'ip-10-0-1-10.ec2.internal',
          containers: [{ name: 'app', image: 'hellok8s:v1', ports: [{ containerPort: 4567 }] }],
        },
        status: {
          phase: 'Running',
          podIP: ready ? '10.0.1.20' : '10.0.1.21',
          podIPs: [{ ip: ready ? '10.0.1.20' : '10.0.1.21' }],
          conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
          containerStatuses: [
            {
              name: 'app',
              ready,
              restartCount: 0,
              image: 'hellok8s:v1',
              imageID: '',
              state: { running: { startedAt: '2026-01-01T00:00:00Z' } },
            },
          ],
        },
      },
    );
  await apply('pods', pod('hellok8s-1', true));
  await apply('pods', pod('hellok8s-2', false));
  await apply(
    'endpoints',
    obj(
      'v1',
      'Endpoints',
      { name: 'hellok8s-svc', namespace: 'default' },
      {
        subsets: [{ addresses: [{ ip: '10.0.1.20' }], ports: [{ port: 4567, protocol: 'TCP' }] }],
      },
    ),
  );
  await apply(
    'endpointslices',
    obj(
      'discovery.k8s.io/v1',
      'EndpointSlice',
      {
        name: 'hellok8s-svc-abc12',
        namespace: 'default',
        labels: { 'kubernetes.io/service-name': 'hellok8s-svc' },
      },
      {
        addressType: 'IPv4',
        ports: [{ port: 4567, protocol: 'TCP', name: '' }],
        endpoints: [{ addresses: ['10.0.1.20'], conditions: { ready: true } }],
      },
    ),
  );
  await apply(
    'events',
    obj(
      'v1',
      'Event',
      { name: 'web.1', namespace: 'default' },
      {
        involvedObject: { kind: 'Service', namespace: 'default', name: 'web', uid: web.metadata.uid, apiVersion: 'v1' },
        reason: 'EnsuredLoadBalancer',
        message: 'Ensured load balancer',
        type: 'Normal',
        source: { component: 'service-controller' },
        count: 1,
        firstTimestamp: new Date().toISOString(),
        lastTimestamp: new Date().toISOString(),
      },
    ),
  );
}

beforeAll(async () => {
  api = await startTestApi();
  k = api.kubectl();
  await seed();
});
afterAll(() => api?.close());

const rows = (out: string) =>
  out
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s{2,}/));

describe('kubectl get services', () => {
  it('prints the apiserver columns with 4567:30001/TCP for the seeds Service', async () => {
    const res = await k.run(['get', 'service', 'hellok8s-svc']);
    expect(res.stderr).toBe('');
    const [header, row] = rows(res.stdout);
    expect(header).toEqual(['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE']);
    expect(row![0]).toBe('hellok8s-svc');
    expect(row![1]).toBe('NodePort');
    expect(row![2]).toMatch(/^10\.(9[6-9]|1[01]\d)\.\d+\.\d+$/);
    expect(row!.slice(3, 5)).toEqual(['<none>', '4567:30001/TCP']);
    expect(row![5]).toMatch(/^\d+s$/);
  });

  it('lists every type as a real cluster prints them, and -o wide adds SELECTOR', async () => {
    const res = await k.run(['get', 'svc', '-o', 'wide']);
    const table = rows(res.stdout);
    expect(table[0]).toEqual(['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE', 'SELECTOR', 'LB-COST/MO']);
    const byName = Object.fromEntries(table.slice(1).map((r) => [r[0], r]));
    expect(byName.db!.slice(1, 5)).toEqual(['ExternalName', '<none>', 'my-db.company.com', '<none>']);
    expect(byName.nginx![4]).toBe('8080/TCP,8443/TCP');
    expect(byName.nginx![6]).toBe('app=nginx');
    expect(byName.web![3]).toBe('k8s-default-web-0123456789.elb.us-east-1.amazonaws.com');
    expect(byName.web![4]).toMatch(/^80:3\d{4}\/TCP$/);
  });

  it('-o yaml, -o json, jsonpath and -o name', async () => {
    const y = parse((await k.run(['get', 'svc', 'hellok8s-svc', '-o', 'yaml'])).stdout);
    expect(y.kind).toBe('Service');
    expect(y.spec.ports).toEqual([{ nodePort: 30001, port: 4567, protocol: 'TCP', targetPort: 4567 }]);
    const j = JSON.parse((await k.run(['get', 'svc', '-o', 'json'])).stdout);
    expect(j.kind).toBe('List');
    expect(j.items.map((i: ApiObject) => i.metadata.name).sort()).toEqual(['db', 'hellok8s-svc', 'nginx', 'web']);
    const jp = await k.run(['get', 'svc', 'nginx', '-o', 'jsonpath={.spec.ports[*].name}']);
    expect(jp.stdout).toBe('http https');
    expect((await k.run(['get', 'svc', '-o', 'name'])).stdout.split('\n').filter(Boolean).sort()).toEqual([
      'service/db',
      'service/hellok8s-svc',
      'service/nginx',
      'service/web',
    ]);
  });

  it('-A adds NAMESPACE; -l and --field-selector filter on the server; --show-labels', async () => {
    const all = rows((await k.run(['get', 'svc', '-A'])).stdout);
    expect(all[0]![0]).toBe('NAMESPACE');
    expect(all.find((r) => r[1] === 'elsewhere')?.slice(0, 3)).toEqual(['other', 'elsewhere', 'ClusterIP']);
    const l = rows((await k.run(['get', 'svc', '-A', '-l', 'tier in (x,y)'])).stdout);
    expect(l.slice(1).map((r) => r[1])).toEqual(['elsewhere']);
    const f = rows((await k.run(['get', 'svc', '--field-selector', 'spec.type=NodePort'])).stdout);
    expect(f.slice(1).map((r) => r[0])).toEqual(['hellok8s-svc']);
    const labels = rows((await k.run(['get', 'svc', 'elsewhere', '-n', 'other', '--show-labels'])).stdout);
    expect(labels[0]!.at(-1)).toBe('LABELS');
    expect(labels[1]!.at(-1)).toBe('tier=x');
    const bad = await k.run(['get', 'svc', '--field-selector', 'spec.nope=1']);
    expect(bad.stderr).toContain('field label not supported: spec.nope');
  });

  it('describe service shows its endpoints and its events', async () => {
    const res = await k.run(['describe', 'service', 'web']);
    expect(res.stdout).toMatch(/^Name:\s+web$/m);
    expect(res.stdout).toMatch(/^LoadBalancer Ingress:\s+k8s-default-web-0123456789\.elb\.us-east-1\.amazonaws\.com/m);
    expect(res.stdout).toMatch(/Normal\s+EnsuredLoadBalancer\s+\S+\s+service-controller\s+Ensured load balancer/);
    const hello = await k.run(['describe', 'service', 'hellok8s-svc']);
    expect(hello.stdout).toMatch(/^Endpoints:\s+10\.0\.1\.20:4567$/m);
  });
});

describe('kubectl get other kinds', () => {
  it('endpoints and endpointslices', async () => {
    const ep = rows((await k.run(['get', 'endpoints', 'hellok8s-svc'])).stdout);
    expect(ep[0]).toEqual(['NAME', 'ENDPOINTS', 'AGE']);
    expect(ep[1]!.slice(0, 2)).toEqual(['hellok8s-svc', '10.0.1.20:4567']);
    const es = rows((await k.run(['get', 'endpointslices'])).stdout);
    expect(es[0]).toEqual(['NAME', 'ADDRESSTYPE', 'PORTS', 'ENDPOINTS', 'AGE']);
    expect(es[1]!.slice(0, 4)).toEqual(['hellok8s-svc-abc12', 'IPv4', '4567', '10.0.1.20']);
  });

  it('nodes, with the wide columns', async () => {
    const n = rows((await k.run(['get', 'nodes', '-o', 'wide'])).stdout);
    expect(n[0]).toEqual([
      'NAME',
      'STATUS',
      'ROLES',
      'AGE',
      'VERSION',
      'INTERNAL-IP',
      'EXTERNAL-IP',
      'OS-IMAGE',
      'KERNEL-VERSION',
      'CONTAINER-RUNTIME',
    ]);
    expect(n[1]!.slice(0, 3)).toEqual(['ip-10-0-1-10.ec2.internal', 'Ready', 'worker']);
    expect(n[1]!.slice(4)).toEqual([
      'v1.32.0',
      '10.0.1.10',
      '3.80.1.2',
      'Amazon Linux 2023',
      '6.1.0',
      'containerd://1.7.0',
    ]);
  });

  it('pods -o wide', async () => {
    const p = rows((await k.run(['get', 'pods', '-o', 'wide'])).stdout);
    expect(p[0]).toEqual([
      'NAME',
      'READY',
      'STATUS',
      'RESTARTS',
      'AGE',
      'IP',
      'NODE',
      'NOMINATED NODE',
      'READINESS GATES',
    ]);
    expect(p[1]!.slice(0, 4)).toEqual(['hellok8s-1', '1/1', 'Running', '0']);
    expect(p[1]!.slice(5)).toEqual(['10.0.1.20', 'ip-10-0-1-10.ec2.internal', '<none>', '<none>']);
    expect(p[2]!.slice(0, 3)).toEqual(['hellok8s-2', '0/1', 'Running']);
  });

  it('events', async () => {
    const e = rows((await k.run(['get', 'events'])).stdout);
    expect(e[0]).toEqual(['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']);
    expect(e[1]!.slice(1)).toEqual(['Normal', 'EnsuredLoadBalancer', 'service/web', 'Ensured load balancer']);
  });

  it('explain reads the OpenAPI v3 schemas, upstream documentation included', async () => {
    const res = await k.run(['explain', 'service.spec.ports.port']);
    expect(res.stdout).toMatch(/^FIELD: port <integer>$/m);
    expect(res.stdout).toContain('The port that will be exposed by this service.');
  });

  it('namespaces', async () => {
    const ns = rows((await k.run(['get', 'ns'])).stdout);
    expect(ns[0]).toEqual(['NAME', 'STATUS', 'AGE']);
    expect(ns.slice(1).map((r) => r[0])).toEqual(['default', 'kube-node-lease', 'kube-public', 'kube-system', 'other']);
    expect(ns.slice(1).every((r) => r[1] === 'Active')).toBe(true);
  });
});
