/**
 * The watcher stopped mid-watch, 200 times, at random points (issue acceptance): its deadline passing, its lease
 * taken by another watcher, its connections dropped, its resume version compacted away (410), or a crash at a
 * random call after which nothing it does succeeds and its lease is never released. Meanwhile the cluster's users
 * create, change, re-create and delete Services. A clean run at the end must leave AWS exactly as the cluster says:
 * one NLB per Service of our class, none for anything else, nothing leaked, no duplicate; finalizers only where
 * resources exist; status hostnames matching.
 */
import type { V1Service } from '@kubernetes/client-node';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiObject } from '../../lib/api/backend.js';
import { SERVICES } from '../../lib/api/resources.js';
import type { ApiServer } from '../../lib/api/server.js';
import { ClusterBridge } from '../../lib/cluster/bridge.js';
import { LB_CLEANUP_FINALIZER, OWN_LOAD_BALANCER_CLASS } from '../../lib/model/cluster-names.js';
import { WatchCheckpoints, WatcherLease } from '../../lib/cluster/records.js';
import { ClientNodeCluster, type RemoteCluster } from '../../lib/cluster/remote.js';
import { runWatcher } from '../../lib/cluster/watcher.js';
import { observe } from '../../lib/lb/observe.js';
import { drainLog } from '../controller/support.js';
import { makeTestRuntime, RecordingLogger, type TestRuntime } from '../handlers/support.js';
import { makeCluster, type Cluster } from '../lb/fixture.js';
import { startTestApi, type TestApi } from '../support/api-server.js';
import { uniqueName } from '../support/aws.js';
import { kubeConfigFor } from './support.js';
import { startMoto, type MotoServer } from '../../tools/local/moto.js';

const RUNS = Number(process.env.WF_RUNS ?? 200);
const NAMES = ['a', 'b', 'c'];
const FAULTS = ['deadline', 'crash', 'lease-stolen', 'dropped', 'gone'] as const;
type Fault = (typeof FAULTS)[number];

/** One run's plan: maybe a user change first, then the fault and when it strikes. */
interface Step {
  change?: { name: string; kind: 'ours' | 'theirs' | 'plain'; op: 'delete' | 'update'; port: number };
  fault: Fault;
  at: number;
  crashAt: number;
}
const stepArb: fc.Arbitrary<Step> = fc.record({
  change: fc.option(
    fc.record({
      name: fc.constantFrom(...NAMES),
      kind: fc.constantFrom('ours', 'ours', 'theirs', 'plain'),
      op: fc.constantFrom('delete', 'update', 'update'),
      port: fc.integer({ min: 80, max: 83 }),
    }),
    { freq: 3, nil: undefined },
  ),
  fault: fc.constantFrom(...FAULTS),
  at: fc.integer({ min: 0, max: 200 }),
  crashAt: fc.integer({ min: 1, max: 25 }),
});

class Crash extends Error {}

