/**
 * Cluster mode end to end (issue acceptance): a separate "cluster" (this project's own API server on a table of its
 * own, reached only through kubectl and @kubernetes/client-node) is watched by the watcher, which mirrors into the
 * controller's store; the controller (fed by its change log, as the Pipe feeds it) builds the NLB in moto; status,
 * finalizer and Events come back to the cluster. Deleting the Service removes every AWS resource, THEN the finalizer.
 */
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { V1Node } from '@kubernetes/client-node';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiObject } from '../../lib/api/backend.js';
import { NODES } from '../../lib/api/resources.js';
import { LB_CLEANUP_FINALIZER, OWN_LOAD_BALANCER_CLASS } from '../../lib/model/cluster-names.js';
import { ClientNodeCluster } from '../../lib/cluster/remote.js';
import { runClusterMode } from '../../lib/cluster/run.js';
import type { WatcherRun } from '../../lib/cluster/watcher.js';
import { observe } from '../../lib/lb/observe.js';
import { startTestApi, type TestApi } from '../support/api-server.js';
import { uniqueName } from '../support/aws.js';
import { makeCluster, type Cluster } from '../lb/fixture.js';
import { makeTestRuntime, RecordingLogger, type TestRuntime } from '../handlers/support.js';
import { drainLog } from '../controller/support.js';
import type { ClientMiddleware } from '../../lib/aws/clients.js';
import { clusterNode, kubeConfigFor } from './support.js';

/** Polls `check` every `everyMs` until it gives a value, up to `tries` times (kubectl is a process per call). */
async function until<T>(what: string, check: () => Promise<T | undefined>, tries = 120, everyMs = 500): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await check();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Every ELBv2 and EC2 call the controller side makes, by command name (the "no AWS call" checks). */
const awsCalls: string[] = [];
const counting: ClientMiddleware = {
  name: 'count-aws-calls',
  middleware:
    (next: (a: unknown) => Promise<unknown>, context: { commandName?: string; clientName?: string }) =>
    async (args: unknown) => {
      if (context.clientName !== 'DynamoDBClient') awsCalls.push(`${context.clientName}:${context.commandName}`);
      return next(args);
    },
};

const service = (ns: string, name: string, spec: string) => `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: ${ns}
spec:
${spec}
  selector:
    app: ${name}
  ports:
  - name: http
    port: 80
    targetPort: 8080
`;

