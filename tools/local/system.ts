/**
 * The local system: the local AWS (moto) with the cluster's AWS side, the event wiring the CDK stack deploys, the
 * controller loops that invoke the Lambda handlers' code in-process, the Kubernetes API on loopback (HTTPS, a per-run
 * token and certificate in the local kubeconfig) and, as root with the packages present, the real data plane
 * (node and pod network namespaces, node agents, a stand-in for the NLB's data path). `npm start` runs it in the
 * foreground; the first svcctl command runs it in the background. One runs at a time, recorded in the state file.
 */
import { rmSync } from 'node:fs';
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { StoreBackend } from '../../lib/api/store-backend.js';
import { serveLocalApi } from './api-server.js';
import type { Io } from '../cli/io.js';
import type { RetryPolicy } from '../../lib/dataplane/node-status.js';
import { buildRuntime, type Runtime } from '../../lib/runtime/runtime.js';
import { LOCAL_POD_CIDR, LocalDataPlane } from './dataplane.js';
import { LocalLoops } from './loops.js';
import { stopPid } from './moto.js';
import { NlbProxy } from './nlb-proxy.js';
import { defaultPrereqEnv, ensureDataPlanePrereqs } from './prereqs.js';
import { clearLocalState, localKubeconfigPath, readLocalState, writeLocalState } from './state.js';
import { controllerEnvFor, openLocalTarget, type LocalTarget } from './target.js';
import { ensureLocalWiring, type LocalQueues } from './wiring.js';

/** Locally a gone node's Pods are collected after 5 s (podgc's 40 s would only slow the demo down). */
export const LOCAL_ORPHAN_GRACE_SECONDS = 5;
/** Node agents are namespaces on this machine: retry a failed node after 1 s, 2 s, 4 s, 8 s, then report it. */
const LOCAL_RETRY: RetryPolicy = { baseSeconds: 1, capSeconds: 10, maxAttempts: 5 };

export interface SystemOptions {
  nodes?: number;
  /** On stop, also stop the moto server if this run started it (`npm start`: "every process it made"). */
  stopLocalAwsIfStarted?: boolean;
  /** false: the control plane only, even with root. */
  withDataPlane?: boolean;
  /** Why withDataPlane is false, for the note it prints (default: the --control-plane-only flag). */
  controlPlaneOnlyReason?: string;
  /** false: never install missing data-plane packages (the background system). */
  installPackages?: boolean;
  /** npm start (foreground) or the system svcctl started (background); recorded for `svcctl local status`. */
  mode?: 'foreground' | 'background';
  resyncSeconds?: number;
  /** Replaces the Auto Scaling client of the node-event loop (tests: moto has no CompleteLifecycleAction). */
  autoscaling?: AutoScalingClient;
  /** Network namespace name base (tests keep theirs apart). */
  nsBase?: string;
}

export interface ServedApi {
  url: string;
  kubeconfig: string;
  close(): Promise<void>;
}

export interface LocalSystem {
  target: LocalTarget;
  runtime: Runtime;
  queues: LocalQueues;
  api: ServedApi;
  /** Present when the data plane runs (root, nft, ip, dnsmasq available). */
  dataplane?: LocalDataPlane;
  proxy?: NlbProxy;
  stop(): Promise<void>;
  /** Resolves once the loop drained everything currently queued. */
  settle(timeoutMs?: number): Promise<void>;
}

/** The data plane needs root and a few Debian packages; without them the control plane runs alone, and says so. */
async function openDataPlane(io: Io, opts: SystemOptions): Promise<LocalDataPlane | undefined> {
  const progress = (m: string) => io.stderr(`… ${m}\n`);
  const can =
    opts.withDataPlane === false
      ? { ok: false, why: opts.controlPlaneOnlyReason ?? 'asked for with --control-plane-only' }
      : ensureDataPlanePrereqs({ ...defaultPrereqEnv(progress), mayInstall: opts.installPackages !== false });
  if (can.ok) {
    progress('creating the node and VPC network namespaces (the local data plane)');
    return LocalDataPlane.create(opts.nsBase);
  }
  io.stderr(
    `NOTE: running the control plane only (${can.why}). Services, allocation, events and load balancers in the ` +
      `local AWS work; ClusterIP/NodePort traffic, DNS and the load-balancer stand-in need the data plane (root).\n`,
  );
  return undefined;
}

function localRuntime(target: LocalTarget, dataplane: LocalDataPlane | undefined): Runtime {
  const env = controllerEnvFor(target);
  if (dataplane) {
    env.artifactBucket = `${target.busName}-artifacts`;
    env.ssmDocumentName = `${target.busName}-dataplane`;
  }
  if (!process.env.POD_GC_ORPHAN_GRACE_SECONDS) env.podGcOrphanGraceSeconds = LOCAL_ORPHAN_GRACE_SECONDS;
  return buildRuntime(env, {
    clients: target.clients,
    pusher: dataplane?.pusher,
    podCidr: dataplane ? LOCAL_POD_CIDR : undefined,
    retryPolicy: LOCAL_RETRY,
  });
}

/**
 * EC2 instances are the truth: node namespaces follow them. A fresh namespace holds nothing, so each one that appears
 * (at start too, over an existing local AWS) is a joining node: it gets the latest push, and only it.
 */
