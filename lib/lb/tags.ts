/**
 * Every tag key this controller writes to or reads from AWS resources, in one place. Ownership is decided ONLY by
 * these tags: a resource is ours when it carries `kubernetes.io/cluster/<cluster>` = owned AND our stack tag.
 * Names are never trusted (ELBv2 names are not an ownership proof: a user may create "k8s-..." by hand, and moto
 * will even create a second load balancer with an existing name).
 *
 * Pure: no AWS SDK import.
 */

/** The cluster ownership tag shared with cloud-provider-aws and the AWS load balancer controller. */
export const clusterTagKey = (cluster: string): string => `kubernetes.io/cluster/${cluster}`;
export const CLUSTER_TAG_OWNED = 'owned';
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

/** RESOURCE_TAG values. */
export const RESOURCE_LOAD_BALANCER = 'LoadBalancer';
export const RESOURCE_MANAGED_SG = 'ManagedLBSecurityGroup';
/** Target groups and listeners are tagged with their port key, e.g. "tcp-80" / "tcp_udp-53". */
export const resourceForPort = (kind: 'tg' | 'listener', portKey: string): string => `${kind}/${portKey}`;

/**
 * Description written on the node security group's ingress rule for one NLB. EC2 security group rules accept tags
 * (TagSpecifications on AuthorizeSecurityGroupIngress), but not every EC2 implementation returns them, so the rule
 * description carries the same identity; we match on either.
 */
export const nodeRuleDescription = (cluster: string, stack: string): string => `k8s-svc-lb ${cluster} ${stack}`;

/** Tag keys the user may not set through `aws-load-balancer-additional-resource-tags` (they would forge ownership). */
export function isReservedTagKey(key: string): boolean {
  return (
    key.startsWith('kubernetes.io/cluster/') ||
    key === SERVICE_NAME_TAG ||
    key.startsWith('service.k8s.aws/') ||
    key.toLowerCase().startsWith('aws:')
  );
}

/** The tags every resource of one Service's stack carries. */
export function ownershipTags(cluster: string, stack: string, uid: string | undefined): Record<string, string> {
  const t: Record<string, string> = {
    [clusterTagKey(cluster)]: CLUSTER_TAG_OWNED,
    [CLUSTER_NAME_TAG]: cluster,
    [SERVICE_NAME_TAG]: stack,
    [STACK_TAG]: stack,
  };
  if (uid) t[SERVICE_UID_TAG] = uid;
  return t;
}

/** True when `tags` mark a resource as owned by this controller for `cluster` (optionally for one stack). */
export function isOwned(tags: Record<string, string>, cluster: string, stack?: string): boolean {
  if (tags[clusterTagKey(cluster)] !== CLUSTER_TAG_OWNED) return false;
  if (tags[CLUSTER_NAME_TAG] !== cluster) return false;
  if (!tags[STACK_TAG]) return false;
  return stack === undefined || tags[STACK_TAG] === stack;
}
