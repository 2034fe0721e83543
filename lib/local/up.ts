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
import { readControllerEnv } from '../config-env.js';
import { handleObjectBatch } from '../handlers/object-events.js';
import { handleNodeEvent, type NodeEvent } from '../handlers/node-events.js';
import { parseManifests } from '../model/manifest.js';
import { buildRuntime, type Runtime } from '../runtime/runtime.js';
import { printServices } from '../cli/printers.js';
import { publish, resolveTarget, type Target } from '../cli/target.js';
import type { Io } from '../cli/main.js';
import { readLocalState, writeLocalState } from './state.js';
import { ensureLocalWiring, pollOnce, type LocalQueues } from './wiring.js';

export interface UpOptions {
  nodes?: number;
  /** Run the demo, print the results, shut down (CI and scripted use). */
  exitAfterDemo?: boolean;
  examplesDir?: string;
  resyncSeconds?: number;
}

export interface LocalSystem {
  target: Target;
  runtime: Runtime;
  queues: LocalQueues;
  stop(): Promise<void>;
  /** Resolves once the loop drained everything currently queued. */
  settle(timeoutMs?: number): Promise<void>;
}

export function runtimeEnvFor(target: Target): NodeJS.ProcessEnv {
  const st = target.local!;
  return {
    CLUSTER_NAME: st.clusterName,
    TABLE_NAME: st.tableName,
    EVENT_BUS_NAME: st.busName,
    VPC_ID: st.vpcId,
    SUBNET_IDS: (st.subnetIds ?? []).join(','),
    NODE_SECURITY_GROUP_ID: st.nodeSecurityGroupId,
  };
}

/** Starts the controller loop against the local AWS. */
export async function startLocalSystem(io: Io, opts: UpOptions = {}): Promise<LocalSystem> {
  const progress = (m: string) => io.stderr(`… ${m}\n`);
  if (opts.nodes) process.env.SVCCTL_LOCAL_NODES = String(opts.nodes);
  const target = await resolveTarget({}, progress);
  progress('wiring the event path: bus -> per-object FIFO queue -> controller; EC2 events -> node queue');
  const queues = await ensureLocalWiring(target.clients, target.busName);
  const runtime = buildRuntime(readControllerEnv(runtimeEnvFor(target)), { clients: target.clients });
  const st = readLocalState()!;
  writeLocalState({ ...st, controllerPid: process.pid, queueUrl: queues.objectsUrl });
  target.reconcileInline = false;

  let running = true;
  let busy = 0;
  const loop = async (name: string, step: () => Promise<number>) => {
    while (running) {
      try {
        busy++;
        await step();
      } catch (err) {
        io.stderr(`controller ${name}: ${(err as Error).message}\n`);
        await new Promise((r) => setTimeout(r, 1000));
      } finally {
        busy--;
      }
    }
  };
  const objects = loop('objects', () =>
    pollOnce(target.clients, queues.objectsUrl, queues.objectsArn, (records) =>
      handleObjectBatch(runtime.controller, records),
    ),
  );
  const nodes = loop('nodes', () =>
    pollOnce(target.clients, queues.nodesUrl, queues.nodesArn, async (records) => {
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
  );
  const resync = setInterval(
    () => void runtime.controller.resync().catch((e) => io.stderr(`resync: ${(e as Error).message}\n`)),
    (opts.resyncSeconds ?? 60) * 1000,
  );

  return {
    target,
    runtime,
    queues,
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
        if (pending === 0) return;
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    async stop() {
      running = false;
      clearInterval(resync);
      await Promise.all([objects, nodes]);
      void busy;
      const cur = readLocalState();
      if (cur && cur.controllerPid === process.pid) writeLocalState({ ...cur, controllerPid: undefined });
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

export async function localUp(opts: UpOptions, io: Io): Promise<number> {
  const progress = (m: string) => io.stderr(`… ${m}\n`);
  const sys = await startLocalSystem(io, opts);
  const { target } = sys;
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    progress('shutting down the controller loop');
    await sys.stop();
  };
  try {
    progress('applying the examples');
    const results = await target.api.applyAll(exampleManifests(opts.examplesDir ?? 'examples'));
    for (const r of results)
      io.stdout(`${(r.object.kind ?? '').toLowerCase()}/${r.object.metadata?.name} ${r.action}\n`);
    await publish(
      target,
      results.flatMap((r) => (r.event ? [r.event] : [])),
    );
    progress('waiting for the controller to reconcile (load balancers get their DNS name)');
    await waitFor(async () => {
      const lbs = (await target.api.listServices()).filter((s: V1Service) => s.spec?.type === 'LoadBalancer');
      return lbs.every((s) => s.status?.loadBalancer?.ingress?.length) ? true : undefined;
    }, 60_000);
    io.stdout('\n$ svcctl get services\n');
    io.stdout(printServices(await target.api.listServices('default')));
    io.stdout(
      `\nThe local AWS is at ${target.local!.endpoint}; inspect it with e.g.\n` +
        `  aws --endpoint-url ${target.local!.endpoint} elbv2 describe-load-balancers\n` +
        `and use svcctl in another terminal (svcctl local status prints the environment).\n`,
    );
    if (opts.exitAfterDemo) return 0;
    io.stdout('\nRunning. Press Ctrl-C to stop.\n');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    return 0;
  } finally {
    await shutdown();
  }
}
