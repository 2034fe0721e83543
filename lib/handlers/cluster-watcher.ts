/**
 * The cluster-watcher function's body: cluster mode's settings and authentication from the environment the CDK
 * construct sets (CLUSTER_MODE_ENV), the container's Runtime, then one watcher run until just before the timeout.
 */
import { ClusterAuth, readClusterAuthSettings } from '../cluster/auth.js';
import type { ClusterModeSettings } from '../cluster/mirror.js';
import { ClientNodeCluster } from '../cluster/remote.js';
import { runClusterMode } from '../cluster/run.js';
import type { WatcherRun } from '../cluster/watcher.js';
import { CLUSTER_MODE_ENV, CLUSTER_WATCHER_MARGIN_SECONDS } from '../contracts.js';
import { containerRuntime } from './container.js';
import { controllerLogger } from './observability.js';

let auth: ClusterAuth | undefined;

export function readClusterModeSettings(env: NodeJS.ProcessEnv = process.env): ClusterModeSettings {
  return {
    defaultLoadBalancerClass: env[CLUSTER_MODE_ENV.defaultLoadBalancerClass] === 'true',
    dataPlane: env[CLUSTER_MODE_ENV.dataPlane] === 'true',
  };
}

export async function runClusterWatcher(ctx: { remainingMs: () => number }): Promise<WatcherRun> {
  // Kept per container: the kubeconfig (and its EKS token, refreshed every 10 minutes) outlives one invocation.
  auth ??= new ClusterAuth(readClusterAuthSettings());
  const runFor = Number(process.env[CLUSTER_MODE_ENV.runSeconds] ?? '0') * 1000 || Infinity;
  const deadline = Date.now() + Math.min(runFor, ctx.remainingMs() - CLUSTER_WATCHER_MARGIN_SECONDS * 1000);
  const run = await runClusterMode({
    rt: containerRuntime(),
    remote: new ClientNodeCluster(
      () => auth!.kubeConfig(),
      () => auth!.invalidate(),
    ),
    settings: readClusterModeSettings(),
    deadline,
    log: controllerLogger,
  });
  controllerLogger.info('cluster watcher run', { ...run });
  return run;
}
