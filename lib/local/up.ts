/**
 * `npm start` / `svcctl local up`: the whole system on this machine. Brings up the local AWS (moto), the cluster's
 * AWS side (VPC, subnets, node SG, EC2 nodes), the event wiring the CDK stack deploys (bus -> queues), and the
 * controller loop that invokes the Lambda handlers' code in-process; applies the examples and shows the result.
 * With root it also runs the data plane for real (lib/local/dataplane.ts): node and pod network namespaces, the
 * node agent applying rules, and a stand-in for the NLB's data path.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Service } from '@kubernetes/client-node';
import { handleObjectBatch } from '../handlers/object-events.js';
import { handleNodeEvent, type NodeEvent } from '../handlers/node-events.js';
import { parseManifests } from '../model/manifest.js';
import { buildRuntime, type Runtime } from '../runtime/runtime.js';
import { printServices } from '../cli/printers.js';
import { controllerEnvFor, publish, resolveTarget, type Target } from '../cli/target.js';
import type { Io } from '../cli/main.js';
import { clearLocalState, readLocalState, writeLocalState } from './state.js';
import { stopPid } from './moto.js';
import { ensureLocalWiring, pollOnce, type LocalQueues } from './wiring.js';
import { canRunDataPlane, LOCAL_POD_CIDR, LocalDataPlane } from './dataplane.js';
import { NlbProxy } from './nlb-proxy.js';
import { formatProbes, runDemoRequests, startDemoPods } from './demo.js';

export interface UpOptions {
  nodes?: number;
  /** On stop, also stop the moto server if this run started it (`npm start`: "every process it made"). */
  stopLocalAwsIfStarted?: boolean;
  /** false: the control plane only, even with root. */
  withDataPlane?: boolean;
  /** Run the demo, print the results, shut down (CI and scripted use). */
  exitAfterDemo?: boolean;
  examplesDir?: string;
  resyncSeconds?: number;
}

export interface LocalSystem {
  target: Target;
  runtime: Runtime;
  queues: LocalQueues;
  /** Present when the data plane runs (root, nft, ip, dnsmasq available). */
  dataplane?: LocalDataPlane;
  proxy?: NlbProxy;
  stop(): Promise<void>;
  /** Resolves once the loop drained everything currently queued. */
  settle(timeoutMs?: number): Promise<void>;
}

/** Starts the controller loop (and, with root, the data plane) against the local AWS. */
export async function startLocalSystem(io: Io, opts: UpOptions & { nsPrefix?: string } = {}): Promise<LocalSystem> {
  const progress = (m: string) => io.stderr(`… ${m}\n`);
  if (opts.nodes) process.env.SVCCTL_LOCAL_NODES = String(opts.nodes);
  const target = await resolveTarget({}, progress);
  progress('wiring the event path: bus -> per-object FIFO queue -> controller; EC2 events -> node queue');
  const queues = await ensureLocalWiring(target.clients, target.busName);
  let dataplane: LocalDataPlane | undefined;
  const can =
    opts.withDataPlane === false ? { ok: false, why: 'asked for with --control-plane-only' } : canRunDataPlane();
  if (can.ok) {
    progress('creating the node and VPC network namespaces (the local data plane)');
    dataplane = await LocalDataPlane.create(opts.nsPrefix);
  } else {
    io.stderr(
      `NOTE: running the control plane only (${can.why}). Services, allocation, events and load balancers in the ` +
        `local AWS work; ClusterIP/NodePort traffic, DNS and the load-balancer stand-in need the data plane (root).\n`,
    );
  }
  const env = controllerEnvFor(target);
  if (dataplane) {
    env.artifactBucket = `${target.busName}-artifacts`;
    env.ssmDocumentName = `${target.busName}-dataplane`;
  }
  const runtime = buildRuntime(env, {
    clients: target.clients,
    pusher: dataplane?.pusher,
    podCidr: dataplane ? LOCAL_POD_CIDR : undefined,
  });
  let proxy: NlbProxy | undefined;
  let nodeSync: NodeJS.Timeout | undefined;
  if (dataplane) {
    await dataplane.attach(runtime, target.clients);
    await dataplane.syncNodes(target.clients, target.cfg.clusterName);
    // Fresh namespaces know nothing: a start (or a restart over an existing local AWS) begins with a full push,
    // exactly what a scheduled resync does for nodes in AWS.
    await runtime.pusher.request('resync');
    // EC2 instances are the truth: namespaces follow them (a joining node then gets the full state).
    nodeSync = setInterval(
      () =>
        void dataplane!
          .syncNodes(target.clients, target.cfg.clusterName)
          .then(async (c) => {
            if (c.added.length) await runtime.pusher.request('node joined');
          })
          .catch((e) => io.stderr(`node sync: ${(e as Error).message}\n`)),
      2000,
    );
    proxy = new NlbProxy(target.clients, target.cfg.clusterName, dataplane.relaySocket);
    await proxy.refresh();
    proxy.start();
  }
  const st = readLocalState()!;
  writeLocalState({ ...st, controllerPid: process.pid, queueUrl: queues.objectsUrl });
  target.reconcileInline = false;

  let running = true;
  let busyHandlers = 0;
  const loop = async (name: string, step: () => Promise<number>) => {
    while (running) {
      try {
        await step();
      } catch (err) {
        io.stderr(`controller ${name}: ${(err as Error).message}\n`);
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  };
  const counted =
    <A extends unknown[], R>(fn: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      busyHandlers++;
      try {
        return await fn(...a);
      } finally {
        busyHandlers--;
      }
    };
  const objects = loop('objects', () =>
    pollOnce(
      target.clients,
      queues.objectsUrl,
      queues.objectsArn,
      counted((records) => handleObjectBatch(runtime.controller, records)),
    ),
  );
  const nodes = loop('nodes', () =>
    pollOnce(
      target.clients,
      queues.nodesUrl,
      queues.nodesArn,
      counted(async (records) => {
        const failures: { itemIdentifier: string }[] = [];
        for (const r of records) {
          try {
            await handleNodeEvent(
              { controller: runtime.controller, autoscaling: target.clients.autoscaling },
              JSON.parse(r.body) as NodeEvent,
            );
          } catch {
            failures.push({ itemIdentifier: r.messageId });
          }
        }
        return { batchItemFailures: failures };
      }),
    ),
  );
  const resync = setInterval(
    () => void runtime.controller.resync().catch((e) => io.stderr(`resync: ${(e as Error).message}\n`)),
    (opts.resyncSeconds ?? 60) * 1000,
  );

  return {
    target,
    runtime,
    queues,
    dataplane,
    proxy,
    async settle(timeoutMs = 30_000) {
      const { GetQueueAttributesCommand } = await import('@aws-sdk/client-sqs');
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        let pending = 0;
        for (const url of [queues.objectsUrl, queues.nodesUrl]) {
          const a = await target.clients.sqs.send(
            new GetQueueAttributesCommand({
              QueueUrl: url,
              AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
            }),
          );
          pending +=
            Number(a.Attributes?.ApproximateNumberOfMessages ?? 0) +
            Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
        }
        if (pending === 0 && busyHandlers === 0) {
          await dataplane?.settle(Math.max(1000, deadline - Date.now()));
          await proxy?.refresh();
          return;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    async stop() {
      running = false;
      clearInterval(resync);
      if (nodeSync) clearInterval(nodeSync);
      await Promise.all([objects, nodes]);
      await proxy?.stop();
      await dataplane?.destroy();
      const cur = readLocalState();
      if (opts.stopLocalAwsIfStarted && target.startedLocalAws && cur) {
        // Every process this run made goes with it, the local AWS included when this run started it (a moto server
        // that was already running, e.g. started by svcctl, is left running for its owner).
        await stopPid(cur.motoPid);
        clearLocalState();
        io.stderr(`… stopped the local AWS it had started (moto server pid ${cur.motoPid})\n`);
      } else if (cur && cur.controllerPid === process.pid) writeLocalState({ ...cur, controllerPid: undefined });
    },
  };
}

export function exampleManifests(dir: string): unknown[] {
  const files = readdirSync(dir)
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .sort();
  return files.flatMap((f) => parseManifests(readFileSync(join(dir, f), 'utf8'), join(dir, f)));
}

async function waitFor<T>(what: () => Promise<T | undefined>, timeoutMs: number): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await what();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 300));
  }
  return undefined;
}

