/**
 * The acceptance through the real clients: kubectl applies a GatewayClass, a Gateway with 3 listeners and 3
 * routes (TCPRoute with two weighted backends, TCPRoute to a ClusterIP Service, UDPRoute) to Services, against the
 * API on the real backend (moto's DynamoDB) with the controller fed by the change log; moto then holds exactly ONE
 * NLB with 3 listeners and the right target groups (the weighted one forwarding 3:1), status says Programmed with
 * the NLB's name; deleting a route removes only its listener and target group; deleting the Gateway leaves nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeListenersCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import { StoreBackend } from '../../lib/api/store-backend.js';
import { RoleAuthorizer, roleTable } from '../../lib/apiserver/auth/roles.js';
import { randomToken, StaticTokenAuthenticator } from '../../lib/apiserver/auth/static-token.js';
import { createApiHandler } from '../../lib/apiserver/handler.js';
import { loopbackCertificate } from '../../lib/apiserver/http/loopback-tls.js';
import { startNodeServer, type RunningServer } from '../../lib/apiserver/http/node.js';
import { logger } from '../../lib/handlers/observability.js';
import { observe } from '../../lib/lb/observe.js';
import type { ObservedStack } from '../../lib/lb/model.js';
import { DynamoStore } from '../../lib/store/store.js';
import { makeCluster, type Cluster } from '../lb/fixture.js';
import { makeTestRuntime, type TestRuntime } from '../handlers/support.js';
import { kubectlFor, type Kubectl } from '../support/kubectl.js';
import { uniqueName } from '../support/aws.js';
import { pipeLoop } from '../controller/support.js';

logger.setLogLevel('CRITICAL');

const manifest = (ns: string, cls: string) => `apiVersion: v1
kind: Namespace
metadata: {name: ${ns}}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ${ns}}
spec: {type: NodePort, selector: {app: web}, ports: [{port: 8080, nodePort: 30180}]}
---
apiVersion: v1
kind: Service
metadata: {name: web-canary, namespace: ${ns}}
spec: {type: NodePort, selector: {app: web-canary}, ports: [{port: 8080, nodePort: 30181}]}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: ${ns}}
spec: {selector: {app: api}, ports: [{port: 9000}]}
---
apiVersion: v1
kind: Service
metadata: {name: dns, namespace: ${ns}}
spec: {type: NodePort, selector: {app: dns}, ports: [{port: 53, protocol: UDP, nodePort: 30153}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: ${cls}}
spec: {controllerName: serverless-service-controller.io/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: shared, namespace: ${ns}}
spec:
  gatewayClassName: ${cls}
  listeners:
  - {name: web, protocol: TCP, port: 80}
  - {name: api, protocol: TCP, port: 9000}
  - {name: dns, protocol: UDP, port: 53}
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {name: web, namespace: ${ns}}
spec:
  parentRefs: [{name: shared, sectionName: web}]
  rules: [{backendRefs: [{name: web, port: 8080, weight: 3}, {name: web-canary, port: 8080, weight: 1}]}]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {name: api, namespace: ${ns}}
spec:
  parentRefs: [{name: shared, sectionName: api}]
  rules: [{backendRefs: [{name: api, port: 9000}]}]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: UDPRoute
metadata: {name: dns, namespace: ${ns}}
spec:
  parentRefs: [{name: shared, sectionName: dns}]
  rules: [{backendRefs: [{name: dns, port: 53}]}]
`;

describe('a Gateway with 3 listeners and 3 routes, through kubectl, on moto', () => {
  let c: Cluster;
  let t: TestRuntime;
  let backend: StoreBackend;
  let server: RunningServer;
  let k: Kubectl;
  let loop: ReturnType<typeof pipeLoop>;
  let nodes: string[];
  const ns = uniqueName('gw');
  const stack = `gateway/${ns}/shared`;
  const stackNow = async (): Promise<ObservedStack | undefined> => (await observe(c.ctx, { stack })).stacks.get(stack);

  /** Bounded wait for `pred` while the controller loop runs. */
  async function until<T>(what: string, get: () => Promise<T>, pred: (v: T) => boolean): Promise<T> {
    let v = await get();
    for (let i = 0; i < 100 && !pred(v); i++) {
      await loop.settle();
      await new Promise((r) => setTimeout(r, 100));
      v = await get();
    }
    if (!pred(v)) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    return v;
  }

  beforeAll(async () => {
    c = await makeCluster();
    nodes = [await c.addNode({}, 0), await c.addNode({}, 1)].sort();
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
    const dir = mkdtempSync(join(tmpdir(), 'gw-'));
    writeFileSync(join(dir, 'gw.yaml'), manifest(ns, `${ns}-nlb`));
    const applied = await k.run(['apply', '-f', join(dir, 'gw.yaml')]);
    expect(applied.stderr).toBe('');
    await until(
      'the Gateway to be Programmed',
      () =>
        k.run([
          'get',
          'gateway',
          'shared',
          '-n',
          ns,
          '-o',
          'jsonpath={.status.conditions[?(@.type=="Programmed")].status}',
        ]),
      (r) => r.stdout === 'True',
    );
  }, 180_000);

  afterAll(async () => {
    await loop?.stop();
    backend?.close();
    await server?.close();
  });

  it('moto holds exactly one NLB with 3 listeners and one target group per backend, targets = the nodes', async () => {
    const s = (await stackNow())!;
    expect(s.loadBalancers).toHaveLength(1);
    const lb = s.loadBalancers[0]!;
    expect(lb.listeners.map((l) => `${l.protocol}:${l.port}`).sort()).toEqual(['TCP:80', 'TCP:9000', 'UDP:53']);
    const hidden = s.targetGroups.find((g) => ![30180, 30181, 30153].includes(g.port));
    expect(s.targetGroups.map((g) => `${g.protocol}:${g.port}`).sort()).toEqual(
      ['TCP:30180', 'TCP:30181', `TCP:${hidden?.port}`, 'UDP:30153'].sort(),
    );
    // The ClusterIP Service's port got a node port of the data plane's own, in the NodePort range, not in its spec.
    expect(hidden!.port).toBeGreaterThanOrEqual(30000);
    const api = await k.run(['get', 'svc', 'api', '-n', ns, '-o', 'jsonpath={.spec.type} {.spec.ports[0].nodePort}']);
    expect(api.stdout.trim()).toBe('ClusterIP');
    for (const g of s.targetGroups) expect(g.targets).toEqual(nodes);
  });

  it('the web listener forwards 3:1 to the web and web-canary target groups (ForwardConfig weights)', async () => {
    const s = (await stackNow())!;
    const r = await t.clients.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: s.loadBalancers[0]!.arn }));
    const web = r.Listeners!.find((l) => l.Port === 80)!;
    const byArn = new Map(s.targetGroups.map((g) => [g.arn, g.port]));
    const weights = web.DefaultActions![0]!.ForwardConfig!.TargetGroups!.map((g) => [
      byArn.get(g.TargetGroupArn!),
      g.Weight,
    ]);
    expect(weights.sort()).toEqual([
      [30180, 3],
      [30181, 1],
    ]);
  });

  it('status: the Gateway has the NLB name as its address, 1 route per listener; every route Accepted and resolved', async () => {
    const s = (await stackNow())!;
    const get = await k.run(['get', 'gateway', '-n', ns]);
    expect(get.stderr).toBe('');
    const [head, row] = get.stdout.trim().split('\n');
    expect(head).toMatch(/^NAME\s+CLASS\s+ADDRESS\s+PROGRAMMED\s+AGE$/);
    expect(row).toMatch(
      new RegExp(`^shared\\s+${ns}-nlb\\s+${s.loadBalancers[0]!.dnsName.replace(/\./g, '\\.')}\\s+True\\s+\\S+$`),
    );
    const attached = await k.run([
      'get',
      'gateway',
      'shared',
      '-n',
      ns,
      '-o',
      'jsonpath={range .status.listeners[*]}{.name}={.attachedRoutes} {end}',
    ]);
    expect(attached.stdout.trim()).toBe('web=1 api=1 dns=1');
    for (const [kind, name] of [
      ['tcproute', 'web'],
      ['tcproute', 'api'],
      ['udproute', 'dns'],
    ]) {
      const r = await k.run([
        'get',
        kind!,
        name!,
        '-n',
        ns,
        '-o',
        'jsonpath={range .status.parents[0].conditions[*]}{.type}={.status} {end}',
      ]);
      expect(r.stdout.trim()).toBe('Accepted=True ResolvedRefs=True');
    }
    const cls = await k.run([
      'get',
      'gatewayclass',
      `${ns}-nlb`,
      '-o',
      'jsonpath={.status.conditions[0].type}={.status.conditions[0].status}',
    ]);
    expect(cls.stdout).toBe('Accepted=True');
  });

  it('a resync changes nothing (the stack is converged)', async () => {
    const before = (await stackNow())!;
    await t.rt.controller.resync();
    const after = (await stackNow())!;
    expect(after.loadBalancers.map((l) => l.arn)).toEqual(before.loadBalancers.map((l) => l.arn));
    expect(after.targetGroups.map((g) => g.arn).sort()).toEqual(before.targetGroups.map((g) => g.arn).sort());
    expect(after.loadBalancers[0]!.listeners.map((l) => l.arn).sort()).toEqual(
      before.loadBalancers[0]!.listeners.map((l) => l.arn).sort(),
    );
  });

  it('deleting a route removes only its listener and its target group', async () => {
    const before = (await stackNow())!;
    const del = await k.run(['delete', 'tcproute', 'api', '-n', ns]);
    expect(del.stderr).toBe('');
    const after = await until('the api listener to go', stackNow, (s) => s?.loadBalancers[0]?.listeners.length === 2);
    expect(after!.loadBalancers[0]!.arn).toBe(before.loadBalancers[0]!.arn);
    expect(after!.loadBalancers[0]!.listeners.map((l) => `${l.protocol}:${l.port}`).sort()).toEqual([
      'TCP:80',
      'UDP:53',
    ]);
    const gone = before.targetGroups
      .filter((g) => !after!.targetGroups.some((x) => x.arn === g.arn))
      .map((g) => g.port);
    expect(gone).toHaveLength(1);
    expect([30180, 30181, 30153]).not.toContain(gone[0]);
    const attached = await until(
      'the api listener status',
      () =>
        k.run([
          'get',
          'gateway',
          'shared',
          '-n',
          ns,
          '-o',
          'jsonpath={range .status.listeners[*]}{.name}={.attachedRoutes} {end}',
        ]),
      (r) => r.stdout.trim() === 'web=1 api=0 dns=1',
    );
    expect(attached.stdout.trim()).toBe('web=1 api=0 dns=1');
  });

  it('deleting the Gateway leaves no NLB, target group, security group or node rule', async () => {
    const del = await k.run(['delete', 'gateway', 'shared', '-n', ns]);
    expect(del.stderr).toBe('');
    await until('the stack to go', stackNow, (s) => s === undefined);
    // No route still says it is Accepted by a Gateway that is gone.
    const parents = await until(
      'the routes to drop the parent',
      () =>
        k.run(['get', 'tcproute,udproute', '-n', ns, '-o', 'jsonpath={.items[*].status.parents[*].parentRef.name}']),
      (r) => r.stdout.trim() === '',
    );
    expect(parents.stderr).toBe('');
    const node = await c.clients.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [c.nodeSgId] }));
    const rules = (node.SecurityGroups![0]!.IpPermissions ?? []).flatMap((p) => p.UserIdGroupPairs ?? []);
    expect(rules.filter((p) => p.Description?.endsWith(` ${stack}`))).toEqual([]);
  });
});
