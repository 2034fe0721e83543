/**
 * Every tag key this controller writes to or reads from AWS resources, in one place, importable by every layer
 * (lib/nodes, lib/model, lib/lb) without one of them importing another for a constant. Which resources carry which
 * of these, and how ownership is proven from them, is lib/lb/ownership.ts.
 *
 * Pure: no AWS SDK import.
 */

/** The cluster tag shared with cloud-provider-aws and the AWS load balancer controller, and its `owned` value (the
 * cluster manages the resource's lifecycle): contracts infra shares, so they live in lib/contracts.ts. */
export { CLUSTER_TAG_OWNED, clusterTagKey } from './contracts.js';
/** The other cluster tag value: the resource may serve several clusters. */
export const CLUSTER_TAG_SHARED = 'shared';
/** cloud-provider-aws's tag naming the Service an ELB belongs to. */
export const SERVICE_NAME_TAG = 'kubernetes.io/service-name';
/** aws-load-balancer-controller's stack tag: `<namespace>/<name>` of the owning Service. */
export const STACK_TAG = 'service.k8s.aws/stack';
/** What role the resource plays in the stack: "LoadBalancer", a port key for TGs/listeners, "ManagedLBSecurityGroup". */
export const RESOURCE_TAG = 'service.k8s.aws/resource';
/** Our own: the uid of the Service object (a re-created Service with the same name gets new resources' tags updated). */
export const SERVICE_UID_TAG = 'service.k8s.aws/service-uid';
/** The cluster name again, under our prefix, so one tag filter finds every resource of this controller for a cluster. */
export const CLUSTER_NAME_TAG = 'service.k8s.aws/cluster';
export const NAME_TAG = 'Name';

/** Subnet role tags (cloud-provider-aws / AWS LB controller convention). */
export const ROLE_ELB_TAG = 'kubernetes.io/role/elb';
export const ROLE_INTERNAL_ELB_TAG = 'kubernetes.io/role/internal-elb';
/** A node tagged with this key (any value) never becomes a load balancer target. */
export const EXCLUDE_FROM_LB_TAG = 'node.kubernetes.io/exclude-from-external-load-balancers';

/** Tag keys the user may not set through `aws-load-balancer-additional-resource-tags` (they would forge ownership). */
export function isReservedTagKey(key: string): boolean {
  return (
    key.startsWith('kubernetes.io/cluster/') ||
    key === SERVICE_NAME_TAG ||
    key.startsWith('service.k8s.aws/') ||
    key.toLowerCase().startsWith('aws:')
  );
}
