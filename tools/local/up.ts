/**
 * `npm start` (`svcctl local up`): the local system (./system.ts) in the foreground, the examples applied through
 * its Kubernetes API, the result shown, and the one line that points kubectl at the API. And `svcctl local serve`:
 * the same system in the background, started by the first svcctl command when none runs.
 */
import type { V1Service } from '@kubernetes/client-node';
import type { Io } from '../cli/io.js';
import { KubeClient } from '../cli/kube/client.js';
import { loadKubeconfig } from '../cli/kube/kubeconfig.js';
import { readManifestFiles, settle } from '../cli/manifests.js';
import { applyItems } from '../cli/commands/apply.js';
import { get } from '../cli/commands/get.js';
import { runningSystem } from './autostart.js';
import { formatProbes, runDemoRequests, startDemoPods } from './demo.js';
import { stopPid } from './moto.js';
import { pidAlive, readLocalState } from './state.js';
import { startLocalSystem, type LocalSystem, type SystemOptions } from './system.js';

export { startLocalSystem, LOCAL_ORPHAN_GRACE_SECONDS, type LocalSystem } from './system.js';

export interface UpOptions extends SystemOptions {
  /** Run the demo, print the results, shut down (CI and scripted use). */
  exitAfterDemo?: boolean;
  examplesDir?: string;
}

/** A client of the system's own API, as kubectl would use it (its kubeconfig). */
export function apiClient(sys: LocalSystem): KubeClient {
  return new KubeClient(loadKubeconfig([sys.api.kubeconfig]));
}

/** The controller's failure message when it could not make a Service's load balancer (LoadBalancerReady False). */
function lbFailed(s: V1Service): string | undefined {
  const c = s.status?.conditions?.find((x) => x.type === 'LoadBalancerReady');
  return c?.status === 'False' && c.reason === 'SyncLoadBalancerFailed' ? c.message : undefined;
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

/** Applies the demo through the API (Pods when the data plane runs, then the examples) and waits until reconciled. */
export async function applyDemo(sys: LocalSystem, io: Io, examplesDir = 'examples'): Promise<void> {
  const progress = (m: string) => io.stderr(`… ${m}\n`);
  const objects: { object: Record<string, unknown>; source: string }[] = [];
  if (sys.dataplane) {
    progress('starting demo pods (HTTP servers in pod namespaces)');
    for (const pod of await startDemoPods(sys))
      objects.push({ object: pod as unknown as Record<string, unknown>, source: 'demo pods' });
  }
  progress(`applying ${examplesDir}/ through the API`);
  objects.push(...readManifestFiles([examplesDir], io));
  const client = apiClient(sys);
  try {
    if ((await applyItems(client, settle(objects, undefined, 'default'), io)) !== 0)
      throw new Error('applying the demo failed');
  } finally {
    client.close();
  }
  progress('waiting for the controller to reconcile (load balancers get their DNS name)');
  // Done when every LoadBalancer Service has its hostname or a failure the controller reported: a Service whose NLB
  // cannot be made must not hold the start for a minute (it shows its reason in `kubectl describe service`).
  const api = sys.target.api;
  await waitFor(async () => {
    const lbs = (await api.listServices()).filter((s: V1Service) => s.spec?.type === 'LoadBalancer');
    return lbs.every((s) => s.status?.loadBalancer?.ingress?.length || lbFailed(s)) ? true : undefined;
  }, 60_000);
  for (const s of (await api.listServices()).filter(lbFailed))
    io.stderr(`WARNING: service ${s.metadata?.namespace}/${s.metadata?.name} has no load balancer: ${lbFailed(s)}\n`);
  if (sys.dataplane) {
    progress('waiting for every node agent to apply the rules');
    await sys.settle(60_000);
  }
}

/** The one line that points kubectl at the local API. */
export const kubeconfigLine = (sys: LocalSystem): string => `export KUBECONFIG=${sys.api.kubeconfig}`;

async function showDemo(sys: LocalSystem, io: Io): Promise<number> {
  io.stdout('\n$ kubectl get services\n');
  const client = apiClient(sys);
  try {
    await get(client, ['services'], {}, io);
  } finally {
    client.close();
  }
  let failed = 0;
  if (sys.dataplane) {
    io.stdout('\nReal requests through the data plane:\n');
    const probes = await runDemoRequests(sys);
    failed = probes.filter((p) => !p.ok).length;
    io.stdout(formatProbes(probes));
  }
  const endpoint = sys.target.local.endpoint;
  io.stdout(
    `\nThe local AWS is at ${endpoint} (aws --endpoint-url ${endpoint} elbv2 describe-load-balancers).\n` +
      `The Kubernetes API is at ${sys.api.url}; point kubectl (and svcctl) at it with:\n\n${kubeconfigLine(sys)}\n`,
  );
  return failed;
}

/** A background system svcctl started gives way to `npm start`; a second `npm start` does not start. */
async function takeOver(io: Io): Promise<void> {
  const pid = runningSystem();
  if (!pid) return;
  if (readLocalState()?.systemMode === 'foreground')
    throw new Error(`error: the local system already runs in the foreground (npm start, pid ${pid}); stop it first`);
  io.stderr(`… stopping the local system svcctl started in the background (pid ${pid}); this one takes over\n`);
  await stopPid(pid);
}

/**
 * Starts the system, runs `body`, then waits for SIGINT/SIGTERM unless `body` returned an exit code; stops the
 * system either way. A signal during `body` (the demo) cleans up too.
 */
async function runUntilSignal(
  io: Io,
  start: () => Promise<LocalSystem>,
  body: (sys: LocalSystem) => Promise<number | undefined>,
): Promise<number> {
  const sys = await start();
  let release: (() => void) | undefined;
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    io.stderr('… shutting down: API, controller loop, load-balancer stand-in, namespaces and their processes\n');
    await sys.stop();
  };
  const onSignal = () => (release ? release() : void shutdown().finally(() => process.exit(130)));
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const code = await body(sys);
    if (code !== undefined) return code;
    await new Promise<void>((resolve) => (release = resolve));
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await shutdown();
  }
}