async function followNodes(io: Io, target: LocalTarget, runtime: Runtime, dp: LocalDataPlane): Promise<NodeJS.Timeout> {
  await dp.attach(runtime, target.clients);
  const follow = async () => {
    const c = await dp.syncNodes(target.clients, target.cfg.clusterName);
    // A node namespace that appears is a node that joined: handled as its EC2 event is (targets, then the push). The
    // event may also arrive; handling a join twice changes nothing the second time. Locally this is the safety net a
    // deployed stack has in its periodic resync (a join the event path drops is otherwise seen only then).
    for (const id of c.added) {
      await runtime.controller
        .handleNodeChange({ trigger: { kind: 'node-joined', instanceId: id } })
        .catch((e: unknown) => io.stderr(`node sync: ${(e as Error).message}\n`));
    }
  };
  await follow();
  await runtime.pusher.request({ kind: 'resync' });
  return setInterval(() => void follow().catch((e) => io.stderr(`node sync: ${(e as Error).message}\n`)), 2000);
}

/** The Kubernetes API over the local store, on loopback, with the local kubeconfig written for it. */
async function serveApi(target: LocalTarget): Promise<ServedApi> {
  const backend = new StoreBackend({ store: target.store, cfg: target.cfg });
  const kubeconfig = localKubeconfigPath();
  const api = await serveLocalApi({
    backend,
    kubeconfigPath: kubeconfig,
    options: { pricing: { region: target.local.region } },
  });
  return {
    url: api.url,
    kubeconfig,
    close: async () => {
      await api.close();
      backend.close();
    },
  };
}

interface Parts {
  dataplane?: LocalDataPlane;
  proxy?: NlbProxy;
  nodeSync?: NodeJS.Timeout;
  loops?: LocalLoops;
  api?: ServedApi;
}

/** Stops whatever of the system exists (a start-up that failed half-way leaves no namespace or process behind). */
async function stopParts(p: Parts): Promise<void> {
  if (p.nodeSync) clearInterval(p.nodeSync);
  await p.api?.close();
  await p.loops?.stop();
  await p.proxy?.stop();
  await p.dataplane?.destroy();
}

async function startParts(
  io: Io,
  target: LocalTarget,
  queues: LocalQueues,
  opts: SystemOptions,
  p: Parts,
): Promise<Runtime> {
  p.dataplane = await openDataPlane(io, opts);
  const runtime = localRuntime(target, p.dataplane);
  if (p.dataplane) {
    p.nodeSync = await followNodes(io, target, runtime, p.dataplane);
    p.proxy = new NlbProxy(target.clients, target.cfg.clusterName, p.dataplane.relaySocket);
    await p.proxy.refresh();
    p.proxy.start();
  }
  p.loops = new LocalLoops(target.clients, queues, runtime, {
    resyncSeconds: opts.resyncSeconds ?? 60,
    autoscaling: opts.autoscaling,
    log: (l) => io.stderr(`${l}\n`),
  });
  p.api = await serveApi(target);
  return runtime;
}

/** Starts the controller loops, the API and (with root) the data plane against the local AWS. */
export async function startLocalSystem(io: Io, opts: SystemOptions = {}): Promise<LocalSystem> {
  const progress = (m: string) => io.stderr(`… ${m}\n`);
  if (opts.nodes) process.env.SVCCTL_LOCAL_NODES = String(opts.nodes);
  const target = await openLocalTarget(progress);
  progress('wiring the event path: table stream -> per-object FIFO queue -> controller; EC2 events -> node queue');
  const queues = await ensureLocalWiring(target.clients, target.busName);
  const p: Parts = {};
  let runtime: Runtime;
  try {
    runtime = await startParts(io, target, queues, opts, p);
  } catch (err) {
    await stopParts(p);
    throw err;
  }
  const { dataplane, proxy, loops, api } = p as Required<Parts>;
  const st = readLocalState()!;
  writeLocalState({
    ...st,
    systemPid: process.pid,
    systemMode: opts.mode,
    apiUrl: api.url,
  });
  const settle = async (timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await loops.idle()) {
        await dataplane?.settle(Math.max(1000, deadline - Date.now()));
        await proxy?.refresh();
        return;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  const stop = async () => {
    await stopParts(p);
    await releaseLocalAws(io, target, opts);
  };
  return { target, runtime, queues, api, dataplane, proxy, settle, stop };
}

/**
 * Every process this run made goes with it, the local AWS included when this run started it (a moto server that was
 * already running, e.g. started by svcctl, is left running for its owner); so does the kubeconfig of its API.
 */
async function releaseLocalAws(io: Io, target: LocalTarget, opts: SystemOptions): Promise<void> {
  const cur = readLocalState();
  if (cur?.systemPid === process.pid) rmSync(localKubeconfigPath(), { force: true });
  if (opts.stopLocalAwsIfStarted && target.startedLocalAws && cur) {
    await stopPid(cur.motoPid);
    clearLocalState();
    io.stderr(`… stopped the local AWS it had started (moto server pid ${cur.motoPid})\n`);
  } else if (cur && cur.systemPid === process.pid)
    writeLocalState({ ...cur, systemPid: undefined, systemMode: undefined, apiUrl: undefined });
}