/** Fails every call from the `crashAt`-th on, as a process that died there would do nothing more. */
function gated<T extends object>(inner: T, gate: () => void): T {
  return new Proxy(inner, {
    get(target, prop, recv) {
      const v = Reflect.get(target, prop, recv) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        gate();
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

function svc(ns: string, name: string, kind: 'ours' | 'theirs' | 'plain', port: number): ApiObject {
  const spec: Record<string, unknown> = {
    type: kind === 'plain' ? 'ClusterIP' : 'LoadBalancer',
    selector: { app: name },
    ports: [{ name: 'http', port, targetPort: 8080, protocol: 'TCP' }],
  };
  if (kind === 'ours') spec.loadBalancerClass = OWN_LOAD_BALANCER_CLASS;
  if (kind === 'theirs') spec.loadBalancerClass = 'service.k8s.aws/nlb';
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec } as ApiObject;
}

describe('the watcher stopped at random points converges with no leak and no duplicate', () => {
  let c: Cluster;
  let t: TestRuntime;
  let cluster: TestApi;
  let stopPipe = false;
  let pipe: Promise<void>;
  const ns = uniqueName('wf');
  const log = new RecordingLogger();

  let moto: MotoServer;
  beforeAll(async () => {
    // A moto server of its own: the 200 runs' writes (ledger, lease, log, Events) would otherwise stay in the worker's
    // server and slow every later file that shares it (moto's transactional writes copy the table they touch).
    moto = await startMoto();
    process.env.MOTO_ENDPOINT = moto.endpoint;
    c = await makeCluster();
    await c.addNode({}, 0);
    t = await makeTestRuntime({
      clusterName: c.clusterName,
      env: { VPC_ID: c.vpcId, SUBNET_IDS: c.subnetIds.join(','), NODE_SECURITY_GROUP_ID: c.nodeSgId },
    });
    // The cluster's change log polled every 100 ms (not 30): watch latency matters less here than moto's load.
    cluster = await startTestApi({}, undefined, 100);
    expect((await cluster.kubectl().run(['create', 'namespace', ns])).stderr).toBe('');
    let rev = 0;
    pipe = (async () => {
      while (!stopPipe) {
        rev = (await drainLog(t.rt.store, t.rt.controller, rev).catch(() => ({ rev }))).rev;
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
  }, 120_000);

  afterAll(async () => {
    stopPipe = true;
    await pipe;
    await cluster?.close();
    const rss = readFileSync(`/proc/${moto.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)?.[1];
    console.log(`watcher-faults: its moto server holds ${Math.round(Number(rss) / 1024)} MB`);
    delete process.env.MOTO_ENDPOINT;
    await moto?.stop();
  });

  /** One user change of the cluster: create a missing name, else change its port (or type), or delete it. */
  async function mutate(ch: NonNullable<Step['change']>): Promise<void> {
    const cur = (await cluster.backend.get(SERVICES, ns, ch.name).catch(() => undefined)) as V1Service | undefined;
    if (!cur) {
      await cluster.backend.create(SERVICES, ns, svc(ns, ch.name, ch.kind, ch.port), {});
    } else if (ch.op === 'delete' || cur.metadata?.deletionTimestamp) {
      await cluster.backend.delete(SERVICES, ns, ch.name, {}).catch(() => undefined);
    } else {
      // The class cannot change while LoadBalancer (as upstream): an update keeps it, or moves to ClusterIP.
      const kind =
        ch.kind === 'plain'
          ? 'plain'
          : cur.spec?.loadBalancerClass === OWN_LOAD_BALANCER_CLASS
            ? 'ours'
            : cur.spec?.type === 'LoadBalancer'
              ? 'theirs'
              : ch.kind;
      const next = svc(ns, ch.name, kind, ch.port);
      const meta = {
        ...next.metadata,
        resourceVersion: cur.metadata?.resourceVersion,
        finalizers: cur.metadata?.finalizers,
      };
      await cluster.backend
        .update(SERVICES, ns, ch.name, { ...next, metadata: meta } as ApiObject, {})
        .catch(() => undefined);
    }
  }

  /** One watcher run with one fault; returns what the fault was. */
  async function faultyRun(step: Step, i: number): Promise<Fault> {
    const fault = step.fault;
    let calls = 0;
    const crashAt = fault === 'crash' ? step.crashAt : Infinity;
    const gate = () => {
      if (++calls >= crashAt) throw new Crash(`injected crash at call ${crashAt}`);
    };
    const inner = new ClientNodeCluster(async () => kubeConfigFor(cluster));
    const remote: RemoteCluster = fault === 'crash' ? gated(inner, gate) : inner;
    const api: ApiServer = fault === 'crash' ? gated(t.rt.api, gate) : t.rt.api;
    const lease = new WatcherLease(t.rt.store, `run-${i}`, 240);
    if (fault === 'crash') lease.release = async () => undefined; // a dead process releases nothing
    if (fault === 'gone') {
      const rev = Number(await cluster.backend.currentRevision());
      await cluster.compact(rev);
    }
    const bridge = new ClusterBridge({
      api,
      records: t.rt.store,
      remote,
      settings: { defaultLoadBalancerClass: false, dataPlane: false },
      log,
    });
    const stop = new AbortController();
    const at = step.at;
    const timer = setTimeout(() => {
      if (fault === 'dropped') cluster.dropConnections();
      if (fault === 'lease-stolen')
        void t.rt.store.putRecord('cluster-watcher', 'lease', {
          holder: 'thief',
          expiresAt: Date.now() + 100,
          endsAt: 0,
        });
    }, at);
    await runWatcher({
      bridge,
      remote,
      lease,
      checkpoints: new WatchCheckpoints(t.rt.store),
      resources: ['services', 'nodes'],
      deadline: Date.now() + (fault === 'deadline' ? at : 250),
      nodesChanged: async () => undefined,
      log,
      writeBackEveryMs: 100,
      renewEveryMs: 80,
      signal: stop.signal,
    }).catch(() => undefined);
    clearTimeout(timer);
    return fault;
  }

  it(`${RUNS} runs stopped at random points, then a clean run: AWS is exactly what the cluster says`, async () => {
    const [steps] = fc.sample(fc.array(stepArb, { minLength: RUNS, maxLength: RUNS }), { numRuns: 1, seed: 20261202 });
    const faults: Record<string, number> = {};
    for (const [i, step] of steps!.entries()) {
      if (step.change) await mutate(step.change);
      const f = await faultyRun(step, i);
      faults[f] = (faults[f] ?? 0) + 1;
    }
    expect(Object.keys(faults).sort()).toEqual(['crash', 'deadline', 'dropped', 'gone', 'lease-stolen']);
    // Clean runs until the cluster and AWS agree (each run ends at its deadline and hands over the lease).
    let last = '';
    for (let round = 0; round < 30; round++) {
      await faultyRunClean();
      last = await mismatch();
      if (!last) break;
    }
    expect(last).toBe('');
  }, 600_000);

  async function faultyRunClean(): Promise<void> {
    const remote = new ClientNodeCluster(async () => kubeConfigFor(cluster));
    const bridge = new ClusterBridge({
      api: t.rt.api,
      records: t.rt.store,
      remote,
      settings: { defaultLoadBalancerClass: false, dataPlane: false },
      log,
    });
    await runWatcher({
      bridge,
      remote,
      lease: new WatcherLease(t.rt.store, 'clean', 150),
      checkpoints: new WatchCheckpoints(t.rt.store),
      resources: ['services', 'nodes'],
      deadline: Date.now() + 1500,
      nodesChanged: async () => undefined,
      log,
      writeBackEveryMs: 100,
      renewEveryMs: 50,
    });
    await new Promise((r) => setTimeout(r, 500)); // the controller's pass over what the run wrote
  }

  /** What differs between the cluster and AWS ('' when they agree). */
  async function mismatch(): Promise<string> {
    const services = (await cluster.backend.list(SERVICES, ns)).items as V1Service[];
    const world = await observe(c.ctx);
    const problems: string[] = [];
    for (const name of NAMES) {
      const s = services.find((x) => x.metadata?.name === name);
      const want = Boolean(
        s &&
        !s.metadata?.deletionTimestamp &&
        s.spec?.type === 'LoadBalancer' &&
        s.spec.loadBalancerClass === OWN_LOAD_BALANCER_CLASS,
      );
      const stack = world.stacks.get(`${ns}/${name}`);
      const nlbs = stack?.loadBalancers.length ?? 0;
      if (want && nlbs !== 1) problems.push(`${name}: ${nlbs} NLBs, want 1`);
      if (want && stack!.targetGroups.length !== 1)
        problems.push(`${name}: ${stack!.targetGroups.length} target groups`);
      if (!want && stack) problems.push(`${name}: leaked ${JSON.stringify(stack).slice(0, 200)}`);
      const fin = (s?.metadata?.finalizers ?? []).includes(LB_CLEANUP_FINALIZER);
      if (s && fin !== want) {
        const m = await t.rt.api.getService(ns, name).catch(() => undefined);
        const what = (o?: V1Service) =>
          o &&
          JSON.stringify({
            type: o.spec?.type,
            cls: o.spec?.loadBalancerClass,
            del: o.metadata?.deletionTimestamp,
            fin: o.metadata?.finalizers,
            uid: o.metadata?.uid,
            src: o.metadata?.annotations,
          });
        problems.push(`${name}: finalizer ${fin}, want ${want}; cluster ${what(s)}; mirror ${what(m)}`);
      }
      const host = s?.status?.loadBalancer?.ingress?.[0]?.hostname;
      if (want && host !== stack?.loadBalancers[0]?.dnsName) problems.push(`${name}: status ${host}`);
    }
    for (const key of world.stacks.keys())
      if (!NAMES.some((n) => key === `${ns}/${n}`)) problems.push(`foreign stack ${key}`);
    return problems.join('; ');
  }
});