export async function localUp(opts: UpOptions, io: Io): Promise<number> {
  await takeOver(io);
  return runUntilSignal(
    io,
    () => startLocalSystem(io, { stopLocalAwsIfStarted: true, installPackages: true, ...opts, mode: 'foreground' }),
    async (sys) => {
      await applyDemo(sys, io, opts.examplesDir);
      const failed = await showDemo(sys, io);
      if (opts.exitAfterDemo) return failed ? 1 : 0;
      io.stdout('\nRunning. Press Ctrl-C to stop.\n');
      return undefined;
    },
  );
}

/**
 * `svcctl local serve`: the system in the background for svcctl-only use. Control plane only unless root and the
 * data plane's packages are present (it never installs them; SVCCTL_CONTROL_PLANE_ONLY=1 turns the data plane off).
 * It follows its moto server: when that is gone, so is it.
 */
export async function serveBackground(io: Io): Promise<number> {
  const off = Boolean(process.env.SVCCTL_CONTROL_PLANE_ONLY);
  const code = await runUntilSignal(
    io,
    () =>
      startLocalSystem(io, {
        installPackages: false,
        withDataPlane: off ? false : undefined,
        controlPlaneOnlyReason: 'SVCCTL_CONTROL_PLANE_ONLY is set',
        mode: 'background',
      }),
    async (sys) => {
      io.stderr(`… serving the API at ${sys.api.url} (pid ${process.pid})\n`);
      const watchdog = setInterval(() => {
        if (!pidAlive(sys.target.local.motoPid)) process.kill(process.pid, 'SIGTERM');
      }, 2000);
      watchdog.unref();
      return undefined;
    },
  ).catch((err: unknown) => {
    io.stderr(`error: ${(err as Error).message}\n`);
    return 1;
  });
  // Nothing else is waited for: a handle some library left open must not keep a finished background process alive.
  process.exit(code);
}