/** Applies the demo (pods when the data plane runs, then the examples) and waits until it is reconciled. */
export async function applyDemo(sys: LocalSystem, io: Io, examplesDir = 'examples'): Promise<void> {
  const progress = (m: string) => io.stderr(`… ${m}\n`);
  const { target } = sys;
  const objects: unknown[] = [];
  if (sys.dataplane) {
    progress('starting demo pods (HTTP servers in pod namespaces)');
    objects.push(...(await startDemoPods(sys)));
  }
  progress('applying the examples');
  objects.push(...exampleManifests(examplesDir));
  const results = await target.api.applyAll(objects);
  for (const r of results) io.stdout(`${(r.object.kind ?? '').toLowerCase()}/${r.object.metadata?.name} ${r.action}\n`);
  await publish(
    target,
    results.flatMap((r) => (r.event ? [r.event] : [])),
  );
  progress('waiting for the controller to reconcile (load balancers get their DNS name)');
  await waitFor(async () => {
    const lbs = (await target.api.listServices()).filter((s: V1Service) => s.spec?.type === 'LoadBalancer');
    return lbs.every((s) => s.status?.loadBalancer?.ingress?.length) ? true : undefined;
  }, 60_000);
  if (sys.dataplane) {
    progress('waiting for every node agent to apply the rules');
    await sys.settle(60_000);
  }
}

export async function localUp(opts: UpOptions, io: Io): Promise<number> {
  const progress = (m: string) => io.stderr(`… ${m}\n`);
  const sys = await startLocalSystem(io, { stopLocalAwsIfStarted: true, ...opts });
  const { target } = sys;
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    progress('shutting down: controller loop, load-balancer stand-in, namespaces and their processes');
    await sys.stop();
  };
  // Ctrl-C during start-up cleans up too (namespaces, processes); once running it ends the wait below.
  let release: (() => void) | undefined;
  const onSignal = () => {
    if (release) release();
    else void shutdown().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await applyDemo(sys, io, opts.examplesDir);
    io.stdout('\n$ svcctl get services\n');
    io.stdout(printServices(await target.api.listServices('default')));
    let failed = 0;
    if (sys.dataplane) {
      io.stdout('\nReal requests through the data plane:\n');
      const probes = await runDemoRequests(sys);
      failed = probes.filter((p) => !p.ok).length;
      io.stdout(formatProbes(probes));
    }
    io.stdout(
      `\nThe local AWS is at ${target.local!.endpoint}; inspect it with e.g.\n` +
        `  aws --endpoint-url ${target.local!.endpoint} elbv2 describe-load-balancers\n` +
        `and use svcctl in another terminal (svcctl local status prints the environment).\n`,
    );
    if (opts.exitAfterDemo) return failed ? 1 : 0;
    io.stdout('\nRunning. Press Ctrl-C to stop.\n');
    await new Promise<void>((resolve) => (release = resolve));
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await shutdown();
  }
}
