/**
 * Node eligibility from a cluster's Node objects, as the service controllers of cloud-provider and
 * aws-load-balancer-controller decide it: the exclusion label, and the taints that announce a node's removal
 * (cluster-autoscaler's and Karpenter's). The EC2 lifecycle events (lib/controller/node-lifecycle.ts) still drain a
 * leaving node earlier than any taint can; this adds what only the cluster knows.
 *
 * Pure: no AWS SDK, no Kubernetes client.
 */
import type { V1Node } from '@kubernetes/client-node';
import { instanceIdOf } from '../model/node-object.js';
import type { NodeInfo } from '../model/types.js';
import { EXCLUDE_FROM_LB_TAG } from '../tags.js';
import type { NodeEligibility } from './eligibility-records.js';

/** cluster-autoscaler taints a node it is about to delete (NoSchedule); upstream stops routing to it. */
export const AUTOSCALER_DELETION_TAINT = 'ToBeDeletedByClusterAutoscaler';
/** Karpenter v1 taints a node it is disrupting (NoSchedule); v0.3x used `karpenter.sh/disruption=disrupting`. */
export const KARPENTER_DISRUPTED_TAINT = 'karpenter.sh/disrupted';
const KARPENTER_LEGACY_TAINT = { key: 'karpenter.sh/disruption', value: 'disrupting' };

function exclusionReason(node: V1Node): string | undefined {
  const labels = node.metadata?.labels ?? {};
  if (Object.hasOwn(labels, EXCLUDE_FROM_LB_TAG)) return `label ${EXCLUDE_FROM_LB_TAG}`;
  for (const t of node.spec?.taints ?? []) {
    if (t.key === AUTOSCALER_DELETION_TAINT) return `taint ${AUTOSCALER_DELETION_TAINT}`;
    if (t.key === KARPENTER_DISRUPTED_TAINT) return `taint ${KARPENTER_DISRUPTED_TAINT}`;
    if (t.key === KARPENTER_LEGACY_TAINT.key && t.value === KARPENTER_LEGACY_TAINT.value)
      return `taint ${t.key}=${t.value}`;
  }
  return undefined;
}

/** What the Node says about its instance (providerID `aws:///<az>/<instance-id>`); undefined when it is not EC2. */
export function eligibilityOf(node: V1Node): NodeEligibility | undefined {
  const instanceId = instanceIdOf(node.spec?.providerID);
  if (!instanceId) return undefined;
  const excluded = exclusionReason(node);
  return {
    name: node.metadata?.name ?? instanceId,
    instanceId,
    labels: { ...(node.metadata?.labels ?? {}) },
    ...(excluded ? { excluded } : {}),
  };
}

/**
 * The discovered EC2 nodes with what their Node objects say: the Node's name and labels (so target-node-labels match
 * Node labels, as upstream), and an excluded node marked with the exclusion label that lib/nodes/eligible.ts
 * honours. An instance with no Node object (still booting, or not in the cluster) keeps what EC2 says: the node
 * selector already decided it belongs to the cluster.
 */
export function withEligibility(nodes: readonly NodeInfo[], records: readonly NodeEligibility[]): NodeInfo[] {
  const byId = new Map(records.map((r) => [r.instanceId, r]));
  return nodes.map((n) => {
    const e = byId.get(n.instanceId);
    if (!e) return n;
    const labels = { ...n.labels, ...e.labels };
    if (e.excluded) labels[EXCLUDE_FROM_LB_TAG] = e.excluded;
    return { ...n, labels };
  });
}

/** Whether two eligibility views differ in what decides targets (exclusion, labels). */
export function eligibilityChanged(a: NodeEligibility | undefined, b: NodeEligibility | undefined): boolean {
  return JSON.stringify(a ?? null) !== JSON.stringify(b ?? null);
}
