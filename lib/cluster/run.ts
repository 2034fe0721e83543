/**
 * Cluster mode's watcher assembled from a Runtime (the controller's store, API write path and controller) and a
 * cluster: used by the Lambda handler (lib/handlers/cluster-watcher.ts), local mode and the tests alike.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../controller/controller.js';
import type { Runtime } from '../runtime/runtime.js';
import { ClusterBridge } from './bridge.js';
import type { ClusterModeSettings } from './mirror.js';
import { WatchCheckpoints, WatcherLease } from './records.js';
import type { RemoteCluster, RemoteResource } from './remote.js';
import { runWatcher, type WatcherRun } from './watcher.js';

export interface ClusterRunOptions {
  rt: Pick<Runtime, 'api' | 'store' | 'controller'>;
  remote: RemoteCluster;
  settings: ClusterModeSettings;
  /** Epoch ms at which watching stops. */
  deadline: number;
  log: Logger;
  holder?: string;
  writeBackEveryMs?: number;
  renewEveryMs?: number;
  signal?: AbortSignal;
}

/** Services and Nodes always; Pods too when the data plane serves the cluster (docs/cluster-mode.md). */
export function watchedResources(s: ClusterModeSettings): RemoteResource[] {
  return s.dataPlane ? ['services', 'nodes', 'pods'] : ['services', 'nodes'];
}

export function runClusterMode(o: ClusterRunOptions): Promise<WatcherRun> {
  const { api, store, controller } = o.rt;
  const renewEveryMs = o.renewEveryMs ?? 10_000;
  const bridge = new ClusterBridge({
    api,
    records: store,
    remote: o.remote,
    settings: o.settings,
    log: o.log,
  });
  return runWatcher({
    bridge,
    remote: o.remote,
    lease: new WatcherLease(store, o.holder ?? randomUUID(), 3 * renewEveryMs),
    checkpoints: new WatchCheckpoints(store),
    resources: watchedResources(o.settings),
    deadline: o.deadline,
    // A node's eligibility changed: every target group follows, as on a node's join or leave.
    nodesChanged: async () => void (await controller.handleNodeChange({ trigger: { kind: 'objects' } })),
    log: o.log,
    writeBackEveryMs: o.writeBackEveryMs,
    renewEveryMs,
    signal: o.signal,
  });
}
