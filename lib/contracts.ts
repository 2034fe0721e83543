/**
 * Names the deployed infrastructure (infra/) and the handlers' code (lib/, functions/) must agree on, in one place:
 * the EventBridge events the rules match and the handlers classify, the custom metrics the handlers publish and the
 * alarms watch, the throttling error codes counted as `Throttled`, and the cluster ownership tag key. A copy in each
 * side would drift silently (a renamed metric leaves its alarm watching nothing; a changed detail-type leaves the
 * rule matching events the handler ignores).
 *
 * Pure: no AWS SDK, no CDK, no imports from tools/ (infra imports this module at synth time).
 */

/** The AWS events the controller consumes: the rule's `source` and `detail-type`, and what the handler switches on. */
export const AWS_EVENTS = {
  /** EC2 instance state changes (node up/down): node-events. */
  instanceStateChange: { source: 'aws.ec2', detailType: 'EC2 Instance State-change Notification' },
  /** Spot interruption warnings, two minutes before the instance goes: node-events. */
  spotInterruption: { source: 'aws.ec2', detailType: 'EC2 Spot Instance Interruption Warning' },
  /** Auto Scaling termination lifecycle hook delivered to EventBridge: node-events. */
  terminateLifecycleAction: { source: 'aws.autoscaling', detailType: 'EC2 Instance-terminate Lifecycle Action' },
  /** Run Command invocation results of the data-plane document: ssm-status. */
  commandInvocationStatus: { source: 'aws.ssm', detailType: 'EC2 Command Invocation Status-change Notification' },
  /** ELBv2 API calls recorded by CloudTrail (the optional drift rule): resync. */
  elbv2ApiCall: { source: 'aws.elasticloadbalancing', detailType: 'AWS API Call via CloudTrail' },
} as const;

/**
 * The source object-change events used to have on the controller's bus: nobody may put them any more (the bus policy
 * refuses it; docs/events.md).
 */
export const OBJECT_EVENT_SOURCE = 'serverless-service-controller';

/** POWERTOOLS_SERVICE_NAME: the `service` dimension of every custom metric, and the default when the variable is unset. */
export const POWERTOOLS_SERVICE_NAME = 'serverless-service-controller';

/** POWERTOOLS_METRICS_NAMESPACE when the metricsNamespace prop is not set. */
export const DEFAULT_METRICS_NAMESPACE = 'ServerlessServiceController';

/** Metric names the handlers publish through Powertools Metrics. */
export const METRIC = {
  reconcileErrors: 'ReconcileErrors',
  permanentErrors: 'PermanentErrors',
  throttled: 'Throttled',
  ssmCommandFailures: 'SsmCommandFailures',
  /** A node failed every retry of its data plane and is left alone until something changes for it. */
  dataPlaneNodeFailing: 'DataPlaneNodeFailing',
} as const;

/** The metrics the alarms and the dashboard of infra/ watch (PermanentErrors is logged and counted, not alarmed). */
export const ALARMED_METRICS = [
  METRIC.reconcileErrors,
  METRIC.throttled,
  METRIC.ssmCommandFailures,
  METRIC.dataPlaneNodeFailing,
] as const;

/** Error names AWS APIs answer a throttled request with (ELBv2, EC2, SSM, DynamoDB): counted as `Throttled`. */
export const THROTTLE_ERROR_CODES = [
  'Throttling',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
] as const;

/**
 * The cluster ownership tag key shared with cloud-provider-aws and the AWS load balancer controller; IAM conditions
 * in infra/ let the controller mutate only resources carrying it with the value `owned`.
 */
export const clusterTagKey = (cluster: string): string => `kubernetes.io/cluster/${cluster}`;
/** The ownership tag's value on resources the controller created (and alone may change or delete). */
export const CLUSTER_TAG_OWNED = 'owned';

/**
 * Cluster mode (docs/cluster-mode.md): the watcher function serves an existing cluster's Services from outside it.
 * The CDK construct sets these variables on the watcher; lib/cluster/config.ts reads them back, so the names live here.
 */
export const CLUSTER_MODE_ENV = {
  /** `eks` (the function's IAM role, an EKS access entry) or `kubeconfig` (a kubeconfig held in Secrets Manager). */
  auth: 'CLUSTER_MODE_AUTH',
  /** The EKS cluster's name (auth `eks`): its endpoint and CA come from eks:DescribeCluster. */
  eksClusterName: 'CLUSTER_MODE_EKS_CLUSTER',
  /** The ARN of the secret whose SecretString is a kubeconfig (auth `kubeconfig`). */
  kubeconfigSecretArn: 'CLUSTER_MODE_KUBECONFIG_SECRET_ARN',
  /** `true`: class-less LoadBalancer Services are ours too (the cluster's CCM must then be told to skip them). */
  defaultLoadBalancerClass: 'CLUSTER_MODE_DEFAULT_CLASS',
  /** `true`: Pods and every Service are mirrored too, and the data plane replaces kube-proxy on the nodes it manages. */
  dataPlane: 'CLUSTER_MODE_DATA_PLANE',
  /** How long one invocation watches, in seconds (the function's timeout minus a margin for the last writes). */
  runSeconds: 'CLUSTER_WATCHER_RUN_SECONDS',
} as const;

/** The watcher's schedule: a start every minute; one holds the lease, the others stand by or return at once. */
export const CLUSTER_WATCHER_SCHEDULE_MINUTES = 1;
/** The watcher's Lambda timeout; it watches until CLUSTER_WATCHER_MARGIN_SECONDS before it. */
export const CLUSTER_WATCHER_TIMEOUT_SECONDS = 900;
export const CLUSTER_WATCHER_MARGIN_SECONDS = 30;
/**
 * The EKS API actions the watcher calls (auth `eks`): DescribeCluster for the endpoint and CA. The Kubernetes API
 * itself authorizes the role through an EKS access entry (docs/cluster-mode.md), not through IAM actions.
 */
export const CLUSTER_WATCHER_EKS_ACTIONS = ['eks:DescribeCluster'] as const;
