/**
 * Whether the data plane has drained a leaving node's Pods: the last push renders no ready or serving endpoint on the
 * node, and every other live node that is not Failing holds that push's content. From then on no node's rules send a
 * new connection to those Pods (established ones keep their conntrack entries), so the instance may go.
 */
import { isFailing } from './node-status.js';
import { digestFor, type DataPlaneStateStore } from './state-store.js';

export async function dataPlaneDrained(
  store: DataPlaneStateStore,
  node: { name: string; instanceId: string },
  liveIds: readonly string[],
): Promise<boolean> {
  const last = await store.getLastPush();
  if (!last) return true; // nothing was ever pushed: no rules route anywhere
  if ((last.endpointNodes ?? []).includes(node.name)) return false;
  const statuses = new Map((await store.listNodes()).map((s) => [s.instanceId, s]));
  return liveIds
    .filter((id) => id !== node.instanceId && !isFailing(statuses.get(id)))
    .every((id) => statuses.get(id)?.appliedDigest === digestFor(last.digests, id));
}
