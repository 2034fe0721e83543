/**
 * Reads ServiceControllerProps from CDK context (cdk.json "context" or `cdk synth -c key=value`). Values from the
 * command line are always strings, values from cdk.json may be JSON arrays/numbers/booleans: both are accepted.
 * Conversion only; the rules live in config.ts so both entry points fail the same way.
 */
import type { ClusterModeProps, RemovalChoice, ServiceControllerProps } from './config.js';

type Lookup = (key: string) => unknown;

function str(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  return String(v).trim();
}

/** "a,b" or ["a","b"] -> ["a","b"]; undefined stays undefined so the construct default applies. */
function list(v: unknown): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return v.map((x) => String(x).trim()).filter((x) => x !== '');
  return String(v)
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
}

/** Numbers stay numbers; "5" -> 5; anything else is passed on as NaN so validation reports the key by name. */
function num(v: unknown): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'number') return v;
  const s = String(v).trim();
  return /^-?\d+(\.\d+)?$/.test(s) ? Number(s) : Number.NaN;
}

function bool(key: string, v: unknown): boolean | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'boolean') return v;
  const s = String(v).trim().toLowerCase();
  if (s === 'true') return true;
  if (s === 'false') return false;
  throw new Error(`context ${key}: Invalid value: ${JSON.stringify(v)}: must be true or false`);
}

export function propsFromContext(get: Lookup): ServiceControllerProps {
  const props: { -readonly [K in keyof ServiceControllerProps]: ServiceControllerProps[K] } = {
    clusterName: str(get('clusterName')) ?? '',
    vpcId: str(get('vpcId')) ?? '',
    subnetIds: list(get('subnetIds')),
    nodeSecurityGroupId: str(get('nodeSecurityGroupId')),
    nodeSelectorTag: str(get('nodeSelectorTag')),
    serviceCidr: str(get('serviceCidr')),
    nodePortRange: str(get('nodePortRange')),
    clusterDomain: str(get('clusterDomain')),
    resyncIntervalMinutes: num(get('resyncIntervalMinutes')),
    nlbQuota: num(get('nlbQuota')),
    podGcOrphanGraceSeconds: num(get('podGcOrphanGraceSeconds')),
    enableDriftRule: bool('enableDriftRule', get('enableDriftRule')),
    reserveConcurrency: bool('reserveConcurrency', get('reserveConcurrency')),
    nodeAutoScalingGroupNames: list(get('nodeAutoScalingGroupNames')),
    lifecycleHeartbeatSeconds: num(get('lifecycleHeartbeatSeconds')),
    logRetentionDays: num(get('logRetentionDays')),
    removalPolicy: str(get('removalPolicy')) as RemovalChoice | undefined,
    alarmTopicArn: str(get('alarmTopicArn')),
    metricsNamespace: str(get('metricsNamespace')),
    adminPrincipalArns: list(get('adminPrincipalArns')),
    viewPrincipalArns: list(get('viewPrincipalArns')),
    writerPrincipalArns: list(get('writerPrincipalArns')),
    clusterMode: clusterModeFromContext(get),
  };
  // Drop unset keys so `undefined` never overrides a default through object spread.
  for (const k of Object.keys(props) as (keyof typeof props)[]) if (props[k] === undefined) delete props[k];
  return props;
}

/**
 * Cluster mode from flat keys (`-c clusterModeEksClusterName=prod`): it is on when any of them is set; validation
 * (config.ts) then requires exactly one of the two auth keys.
 */
export const CLUSTER_MODE_CONTEXT_KEYS = [
  'clusterModeEksClusterName',
  'clusterModeKubeconfigSecretArn',
  'clusterModeDefaultLoadBalancerClass',
  'clusterModeDataPlane',
  'clusterModeSubnetIds',
  'clusterModeSecurityGroupIds',
] as const;

function clusterModeFromContext(get: Lookup): ClusterModeProps | undefined {
  if (CLUSTER_MODE_CONTEXT_KEYS.every((k) => get(k) === undefined || get(k) === null)) return undefined;
  // Only the keys given: both auth keys given are passed on as both, so validation names the conflict.
  const given = <T>(key: string, v: T | undefined) => (v === undefined ? {} : { [key]: v });
  const auth = {
    ...given('eksClusterName', str(get('clusterModeEksClusterName'))),
    ...given('kubeconfigSecretArn', str(get('clusterModeKubeconfigSecretArn'))),
  } as unknown as ClusterModeProps['auth'];
  return {
    auth,
    ...given(
      'defaultLoadBalancerClass',
      bool('clusterModeDefaultLoadBalancerClass', get('clusterModeDefaultLoadBalancerClass')),
    ),
    ...given('dataPlane', bool('clusterModeDataPlane', get('clusterModeDataPlane'))),
    ...given('subnetIds', list(get('clusterModeSubnetIds'))),
    ...given('securityGroupIds', list(get('clusterModeSecurityGroupIds'))),
  };
}
