/**
 * What the EndpointSlice / Endpoints / Node controllers cost (lib/controller/endpoints-controller.ts and friends):
 * - the pure slice planner for a Service with 10,000 endpoints: from nothing, and after one Pod changed;
 * - against a private moto server, DynamoDB requests and time per message (counted by a client middleware, so the
 *   counts do not depend on the machine's load): a Pod readiness change in a namespace of `services` Services with
 *   `pods` Pods each, and the echo of the controller's own writes; a resync over an unchanged cluster (requests,
 *   time, and that the global revision did not move).
 *
 *   npx tsx bench/controllers.ts [services=20] [podsPerService=10]   (prints Markdown for docs/benchmarks.md)
 */
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { makeClients } from '../lib/aws/clients.js';
import { serializeRequests } from '../lib/aws/serialize.js';
import { readControllerEnv } from '../lib/config-env.js';
import type { DataPlanePusher } from '../lib/controller/controller.js';
import { handleObjectBatch } from '../lib/handlers/object-events.js';
import { localAwsEnv, startMoto } from '../tools/local/moto.js';
import { computeEndpoints } from '../lib/model/endpoints.js';
import { planEndpointSlices } from '../lib/model/endpoint-slices.js';
import { buildRuntime, type Runtime } from '../lib/runtime/runtime.js';
import { ensureTable } from '../lib/store/table.js';
import { drainLog } from '../test/controller/support.js';

const SERVICES = Number(process.argv[2] ?? 20);
const PODS = Number(process.argv[3] ?? 10);

const service = (i: number): V1Service => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: `svc-${i}`, namespace: 'bench', uid: `uid-${i}` },
  spec: { selector: { app: `app-${i}` }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
});

const pod = (s: number, p: number, ready = true): V1Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: `pod-${s}-${p}`, namespace: 'bench', labels: { app: `app-${s}` } },
  spec: { nodeName: 'ip-10-0-1-5.ec2.internal', containers: [{ name: 'c' }] },
  status: {
    phase: 'Running',
    podIP: `10.244.${s % 250}.${p + 1}`,
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
  },
});

function ms(fn: () => unknown, rounds = 20): number {
  const xs: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    fn();
    xs.push(performance.now() - t);
  }
  return xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}

function pureRows(): string[] {
  const svc = service(0);
  const pods = Array.from({ length: 10_000 }, (_, i) => ({
    ...pod(0, 0),
    metadata: { name: `p${i}`, namespace: 'bench', labels: { app: 'app-0' } },
    status: { phase: 'Running', podIP: `10.${1 + Math.floor(i / 250)}.0.${(i % 250) + 1}`, conditions: [] },
  })) as V1Pod[];
  const zones = new Map<string, string>();
  const endpoints = computeEndpoints(svc, pods).endpoints;
  const first = planEndpointSlices({ service: svc, endpoints, zones, existing: [] });
  const stored = first.create.map((s) => structuredClone(s));
  const changed = computeEndpoints(svc, pods.slice(1)).endpoints;
  return [
    `| plan 10,000 endpoints from nothing (${first.create.length} slices) | ${ms(() => planEndpointSlices({ service: svc, endpoints, zones, existing: [] })).toFixed(1)} ms |`,
    `| plan again after one Pod went (1 slice updated) | ${ms(() => planEndpointSlices({ service: svc, endpoints: changed, zones, existing: stored })).toFixed(1)} ms |`,
  ];
}

const noPush: DataPlanePusher = { request: async () => undefined };

/** A runtime whose DynamoDB requests are counted. */
function countedRuntime(): { rt: Runtime; requests: () => number } {
  let n = 0;
  const clients = makeClients({
    middleware: [{ name: 'count', middleware: (next) => async (args: unknown) => (n++, next(args)) }],
  });
  serializeRequests(clients.dynamodb);
  const env = readControllerEnv({ TABLE_NAME: 'bench', CLUSTER_NAME: 'bench' });
  return { rt: buildRuntime(env, { clients, pusher: noPush }), requests: () => n };
}

async function measure(label: string, c: ReturnType<typeof countedRuntime>, fn: () => Promise<unknown>) {
  const before = c.requests();
  const t = performance.now();
  await fn();
  return `| ${label} | ${c.requests() - before} | ${(performance.now() - t).toFixed(0)} ms |`;
}

async function storeRows(): Promise<string[]> {
  const c = countedRuntime();
  const { rt } = c;
  await ensureTable(rt.clients.dynamodb, 'bench');
  for (let s = 0; s < SERVICES; s++) {
    await rt.api.applyService(service(s));
    for (let p = 0; p < PODS; p++) await rt.api.applyPod(pod(s, p));
  }
  let rev = (await drainLog(rt.store, rt.controller, 0)).rev;
  const rows: string[] = [];
  // One Pod turns not ready: the Pod's message, then the echo of the slice and Endpoints the controllers wrote.
  await rt.api.updatePodStatus('bench', 'pod-0-0', (st) => ({
    ...st,
    conditions: [{ type: 'Ready', status: 'False' }],
  }));
  const entries = await rt.store.readLog(rev, 10);
  const podMsg = {
    kind: 'Pod',
    namespace: 'bench',
    name: 'pod-0-0',
    uid: '',
    rev: entries[0]!.rev,
    type: 'MODIFIED' as const,
  };
  rows.push(
    await measure(`Pod message (${SERVICES} Services x ${PODS} Pods in its namespace)`, c, () =>
      handleObjectBatch(rt.controller, [record(podMsg)]),
    ),
  );
  rev = entries[0]!.rev;
  rows.push(
    await measure('the echo: the slice and Endpoints messages it caused', c, async () => {
      rev = (await drainLog(rt.store, rt.controller, rev)).rev;
    }),
  );
  const head = await rt.store.currentRevision();
  rows.push(
    await measure("the controllers' part of a resync (Nodes, namespaces, slices, Endpoints)", c, () =>
      rt.controller.cluster.resync([]),
    ),
  );
  rows.push(
    await measure(`resync, nothing changed (${SERVICES * PODS} Pods, no LB, no nodes)`, c, () =>
      rt.controller.resync(),
    ),
  );
  if ((await rt.store.currentRevision()) !== head) throw new Error('the resync wrote something');
  return rows;
}

function record(body: unknown) {
  return {
    messageId: 'm1',
    receiptHandle: 'r',
    body: JSON.stringify(body),
    attributes: { MessageGroupId: 'Pod/bench/pod-0-0', ApproximateReceiveCount: '1' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:events.fifo',
    awsRegion: 'us-east-1',
  } as never;
}

async function main(): Promise<void> {
  console.log('| pure planner | p50 |\n| --- | ---: |');
  for (const r of pureRows()) console.log(r);
  const moto = await startMoto();
  Object.assign(process.env, localAwsEnv(moto.endpoint));
  try {
    const rows = await storeRows();
    console.log('\n| on moto | DynamoDB requests | time |\n| --- | ---: | ---: |');
    for (const r of rows) console.log(r);
  } finally {
    await moto.stop();
  }
}

void main();
