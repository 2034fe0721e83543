/**
 * Controller settings read from the Lambda environment (set by the CDK construct in infra/) or, for svcctl and the
 * local mode, from the same variables. Invalid values fail fast with the variable's name: a misconfigured function
 * should crash at cold start, not reconcile with a wrong CIDR.
 */
import { parseCidr } from './model/ip.js';
import { DEFAULT_CLUSTER_CONFIG, type ClusterConfig } from './model/types.js';

export interface ControllerEnv {
  cluster: ClusterConfig;
  tableName: string;
  eventBusName: string;
  vpcId?: string;
  subnetIds: string[];
  nodeSecurityGroupId?: string;
  /** key=value tag that marks cluster nodes; default kubernetes.io/cluster/<clusterName>=owned. */
  nodeSelectorTag: { key: string; value: string };
  artifactBucket?: string;
  ssmDocumentName?: string;
  pushQueueUrl?: string;
  nlbQuota: number;
}

export class ConfigError extends Error {}

function parseRange(text: string, name: string): { min: number; max: number } {
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(text.trim());
  const min = m ? Number(m[1]) : NaN;
  const max = m ? Number(m[2]) : NaN;
  if (!m || min < 1 || max > 65535 || min > max)
    throw new ConfigError(`${name}: expected MIN-MAX within 1-65535, got "${text}"`);
  return { min, max };
}

export function readControllerEnv(env: NodeJS.ProcessEnv = process.env): ControllerEnv {
  const get = (k: string) => (env[k] ?? '').trim() || undefined;
  const clusterName = get('CLUSTER_NAME') ?? DEFAULT_CLUSTER_CONFIG.clusterName;
  const serviceCidr = get('SERVICE_CIDR') ?? DEFAULT_CLUSTER_CONFIG.serviceCidr;
  if (!parseCidr(serviceCidr)) throw new ConfigError(`SERVICE_CIDR: not an IPv4 CIDR: "${serviceCidr}"`);
  const nodePortRange = get('NODE_PORT_RANGE')
    ? parseRange(get('NODE_PORT_RANGE')!, 'NODE_PORT_RANGE')
    : DEFAULT_CLUSTER_CONFIG.nodePortRange;
  const sel = get('NODE_SELECTOR_TAG') ?? `kubernetes.io/cluster/${clusterName}=owned`;
  const eq = sel.indexOf('=');
  if (eq <= 0) throw new ConfigError(`NODE_SELECTOR_TAG: expected key=value, got "${sel}"`);
  const quota = Number(get('NLB_QUOTA') ?? '50');
  if (!Number.isInteger(quota) || quota < 1) throw new ConfigError(`NLB_QUOTA: expected a positive integer`);
  return {
    cluster: {
      clusterName,
      serviceCidr,
      nodePortRange,
      clusterDomain: get('CLUSTER_DOMAIN') ?? DEFAULT_CLUSTER_CONFIG.clusterDomain,
    },
    tableName: get('TABLE_NAME') ?? 'serverless-service-controller',
    eventBusName: get('EVENT_BUS_NAME') ?? 'serverless-service-controller',
    vpcId: get('VPC_ID'),
    subnetIds: (get('SUBNET_IDS') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    nodeSecurityGroupId: get('NODE_SECURITY_GROUP_ID'),
    nodeSelectorTag: { key: sel.slice(0, eq), value: sel.slice(eq + 1) },
    artifactBucket: get('ARTIFACT_BUCKET'),
    ssmDocumentName: get('SSM_DOCUMENT_NAME'),
    pushQueueUrl: get('PUSH_QUEUE_URL'),
    nlbQuota: quota,
  };
}
