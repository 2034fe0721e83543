/**
 * Cluster mode with the data plane on: every Service and every Pod of the cluster is mirrored (the data plane's
 * rules and DNS are computed from them), a LoadBalancer Service of another controller's class stays that controller's,
 * and a Pod deleted in the cluster leaves the endpoints. The cluster is this project's API server on its own table,
 * reached through client-node.
 */
import type { V1Endpoints, V1Pod, V1Service } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiObject } from '../../lib/api/backend.js';
import { PODS, SERVICES } from '../../lib/api/resources.js';
import { FOREIGN_LOAD_BALANCER_CLASS } from '../../lib/cluster/mirror.js';
import { ClientNodeCluster } from '../../lib/cluster/remote.js';
import { runClusterMode } from '../../lib/cluster/run.js';
import type { WatcherRun } from '../../lib/cluster/watcher.js';
import { drainLog } from '../controller/support.js';
import { makeTestRuntime, RecordingLogger, type TestRuntime } from '../handlers/support.js';
import { startTestApi, type TestApi } from '../support/api-server.js';
import { uniqueName } from '../support/aws.js';
import { kubeConfigFor } from './support.js';

async function until<T>(what: string, check: () => Promise<T | undefined>, tries = 100): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await check();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const pod = (ns: string, name: string, ip: string): ApiObject =>
  ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels: { app: 'web' } },
    spec: {
      nodeName: 'ip-10-0-1-5.ec2.internal',
      containers: [{ name: 'c', image: 'nginx', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }],
    },
    status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null }] },
  }) as unknown as ApiObject;

describe('cluster mode with the data plane: Services and Pods mirrored', () => {
  let t: TestRuntime;
  let cluster: TestApi;
  let run: Promise<WatcherRun>;
  const stop = new AbortController();
  let stopPipe = false;
  let pipe: Promise<void>;
  const ns = uniqueName('dp');

  beforeAll(async () => {
    t = await makeTestRuntime();
    cluster = await startTestApi();
    expect((await cluster.kubectl().run(['create', 'namespace', ns])).stderr).toBe('');
    let rev = 0;
    pipe = (async () => {
      while (!stopPipe) {
        rev = (await drainLog(t.rt.store, t.rt.controller, rev).catch(() => ({ rev }))).rev;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    run = runClusterMode({
      rt: t.rt,
      remote: new ClientNodeCluster(async () => kubeConfigFor(cluster)),
      settings: { defaultLoadBalancerClass: false, dataPlane: true },
      deadline: Date.now() + 120_000,
      log: new RecordingLogger(),
      writeBackEveryMs: 200,
      signal: stop.signal,
    });
  }, 60_000);

  afterAll(async () => {
    stop.abort();
    await run?.catch(() => undefined);
    stopPipe = true;
    await pipe;
    await cluster?.close();
  });

  it('a ClusterIP Service and its Pods: the controller’s Endpoints list the cluster Pods’ addresses', async () => {
    const svc = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: ns },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] },
    } as ApiObject;
    await cluster.backend.create(SERVICES, ns, svc, {});
    for (const [name, ip] of [
      ['web-1', '10.244.1.10'],
      ['web-2', '10.244.2.11'],
    ] as const) {
      const created = await cluster.backend.create(PODS, ns, pod(ns, name, ip), {});
      // The kubelet reports the status (a separate write, as on a real cluster).
      const withStatus = { ...pod(ns, name, ip), metadata: { ...created.object.metadata } } as ApiObject;
      await cluster.backend.update(PODS, ns, name, withStatus, { subresource: 'status' });
    }
    const addresses = await until('the Endpoints of web', async () => {
      const ep = (await t.rt.api.getEndpoints(ns, 'web').catch(() => undefined)) as V1Endpoints | undefined;
      const ips = (ep?.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => a.ip)).sort();
      return ips.length === 2 ? ips : undefined;
    });
    expect(addresses).toEqual(['10.244.1.10', '10.244.2.11']);
    const mirror = await t.rt.api.getService(ns, 'web');
    expect(mirror.spec?.clusterIP).toMatch(/^10\.(9[6-9]|10\d|11[01])\./); // allocated here, from 10.96.0.0/12
    expect(mirror.metadata?.finalizers ?? []).toEqual([]); // not a load balancer of ours
  }, 60_000);

  it('a Pod deleted in the cluster leaves the Endpoints', async () => {
    await cluster.backend.delete(PODS, ns, 'web-2', {});
    const addresses = await until('web-2 gone from the Endpoints', async () => {
      const ep = (await t.rt.api.getEndpoints(ns, 'web')) as V1Endpoints;
      const ips = (ep.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => a.ip));
      return ips.length === 1 ? ips : undefined;
    });
    expect(addresses).toEqual(['10.244.1.10']);
    expect(((await t.rt.api.listPods(ns)) as V1Pod[]).map((p) => p.metadata?.name)).toEqual(['web-1']);
  }, 60_000);

  it('a LoadBalancer Service of another controller is mirrored for the data plane only', async () => {
    const svc = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'theirs', namespace: ns },
      spec: {
        type: 'LoadBalancer',
        loadBalancerClass: 'service.k8s.aws/nlb',
        selector: { app: 'web' },
        ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }],
      },
    } as ApiObject;
    await cluster.backend.create(SERVICES, ns, svc, {});
    const mirror = await until('the mirror of theirs', async () =>
      t.rt.api.getService(ns, 'theirs').catch(() => undefined),
    );
    expect(mirror.spec?.loadBalancerClass).toBe(FOREIGN_LOAD_BALANCER_CLASS);
    expect(mirror.metadata?.finalizers ?? []).toEqual([]);
    const remote = (await cluster.backend.get(SERVICES, ns, 'theirs')) as V1Service;
    expect(remote.metadata?.finalizers ?? []).toEqual([]);
  }, 60_000);
});
