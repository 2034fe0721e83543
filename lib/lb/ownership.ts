/**
 * Ownership of a Service's load-balancer stack, in one place: which resources a stack has, the tags each is created
 * with (in the Create call itself, so a crash between two calls leaves only tagged resources), how an observed
 * resource is matched to its role, and THE ownership proof. A resource is ours when it carries
 * `kubernetes.io/cluster/<cluster>` = owned AND our cluster and stack tags. Names are never trusted (ELBv2 names are
 * not an ownership proof: a user may create "k8s-..." by hand, and moto will even create a second load balancer with
 * an existing name).
 *
 * | resource            | tags (besides the stack's ownership tags and the user's additional tags)          |
 * | ------------------- | --------------------------------------------------------------------------------- |
 * | load balancer       | resource=LoadBalancer, Name=k8s-elb-<stack>                                       |
 * | managed SG          | resource=ManagedLBSecurityGroup, Name=k8s-elb-<stack>                             |
 * | target group        | resource=tg/<port key>, Name=<stack>:<port>/<protocol>                            |
 * | listener            | resource=listener/<port key>                                                      |
 * | node SG rule        | no tags: its description, nodeRuleDescription(cluster, stack), carries the stack   |
 *
 * Pure: no AWS SDK import (the lookups that feed `provenOwned` are in lib/lb/apply).
 */
import { PermanentError } from '../errors.js';
import {
  CLUSTER_NAME_TAG,
  CLUSTER_TAG_OWNED,
  clusterTagKey,
  NAME_TAG,
  RESOURCE_TAG,
  SERVICE_NAME_TAG,
  SERVICE_UID_TAG,
  STACK_TAG,
} from '../tags.js';

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

/** What a stack's resources are tagged from: its ownership tags and the user's additional tags. */
export interface StackTagging {
  stack: string;
  own: Record<string, string>;
  extra: Record<string, string>;
}

/**
 * The tags of each resource of a stack (the table above). The user's tags come first so that ours win; key order is
 * kept stable because plans, golden files and Create payloads list tags in it.
 */
export const resourceTags = {
  loadBalancer: (t: StackTagging) => ({
    ...t.extra,
    ...t.own,
    [RESOURCE_TAG]: RESOURCE_LOAD_BALANCER,
    [NAME_TAG]: `k8s-elb-${t.stack}`,
  }),
  securityGroup: (t: StackTagging) => ({
    ...t.extra,
    ...t.own,
    [RESOURCE_TAG]: RESOURCE_MANAGED_SG,
    [NAME_TAG]: `k8s-elb-${t.stack}`,
  }),
  targetGroup: (t: StackTagging, key: string, port: number, protocol: string) => ({
    ...t.extra,
    ...t.own,
    [RESOURCE_TAG]: resourceForPort('tg', key),
    [NAME_TAG]: `${t.stack}:${port}/${protocol}`,
  }),
  listener: (t: StackTagging, key: string) => ({
    ...t.extra,
    ...t.own,
    [RESOURCE_TAG]: resourceForPort('listener', key),
  }),
};

/** Role checks on observed (already owned) resources: which one plays the managed SG, which the TG of a port. */
export const isManagedSecurityGroup = (tags: Record<string, string>): boolean =>
  tags[RESOURCE_TAG] === RESOURCE_MANAGED_SG;
export const isTargetGroupOf = (tags: Record<string, string>, portKey: string): boolean =>
  tags[RESOURCE_TAG] === resourceForPort('tg', portKey);

/** True when `tags` mark a resource as owned by this controller for `cluster` (optionally for one stack). */
export function isOwned(tags: Record<string, string>, cluster: string, stack?: string): boolean {
  if (tags[clusterTagKey(cluster)] !== CLUSTER_TAG_OWNED) return false;
  if (tags[CLUSTER_NAME_TAG] !== cluster) return false;
  if (!tags[STACK_TAG]) return false;
  return stack === undefined || tags[STACK_TAG] === stack;
}

/** The resources a Create can find already taken by name, with the refusal worded for `kubectl describe`. */
const NAME_TAKEN = {
  securityGroup: (name: string) => `security group name ${name} is taken by a group this controller does not own`,
  loadBalancer: (name: string) =>
    `load balancer name "${name}" is already used by a load balancer this controller does not own; ` +
    'choose another with service.beta.kubernetes.io/aws-load-balancer-name',
  targetGroup: (name: string) => `target group name "${name}" is taken by a target group this controller does not own`,
};

/** A resource found by name after its Create said "duplicate": its id (ARN or group id) and its tags. */
export interface FoundByName {
  id?: string;
  tags: Record<string, string>;
}

/**
 * Adopt-by-name, the one ownership proof of the apply step: a Create failed because the name exists (a run that
 * crashed before observing created it). The found resource is adopted if, and only if, its tags prove it belongs to
 * this stack; anything else is a PermanentError (NameTaken), never a takeover. Returns the id to use.
 */
export function provenOwned(
  kind: keyof typeof NAME_TAKEN,
  name: string,
  found: FoundByName | undefined,
  cluster: string,
  stack: string,
): string {
  if (!found?.id || !isOwned(found.tags, cluster, stack)) throw new PermanentError(NAME_TAKEN[kind](name), 'NameTaken');
  return found.id;
}