describe('cluster mode: an existing cluster’s LoadBalancer Service, served from outside it', () => {
  let c: Cluster;
  let t: TestRuntime;
  let cluster: TestApi;
  let run: Promise<WatcherRun>;
  let stopPipe = false;
  const stopRun = new AbortController();
  let pipe: Promise<void>;
  const ns = uniqueName('cm');
  const dir = mkdtempSync(join(tmpdir(), 'cm-'));
  const instances: string[] = [];
  const log = new RecordingLogger();
  const kubectl = (...args: string[]) => cluster.kubectl().run(args);
  const apply = async (name: string, spec: string) => {
    writeFileSync(join(dir, `${name}.yaml`), service(ns, name, spec));
    const r = await kubectl('apply', '-f', join(dir, `${name}.yaml`));
    expect(r.stderr).toBe('');
  };
  const stack = async (name: string) => (await observe(c.ctx, { stack: `${ns}/${name}` })).stacks.get(`${ns}/${name}`);
  const targets = async (name: string) => {
    const tg = (await stack(name))?.targetGroups[0];
    if (!tg) return [];
    const h = await c.clients.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg.arn }));
    return (h.TargetHealthDescriptions ?? []).map((d) => d.Target!.Id!).sort();
  };

  beforeAll(async () => {
    c = await makeCluster();
    instances.push(await c.addNode({}, 0), await c.addNode({}, 1));
    t = await makeTestRuntime({
      clusterName: c.clusterName,
      middleware: [counting],
      env: { VPC_ID: c.vpcId, SUBNET_IDS: c.subnetIds.join(','), NODE_SECURITY_GROUP_ID: c.nodeSgId },
    });
    cluster = await startTestApi();
    await kubectl('create', 'namespace', ns);
    for (const [i, id] of instances.entries())
      await cluster.backend.system.create(NODES, undefined, clusterNode(`node-${i}`, id) as ApiObject);
    // The Pipe's stand-in: the controller consumes its store's change log continuously.
    let rev = 0;
    pipe = (async () => {
      while (!stopPipe) {
        rev = (await drainLog(t.rt.store, t.rt.controller, rev).catch(() => ({ rev }))).rev;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const remote = new ClientNodeCluster(async () => kubeConfigFor(cluster));
    run = runClusterMode({
      rt: t.rt,
      remote,
      settings: { defaultLoadBalancerClass: false, dataPlane: false },
      deadline: Date.now() + 170_000,
      log,
      writeBackEveryMs: 200,
      renewEveryMs: 1000,
      signal: stopRun.signal,
    });
  }, 120_000);

  afterAll(async () => {
    stopRun.abort();
    await run?.catch(() => undefined);
    stopPipe = true;
    await pipe;
    await cluster?.close();
  });

  it('a LoadBalancer Service of our class gets a tagged NLB; kubectl shows its hostname, finalizer and Events', async () => {
    await apply('web', `  type: LoadBalancer\n  loadBalancerClass: ${OWN_LOAD_BALANCER_CLASS}`);
    const host = await until('the NLB hostname in the cluster', async () => {
      const r = await kubectl(
        'get',
        'svc',
        'web',
        '-n',
        ns,
        '-o',
        'jsonpath={.status.loadBalancer.ingress[0].hostname}',
      );
      return r.stdout || undefined;
    });
    const s = await stack('web');
    expect(s?.loadBalancers).toHaveLength(1);
    expect(s!.loadBalancers[0]!.dnsName).toBe(host);
    const get = await kubectl('get', 'svc', 'web', '-n', ns);
    expect(get.stdout).toContain(host);
    const fin = await kubectl('get', 'svc', 'web', '-n', ns, '-o', 'jsonpath={.metadata.finalizers}');
    expect(JSON.parse(fin.stdout)).toEqual([LB_CLEANUP_FINALIZER]);
    await until('the Events in kubectl describe', async () => {
      const d = await kubectl('describe', 'svc', 'web', '-n', ns);
      return /EnsuredLoadBalancer/.test(d.stdout) ? d.stdout : undefined;
    });
    const d = await kubectl('describe', 'svc', 'web', '-n', ns);
    expect(d.stdout).toMatch(
      /Normal\s+EnsuringLoadBalancer\s+.*serverless-service-controller\s+Ensuring load balancer/,
    );
    expect(d.stdout).toMatch(/Normal\s+EnsuredLoadBalancer\s+.*Ensured load balancer/);
    expect(await targets('web')).toEqual([...instances].sort());
    // The call counter the next test relies on sees the controller's calls.
    expect(awsCalls).toContain('ElasticLoadBalancingV2Client:CreateLoadBalancerCommand');
  }, 150_000);

  it('a Service of another class and a ClusterIP Service cause no AWS call', async () => {
    await new Promise((r) => setTimeout(r, 1000)); // the earlier Service's passes are done
    awsCalls.length = 0;
    await apply('theirs', '  type: LoadBalancer\n  loadBalancerClass: service.k8s.aws/nlb');
    await apply('plain', '  type: ClusterIP');
    await new Promise((r) => setTimeout(r, 3000)); // several write-back passes and controller rounds
    expect(awsCalls).toEqual([]);
    for (const name of ['theirs', 'plain']) {
      expect((await t.rt.api.listServices(ns)).map((m) => m.metadata?.name)).not.toContain(name);
      const r = await kubectl('get', 'svc', name, '-n', ns, '-o', 'jsonpath={.metadata.finalizers}');
      expect(r.stdout).toBe('');
    }
  }, 60_000);

  it('a Node with the exclusion label is deregistered; removing the label registers it again', async () => {
    const excluded = clusterNode('node-1', instances[1]!, {
      'node.kubernetes.io/exclude-from-external-load-balancers': '',
    });
    const cur = (await cluster.backend.get(NODES, undefined, 'node-1')) as V1Node;
    await cluster.backend.system.update(NODES, undefined, 'node-1', {
      ...excluded,
      metadata: { ...excluded.metadata, resourceVersion: cur.metadata?.resourceVersion },
    } as ApiObject);
    await until('node-1 deregistered', async () => ((await targets('web')).length === 1 ? true : undefined));
    expect(await targets('web')).toEqual([instances[0]]);
    const now = (await cluster.backend.get(NODES, undefined, 'node-1')) as V1Node;
    const back = clusterNode('node-1', instances[1]!);
    await cluster.backend.system.update(NODES, undefined, 'node-1', {
      ...back,
      metadata: { ...back.metadata, resourceVersion: now.metadata?.resourceVersion },
    } as ApiObject);
    await until('node-1 registered again', async () => ((await targets('web')).length === 2 ? true : undefined));
    expect(await targets('web')).toEqual([...instances].sort());
  }, 150_000);

  it('deleting the Service removes every AWS resource, and only then the finalizer', async () => {
    const r = await kubectl('delete', 'svc', 'web', '-n', ns, '--wait=false');
    expect(r.stderr).toBe('');
    // Sampled until the Service is gone: whenever an AWS resource of it exists, the cluster still holds the Service.
    for (let i = 0; i < 240; i++) {
      const s = await stack('web');
      const resources = s
        ? s.loadBalancers.length + s.targetGroups.length + s.securityGroups.length + s.nodePermissions.length
        : 0;
      const got = await kubectl('get', 'svc', 'web', '-n', ns, '--ignore-not-found', '-o', 'name');
      if (resources > 0) expect(got.stdout.trim()).toBe('service/web');
      if (!got.stdout.trim()) break;
      await new Promise((res) => setTimeout(res, 250));
    }
    expect((await kubectl('get', 'svc', 'web', '-n', ns, '--ignore-not-found', '-o', 'name')).stdout).toBe('');
    expect(await stack('web')).toBeUndefined();
    expect((await t.rt.api.listServices(ns)).map((m) => m.metadata?.name)).not.toContain('web');
  }, 150_000);

  it('one watcher at a time: the lease is held while the run lasts and given back when it stops', async () => {
    const { WatcherLease } = await import('../../lib/cluster/records.js');
    const other = new WatcherLease(t.rt.store, 'someone-else', 30_000);
    expect((await other.acquire(Date.now() + 1000)).acquired).toBe(false);
    stopRun.abort();
    const done = await run;
    expect(done).toMatchObject({ ran: true, ended: 'aborted' });
    expect(done.events).toBeGreaterThan(0);
    expect((await other.acquire(Date.now() + 1000)).acquired).toBe(true);
    expect(log.lines.filter((l) => l.level === 'error')).toEqual([]);
  });
});
