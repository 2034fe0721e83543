/**
 * Controller settings read from the Lambda environment (set by the CDK construct in infra/) or, for svcctl and the
 * local mode, from the same variables. Invalid values fail fast with the variable's name: a misconfigured function
 * should crash at cold start, not reconcile with a wrong CIDR.
 */
import type { ClusterConfig } from './model/types.js';
import { ConfigError, readClusterConfig } from './cluster-env.js';
import { defaultNodeSelector, parseNodeSelector, type NodeSelector } from './nodes/selector.js';
import { DEFAULT_ORPHAN_GRACE_SECONDS } from './controller/node-lifecycle.js';

export interface ControllerEnv {
  cluster: ClusterConfig;
  tableName: string;
  eventBusName: string;
  vpcId?: string;
  subnetIds: string[];
  nodeSecurityGroupId?: string;
  /** The EC2 tag that marks cluster nodes (NODE_SELECTOR_TAG `key=v1[,v2]`); default the cluster tag, owned|shared. */
  nodeSelector: NodeSelector;
  artifactBucket?: string;
  ssmDocumentName?: string;
  pushQueueUrl?: string;
  nlbQuota: number;
  /** How long the change log keeps entries (seconds): what a watch may resume from; resync compacts the rest. */
  logRetentionSeconds: number;
  /** Pods bound to a node gone this long are deleted (POD_GC_ORPHAN_GRACE_SECONDS; podgc's quarantine, 40 s). */
  podGcOrphanGraceSeconds: number;
}

export { ConfigError } from './cluster-env.js';

export function readControllerEnv(env: NodeJS.ProcessEnv = process.env): ControllerEnv {
  const get = (k: string) => (env[k] ?? '').trim() || undefined;
  const cluster = readClusterConfig(env);
  const clusterName = cluster.clusterName;
  const sel = get('NODE_SELECTOR_TAG');
  const parsed = sel === undefined ? { selector: defaultNodeSelector(clusterName) } : parseNodeSelector(sel);
  if (!parsed.selector) throw new ConfigError(`NODE_SELECTOR_TAG: ${parsed.error}, got "${sel}"`);
  const quota = Number(get('NLB_QUOTA') ?? '50');
  if (!Number.isInteger(quota) || quota < 1) throw new ConfigError(`NLB_QUOTA: expected a positive integer`);
  const retention = Number(get('LOG_RETENTION_SECONDS') ?? '600');
  if (!Number.isInteger(retention) || retention < 60) {
    throw new ConfigError('LOG_RETENTION_SECONDS: expected an integer of at least 60');
  }
  const grace = Number(get('POD_GC_ORPHAN_GRACE_SECONDS') ?? String(DEFAULT_ORPHAN_GRACE_SECONDS));
  if (!Number.isInteger(grace) || grace < 0)
    throw new ConfigError('POD_GC_ORPHAN_GRACE_SECONDS: expected a whole number of seconds, at least 0');
  return {
    cluster,
    tableName: get('TABLE_NAME') ?? 'serverless-service-controller',
    eventBusName: get('EVENT_BUS_NAME') ?? 'serverless-service-controller',
    vpcId: get('VPC_ID'),
    subnetIds: (get('SUBNET_IDS') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    nodeSecurityGroupId: get('NODE_SECURITY_GROUP_ID'),
    nodeSelector: parsed.selector,
    artifactBucket: get('ARTIFACT_BUCKET'),
    ssmDocumentName: get('SSM_DOCUMENT_NAME'),
    pushQueueUrl: get('PUSH_QUEUE_URL'),
    nlbQuota: quota,
    logRetentionSeconds: retention,
    podGcOrphanGraceSeconds: grace,
  };
}
