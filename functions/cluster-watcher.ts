/**
 * Cluster mode's watcher (EventBridge schedule, every minute): holds the lease, mirrors the cluster's Services (and
 * Nodes' eligibility) into the store through the write path, and writes status, finalizers and Events back.
 */
import { runClusterWatcher } from '../lib/handlers/cluster-watcher.js';
import { withPowertools } from '../lib/handlers/middleware.js';

export const handler = withPowertools(async (_event: unknown, context: { getRemainingTimeInMillis(): number }) =>
  runClusterWatcher({ remainingMs: () => context.getRemainingTimeInMillis() }),
);
