/**
 * What each handler may do: exactly the AWS actions its code sends (test/infra/iam-actions.test.ts derives them from
 * the code's SDK commands and fails on a missing or an unused grant). A missing capability is an AccessDenied.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import { CLUSTER_WATCHER, type HandlerName } from './bundling.js';
import type { ResolvedClusterMode, ResolvedConfig } from './config.js';
import {
  describeLoadBalancersStatements,
  describeNetworkStatements,
  describeNodesStatements,
  eksClusterStatements,
  elbv2TargetStatements,
  elbv2WriteStatements,
  kubeconfigSecretStatements,
  lambdaVpcStatements,
  lifecycleStatements,
  securityGroupStatements,
  ssmSendStatements,
} from './iam.js';
import type { ControllerParts } from './parts.js';

export type Capability =
  /** The item operations every DynamoStore user sends (TABLE_ITEM_ACTIONS). */
  | 'tableItems'
  /** Change-log compaction (resync): BatchWriteItem of deletes. */
  | 'tableBatchWrite'
  /** ec2:DescribeInstances: node discovery. */
  | 'describeNodes'
  /** Subnets, route tables and security groups: what the load-balancer planner reads. */
  | 'describeNetwork'
  /** ELBv2 Describe*: observing the cluster's NLBs, listeners and target groups. */
  | 'describeLoadBalancers'
  /** Create, change and delete the cluster's NLBs, listeners and target groups (target registration included). */
  | 'elbv2Write'
  /** Only RegisterTargets/DeregisterTargets on the cluster's target groups (a node joined or left). */
  | 'elbv2Targets'
  | 'securityGroups'
  | 'pushQueueSend'
  /** GetObject (the last push's state, the delta base) and PutObject (bundles, manifests, state). */
  | 'artifactsReadWrite'
  | 'ssmSend'
  | 'lifecycle'
  /** Cluster mode, auth eks: eks:DescribeCluster on the one cluster. */
  | 'eksCluster'
  /** Cluster mode, auth kubeconfig: secretsmanager:GetSecretValue on the one secret. */
  | 'kubeconfigSecret'
  /** Cluster mode with subnets: Lambda's network interfaces in those subnets. */
  | 'vpcNetworkInterfaces';

export const FUNCTION_CAPABILITIES: Record<HandlerName, readonly Capability[]> = {
  // Reconciles one Service: its NLB, listeners, target groups, security groups; derives Endpoints; asks for a push.
  // No handler publishes on the bus (object changes come from the table's stream), so none may put events.
  'service-events': [
    'tableItems',
    'describeNodes',
    'describeNetwork',
    'describeLoadBalancers',
    'elbv2Write',
    'securityGroups',
    'pushQueueSend',
  ],
  // Adds/removes a node from target groups (lib/lb reconcileTargets: nothing else), completes the ASG lifecycle
  // action, asks for a push.
  'node-events': [
    'tableItems',
    'describeNodes',
    'describeNetwork',
    'describeLoadBalancers',
    'elbv2Targets',
    'pushQueueSend',
    'lifecycle',
  ],
  // Full reconcile: everything service-events does, the orphan sweep, change-log compaction. It neither reads the
  // artifacts nor SSM: stale artifacts expire by the bucket's lifecycle rules.
  resync: [
    'tableItems',
    'tableBatchWrite',
    'describeNodes',
    'describeNetwork',
    'describeLoadBalancers',
    'elbv2Write',
    'securityGroups',
    'pushQueueSend',
  ],
  // Records per-node apply results from the event itself (no SSM read); a failed node gets a new push request.
  'ssm-status': ['tableItems', 'describeNodes', 'pushQueueSend'],
  // Renders node configuration, uploads it, and runs the document on the nodes.
  'dataplane-push': ['tableItems', 'describeNodes', 'artifactsReadWrite', 'ssmSend'],
  // Cluster mode: mirrors the cluster's objects through the write path and keeps its lease and ledger in the table;
  // updates targets when a node's eligibility changes (node-events' capabilities, without the ASG hooks: the
  // cluster's own tooling drains nodes); asks for a push with the data plane on; reaches the cluster. Every entry
  // after elbv2Targets depends on the settings (CLUSTER_MODE_ONLY_IF).
  [CLUSTER_WATCHER]: [
    'tableItems',
    'describeNodes',
    'describeNetwork',
    'describeLoadBalancers',
    'elbv2Targets',
    'pushQueueSend',
    'eksCluster',
    'kubeconfigSecret',
    'vpcNetworkInterfaces',
  ],
};

