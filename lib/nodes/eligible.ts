/**
 * Which nodes become load-balancer targets. Pure (no SDK): kube's service controller rules applied to EC2 nodes.
 */
import type { NodeInfo } from '../model/types.js';
import { EXCLUDE_FROM_LB_TAG } from '../tags.js';

/**
 * Eligible = running, not tagged `node.kubernetes.io/exclude-from-external-load-balancers` (any value, as in kube),
 * and matching every `k=v` of `aws-load-balancer-target-node-labels` (matched against instance tags).
 */
export function eligibleNodes(nodes: readonly NodeInfo[], nodeLabels?: Record<string, string>): NodeInfo[] {
  return nodes.filter(
    (n) =>
      n.state === 'running' &&
      !(EXCLUDE_FROM_LB_TAG in n.labels) &&
      Object.entries(nodeLabels ?? {}).every(([k, v]) => Object.hasOwn(n.labels, k) && n.labels[k] === v),
  );
}
