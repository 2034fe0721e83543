/**
 * The Kubernetes names cluster mode writes to a cluster's objects and to their mirrors, in one place. Domain-prefixed
 * with this project's name, as cloud-provider-aws uses `service.kubernetes.io/...` and aws-load-balancer-controller
 * `service.k8s.aws/...`, so none of them is mistaken for another controller's.
 *
 * Pure: no AWS SDK, no Kubernetes client.
 */
const DOMAIN = 'serverless-service-controller.io';

/** Our spec.loadBalancerClass: Services of this class are ours in cluster mode (and in the standalone API). */
export const OWN_LOAD_BALANCER_CLASS = `${DOMAIN}/nlb`;
/**
 * Held on a cluster's Service from before its first AWS resource exists until the last one is gone, as
 * cloud-provider-aws holds `service.kubernetes.io/load-balancer-cleanup`; the mirror in our store carries it too, and
 * the controller removes it there once the NLB is deleted.
 */
export const LB_CLEANUP_FINALIZER = `${DOMAIN}/load-balancer-cleanup`;
/** On a mirror: which cluster object it copies (its uid) and at which of that cluster's resourceVersions. */
export const SOURCE_UID_ANNOTATION = `${DOMAIN}/source-uid`;
export const SOURCE_RV_ANNOTATION = `${DOMAIN}/source-resource-version`;
/** The component name of the Events written back to the cluster (`kubectl describe` shows it as From). */
export const EVENT_SOURCE_COMPONENT = 'serverless-service-controller';