/** The watcher's capabilities that depend on the clusterMode settings. */
const CLUSTER_MODE_ONLY_IF: Partial<Record<Capability, (m: ResolvedClusterMode) => boolean>> = {
  pushQueueSend: (m) => m.dataPlane,
  eksCluster: (m) => m.auth.kind === 'eks',
  kubeconfigSecret: (m) => m.auth.kind === 'kubeconfig',
  vpcNetworkInterfaces: (m) => m.vpc !== undefined,
};

/** The capabilities the handler gets with this configuration (FUNCTION_CAPABILITIES, narrowed for the watcher). */
export function capabilitiesOf(name: HandlerName, cfg: ResolvedConfig): readonly Capability[] {
  if (name !== CLUSTER_WATCHER) return FUNCTION_CAPABILITIES[name];
  const mode = cfg.clusterMode;
  if (!mode) return [];
  return FUNCTION_CAPABILITIES[name].filter((cap) => CLUSTER_MODE_ONLY_IF[cap]?.(mode) ?? true);
}

/**
 * The item-level DynamoDB actions every user of lib/store sends: GetItem, Query, PutItem, UpdateItem, DeleteItem, and
 * TransactWriteItems, which has no IAM action of its own (DynamoDB authorises each contained item operation: Put,
 * Update, Delete, ConditionCheck -> ConditionCheckItem). Nothing on the stream, no Scan, no table management.
 */
export const TABLE_ITEM_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:ConditionCheckItem',
] as const;

/** What a grant reads: the resources the statements name, and the configuration for the tag conditions. */
type GrantContext = Pick<ControllerParts, 'config' | 'table' | 'pushQueue' | 'artifactBucket' | 'documentArn'>;

const statement = (actions: string[], resources: string[]) => new iam.PolicyStatement({ actions, resources });

const CAPABILITY_STATEMENTS: Record<Capability, (c: GrantContext) => iam.PolicyStatement[]> = {
  // Named item actions on the table only, rather than grantReadWriteData()'s Scan, DescribeTable, stream reads and
  // index ARNs, which no handler uses (the store has no index).
  tableItems: (c) => [statement([...TABLE_ITEM_ACTIONS], [c.table.tableArn])],
  tableBatchWrite: (c) => [statement(['dynamodb:BatchWriteItem'], [c.table.tableArn])],
  describeNodes: () => describeNodesStatements(),
  describeNetwork: () => describeNetworkStatements(),
  describeLoadBalancers: () => describeLoadBalancersStatements(),
  elbv2Write: (c) => elbv2WriteStatements(c.config),
  elbv2Targets: (c) => elbv2TargetStatements(c.config),
  securityGroups: (c) => securityGroupStatements(c.config),
  // SendMessage only: grantSendMessages() adds GetQueueAttributes/GetQueueUrl, which the pusher never sends (it has
  // the queue URL from the environment).
  pushQueueSend: (c) => [statement(['sqs:SendMessage'], [c.pushQueue.queueArn])],
  // Named actions rather than grantReadWrite()'s s3:GetObject*/s3:List*/... wildcards. No delete or list: old
  // artifacts expire by the bucket's lifecycle rules.
  artifactsReadWrite: (c) => [statement(['s3:GetObject', 's3:PutObject'], [c.artifactBucket.arnForObjects('*')])],
  ssmSend: (c) => ssmSendStatements(c.config, c.documentArn),
  lifecycle: (c) => lifecycleStatements(c.config),
  eksCluster: (c) =>
    c.config.clusterMode?.auth.kind === 'eks' ? eksClusterStatements(c.config.clusterMode.auth.eksClusterName) : [],
  kubeconfigSecret: (c) =>
    c.config.clusterMode?.auth.kind === 'kubeconfig'
      ? kubeconfigSecretStatements(c.config.clusterMode.auth.kubeconfigSecretArn)
      : [],
  vpcNetworkInterfaces: (c) => (c.config.clusterMode?.vpc ? lambdaVpcStatements(c.config.clusterMode.vpc) : []),
};

/** Adds the statements of the handler's capabilities to its role, in FUNCTION_CAPABILITIES order. */
export function grantCapabilities(name: HandlerName, role: iam.Role, c: GrantContext): void {
  for (const cap of capabilitiesOf(name, c.config)) {
    for (const st of CAPABILITY_STATEMENTS[cap](c)) role.addToPrincipalPolicy(st);
  }
}
