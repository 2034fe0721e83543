/**
 * What kubectl users see, with the real kubectl (the one on PATH) against the API server on the real backend
 * (StoreBackend on moto's DynamoDB) while the controller runs on the same table, fed by the change log as the Pipe
 * feeds it (a background loop, test/controller/support.ts): `get endpoints`, `get endpointslices`,
 * `get nodes -o wide`, `describe service` with its Events, and `delete namespace` completing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { StoreBackend } from '../../lib/api/store-backend.js';
import { RoleAuthorizer, roleTable } from '../../lib/apiserver/auth/roles.js';
import { randomToken, StaticTokenAuthenticator } from '../../lib/apiserver/auth/static-token.js';
import { createApiHandler } from '../../lib/apiserver/handler.js';
import { loopbackCertificate } from '../../lib/apiserver/http/loopback-tls.js';
import { startNodeServer, type RunningServer } from '../../lib/apiserver/http/node.js';
import { logger } from '../../lib/handlers/observability.js';
import { observe } from '../../lib/lb/observe.js';
import { DynamoStore } from '../../lib/store/store.js';
import { makeCluster, type Cluster } from '../lb/fixture.js';
import { makeTestRuntime, type TestRuntime } from '../handlers/support.js';
import { kubectlFor, type Kubectl } from '../support/kubectl.js';
import { uniqueName } from '../support/aws.js';
import { pipeLoop } from './support.js';

logger.setLogLevel('CRITICAL');

const pod = (ns: string, name: string, ip: string, node: string): V1Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: ns, labels: { app: 'web' } },
  spec: { nodeName: node, containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080 }] }] },
  status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] },
});

const manifest = (ns: string) => `apiVersion: v1
kind: Namespace
metadata:
  name: ${ns}
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: ${ns}
spec:
  type: LoadBalancer
  selector:
    app: web
  ports:
  - name: http
    port: 80
    targetPort: http
`;

describe('kubectl against the API on the real backend, with the controller running', () => {
  let c: Cluster;
  let t: TestRuntime;
  let backend: StoreBackend;
  let server: RunningServer;
  let k: Kubectl;
  let loop: ReturnType<typeof pipeLoop>;
  const ns = uniqueName('kc');
  const nodeNames: string[] = [];

  beforeAll(async () => {
    c = await makeCluster();
    await c.addNode({}, 0);
    await c.addNode({}, 1);
    t = await makeTestRuntime({
      clusterName: c.clusterName,
      env: { VPC_ID: c.vpcId, SUBNET_IDS: c.subnetIds.join(','), NODE_SECURITY_GROUP_ID: c.nodeSgId },
    });
    backend = new StoreBackend({ store: new DynamoStore(t.clients.dynamodb, t.tableName), cfg: t.rt.env.cluster });
    const token = randomToken();
    const handler = createApiHandler({
      backend,
      authenticator: new StaticTokenAuthenticator(new Map([[token, { username: 'test-admin', groups: [] }]])),
      authorizer: new RoleAuthorizer(roleTable(new Map([['test-admin', 'admin']]))),
    });
    const tls = await loopbackCertificate();
    server = await startNodeServer(handler, { tls });
    k = kubectlFor(server.url, token, tls.cert);
    loop = pipeLoop(t.rt.store, t.rt.controller);
    await t.rt.controller.resync(); // the Nodes
    for (const n of await t.rt.store.list('Node', '')) nodeNames.push(n.metadata!.name!);
    const dir = mkdtempSync(join(tmpdir(), 'kc-'));
    writeFileSync(join(dir, 'web.yaml'), manifest(ns));
    const applied = await k.run(['apply', '-f', join(dir, 'web.yaml')]);
    expect(applied.stderr).toBe('');
    // The Pods' producer reports them (there is no kubelet): it writes them with their status.
    await t.rt.api.applyPod(pod(ns, 'web-1', '10.244.1.10', nodeNames[0]!));
    await t.rt.api.applyPod(pod(ns, 'web-2', '10.244.2.11', nodeNames[1]!));
    await loop.settle();
  }, 120_000);

  afterAll(async () => {
    await loop?.stop();
    backend?.close();
    await server?.close();
  });

  it('kubectl get endpoints: the Service’s ready addresses and ports', async () => {
    const r = await k.run(['get', 'endpoints', '-n', ns]);
    expect(r.stderr).toBe('');
    const [head, row] = r.stdout.trim().split('\n');
    expect(head).toMatch(/^NAME\s+ENDPOINTS\s+AGE$/);
    expect(row).toMatch(/^web\s+10\.244\.1\.10:8080,10\.244\.2\.11:8080\s+\S+$/);
  });

  it('kubectl get endpointslices: one IPv4 slice named after the Service', async () => {
    const r = await k.run(['get', 'endpointslices', '-n', ns]);
    expect(r.stderr).toBe('');
    const [head, row, ...rest] = r.stdout.trim().split('\n');
    expect(head).toMatch(/^NAME\s+ADDRESSTYPE\s+PORTS\s+ENDPOINTS\s+AGE$/);
    expect(row).toMatch(/^web-[a-z0-9]{5}\s+IPv4\s+8080\s+10\.244\.1\.10,10\.244\.2\.11\s+\S+$/);
    expect(rest).toEqual([]);
    const zones = await k.run(['get', 'endpointslices', '-n', ns, '-o', 'jsonpath={.items[0].endpoints[*].zone}']);
    expect(zones.stdout.split(' ').sort()).toEqual(['us-east-1a', 'us-east-1b']);
  });

  it('kubectl get nodes -o wide: every instance, Ready, its internal IP, <unknown> for what only a kubelet knows', async () => {
    const r = await k.run(['get', 'nodes', '-o', 'wide']);
    expect(r.stderr).toBe('');
    const rows = r.stdout.trim().split('\n');
    expect(rows[0]).toMatch(
      /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\s+INTERNAL-IP\s+EXTERNAL-IP\s+OS-IMAGE\s+KERNEL-VERSION\s+CONTAINER-RUNTIME$/,
    );
    expect(
      rows
        .slice(1)
        .map((l) => l.split(/\s+/)[0])
        .sort(),
    ).toEqual([...nodeNames].sort());
    for (const row of rows.slice(1)) {
      expect(row).toMatch(/^ip-10-20-\d+-\d+\.ec2\.internal\s+Ready\s+<none>\s+\S+\s+10\.20\.\d+\.\d+\s+/);
      expect(row).toMatch(/<unknown>\s+<unknown>\s+<unknown>$/);
    }
  });

  it('kubectl describe node: its conditions, addresses and the node controller’s Events', async () => {
    const r = await k.run(['describe', 'node', nodeNames[0]!]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^ProviderID:\s+aws:\/\/\/us-east-1a\/i-[0-9a-f]+$/m);
    expect(r.stdout).toMatch(/^\s+Ready\s+True\s+.*InstanceRunning\s+EC2 instance i-[0-9a-f]+ is running$/m);
    expect(r.stdout).toMatch(/^\s+InternalIP:\s+10\.20\.0\.\d+$/m);
    expect(r.stdout).toMatch(
      /Normal\s+RegisteredNode\s+\S+\s+node-controller\s+Node \S+ event: Registered Node \S+ in Controller/,
    );
  });

  it('kubectl describe service web: its endpoints and the service controller’s Events', async () => {
    const r = await k.run(['describe', 'service', 'web', '-n', ns]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^Endpoints:\s+10\.244\.1\.10:8080,10\.244\.2\.11:8080$/m);
    expect(r.stdout).toMatch(/^LoadBalancer Ingress:\s+\S+\.elb\.amazonaws\.com/m);
    expect(r.stdout).toMatch(/^Events:\n\s+Type\s+Reason\s+Age\s+From\s+Message/m);
    expect(r.stdout).toMatch(/Normal\s+EnsuringLoadBalancer\s+\S+\s+service-controller\s+Ensuring load balancer/);
    expect(r.stdout).toMatch(/Normal\s+EnsuredLoadBalancer\s+\S+\s+service-controller\s+Ensured load balancer/);
  });

  it('kubectl delete namespace completes: emptied, its load balancer released, then gone', async () => {
    const r = await k.run(['delete', 'namespace', ns, '--timeout=60s']);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(`namespace "${ns}" deleted`);
    const after = await k.run(['get', 'namespace', ns]);
    expect(after.stderr.trim()).toBe(`Error from server (NotFound): namespaces "${ns}" not found`);
    await loop.settle();
    for (const kind of ['Service', 'Pod', 'Endpoints', 'EndpointSlice.discovery.k8s.io'] as const)
      expect(await t.rt.store.list(kind, ns)).toEqual([]);
    expect((await observe(c.ctx, { stack: `${ns}/web` })).stacks.get(`${ns}/web`)).toBeUndefined();
  });
});
