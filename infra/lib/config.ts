/**
 * Props of the ServiceController construct, their defaults, and the validation that turns them into one resolved,
 * internally consistent configuration. Pure: no CDK constructs and no AWS SDK, so it is cheap to test and the same
 * rules apply whether values come from TypeScript props or from `cdk -c key=value` strings (see context.ts).
 */
import { clusterTagKey, DEFAULT_METRICS_NAMESPACE } from '../../lib/contracts.js';
import type { FieldError } from '../../lib/model/field-errors.js';
import { invalid, required, throwIfInvalid, tooLong } from '../../lib/model/field-errors.js';
import { DEFAULT_CLUSTER_CONFIG } from '../../lib/model/types.js';
import { DEFAULT_ORPHAN_GRACE_SECONDS } from '../../lib/controller/node-lifecycle.js';
import { defaultNodeSelector, parseNodeSelector, type NodeSelector } from '../../lib/nodes/selector.js';
import { resolveClusterMode, type ClusterModeProps, type ResolvedClusterMode } from './cluster-mode-config.js';

export type { ClusterModeAuthProps, ClusterModeProps, ResolvedClusterMode } from './cluster-mode-config.js';

export type RemovalChoice = 'retain' | 'destroy';

export interface ServiceControllerProps {
  /**
   * Kubernetes cluster name. Resources the controller creates are tagged `kubernetes.io/cluster/<clusterName>=owned`
   * and IAM only lets it mutate resources carrying that tag. Required. 1-100 characters, letters, digits, '-' and
   * '_', starting with a letter or digit (the EKS cluster-name rule, so the tag key is valid everywhere).
   */
  readonly clusterName: string;
  /** The cluster's VPC (`vpc-...`). Required: taken as an ID so synth needs no lookup. */
  readonly vpcId: string;
  /**
   * Ignored, and optional: the controller discovers each NLB's subnets in the VPC by their tags, as cloud-provider-aws
   * does (lib/lb/subnets.ts). Still validated when given (`subnet-...` IDs, no duplicates), so configurations that
   * set it keep deploying unchanged.
   * @deprecated subnets are discovered; tag them instead (docs/deploy.md).
   */
  readonly subnetIds?: readonly string[];
  /**
   * Reserve concurrency 1 for resync and dataplane-push (one full reconcile and one data-plane push at a time).
   * Default false: an account whose concurrency quota is below 11 refuses any reservation at deploy time (Lambda keeps
   * at least 10 unreserved), and new accounts start there. Unreserved, dataplane-push's queue poller runs at most 2
   * invocations at once (SQS event source maximum concurrency, whose minimum is 2) and resync is not limited.
   */
  readonly reserveConcurrency?: boolean;
  /**
   * Security group of the nodes (`sg-...`). When set, the controller may add/remove NodePort ingress rules on it (and
   * only on it). Default: none; NLB traffic must then be allowed to the nodes by the operator.
   */
  readonly nodeSecurityGroupId?: string;
  /**
   * EC2 tag that marks a node, `key=value` or `key=v1,v2` (any of the values). Default
   * `kubernetes.io/cluster/<clusterName>=owned,shared` (cloud-provider-aws: either value means cluster membership).
   * Discovery, target registration, SendCommand targeting and its IAM condition all use this one selector.
   */
  readonly nodeSelectorTag?: string;
  /** IPv4 service CIDR (kube-apiserver --service-cluster-ip-range). Default `10.96.0.0/12`. */
  readonly serviceCidr?: string;
  /** NodePort range `min-max` (kube-apiserver --service-node-port-range). Default `30000-32767`. */
  readonly nodePortRange?: string;
  /** Cluster DNS domain. Default `cluster.local`. */
  readonly clusterDomain?: string;
  /** Minutes between full resyncs (drift repair and garbage collection). Whole minutes, >= 1. Default 5. */
  readonly resyncIntervalMinutes?: number;
  /** How many NLBs the controller may own (the account's "Network Load Balancers per Region" quota). Default 50. */
  readonly nlbQuota?: number;
  /**
   * Seconds a node must be gone before the Pods bound to it are deleted (podgc's orphan quarantine). Default `40`.
   */
  readonly podGcOrphanGraceSeconds?: number;
  /**
   * Also resync when someone else mutates load balancers (EventBridge "AWS API Call via CloudTrail" events for
   * ELBv2). Needs a CloudTrail trail logging management events in the region. Default false.
   */
  readonly enableDriftRule?: boolean;
  /**
   * Names of the node Auto Scaling groups. Each gets a termination lifecycle hook so the controller can deregister a
   * node from its target groups before EC2 terminates it. Default none.
   */
  readonly nodeAutoScalingGroupNames?: readonly string[];
  /** Seconds a terminating node waits for the controller before the lifecycle default applies. 30-7200, default 300. */
  readonly lifecycleHeartbeatSeconds?: number;
  /** Days to keep Lambda logs. Default 30. */
  readonly logRetentionDays?: number;
  /** What happens to the table and buckets when the stack is deleted. Default 'retain'. */
  readonly removalPolicy?: RemovalChoice;
  /** SNS topic ARN that alarms notify. Default: alarms without actions (visible on the dashboard). */
  readonly alarmTopicArn?: string;
  /** CloudWatch namespace of the handlers' Powertools metrics. Default `ServerlessServiceController`. */
  readonly metricsNamespace?: string;
  /**
   * Who may use the Kubernetes API (the ApiUrl output), by IAM role or user ARN
   * (`arn:aws:iam::123456789012:role/ops`, a path may be included). Callers authenticate with EKS-format tokens
   * (`svcctl token`); an assumed-role session counts as its role. admin: everything; view: get, list, watch;
   * writer: view plus writes of Pods, pods/status and Endpoints (producers). Anyone else is refused (403).
   * Default: nobody.
   */
  readonly adminPrincipalArns?: readonly string[];
  readonly viewPrincipalArns?: readonly string[];
  readonly writerPrincipalArns?: readonly string[];
  /**
   * Cluster mode: serve the LoadBalancer Services of an EXISTING Kubernetes cluster. A watcher function, started every
   * minute, list+watches the cluster's API server from outside it (holding a lease in the table), mirrors its Services
   * (and Nodes' eligibility) into the store and writes status and Events back. `auth`: exactly one of
   * `{ eksClusterName }` (an EKS cluster in this account and region; the watcher's role needs an EKS access entry) or
   * `{ kubeconfigSecretArn }` (a Secrets Manager secret holding a kubeconfig). `subnetIds` + `securityGroupIds` (both
   * or neither) put the watcher in vpcId to reach a private endpoint. Default: off (docs/deploy.md, "Cluster mode").
   */
  readonly clusterMode?: ClusterModeProps;
}

export type ApiRole = 'admin' | 'view' | 'writer';

/** Every prop with its default applied, plus values derived from them. */
export interface ResolvedConfig {
  readonly clusterName: string;
  readonly vpcId: string;
  /** Validated, not used (see ServiceControllerProps.subnetIds). */
  readonly subnetIds: readonly string[];
  readonly nodeSecurityGroupId: string | undefined;
  readonly reserveConcurrency: boolean;
  readonly nodeSelector: NodeSelector;
  readonly serviceCidr: string;
  readonly nodePortRange: { readonly min: number; readonly max: number };
  readonly clusterDomain: string;
  readonly resyncIntervalMinutes: number;
  readonly nlbQuota: number;
  readonly podGcOrphanGraceSeconds: number;
  readonly enableDriftRule: boolean;
  readonly nodeAutoScalingGroupNames: readonly string[];
  readonly lifecycleHeartbeatSeconds: number;
  readonly logRetentionDays: number;
  readonly removalPolicy: RemovalChoice;
  readonly alarmTopicArn: string | undefined;
  readonly metricsNamespace: string;
  /** `kubernetes.io/cluster/<clusterName>`: the ownership tag key of cloud-provider-aws. */
  readonly clusterTagKey: string;
  /** The API's role mapping, from adminPrincipalArns, viewPrincipalArns and writerPrincipalArns. */
  readonly apiPrincipals: readonly { readonly arn: string; readonly role: ApiRole }[];
  /** Cluster mode's settings with defaults applied; undefined when the clusterMode prop is not set. */
  readonly clusterMode: ResolvedClusterMode | undefined;
}

export const DEFAULTS = {
  serviceCidr: DEFAULT_CLUSTER_CONFIG.serviceCidr,
  nodePortRange: `${DEFAULT_CLUSTER_CONFIG.nodePortRange.min}-${DEFAULT_CLUSTER_CONFIG.nodePortRange.max}`,
  clusterDomain: DEFAULT_CLUSTER_CONFIG.clusterDomain,
  resyncIntervalMinutes: 5,
  // The default AWS quota "Network Load Balancers per Region".
  nlbQuota: 50,
  podGcOrphanGraceSeconds: DEFAULT_ORPHAN_GRACE_SECONDS,
  lifecycleHeartbeatSeconds: 300,
  logRetentionDays: 30,
  removalPolicy: 'retain' as RemovalChoice,
  metricsNamespace: DEFAULT_METRICS_NAMESPACE,
} as const;

/** CloudWatch Logs only accepts these retention periods (PutRetentionPolicy). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const CLUSTER_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const VPC_ID = /^vpc-[0-9a-f]{8}([0-9a-f]{9})?$/;
const SUBNET_ID = /^subnet-[0-9a-f]{8}([0-9a-f]{9})?$/;
const SG_ID = /^sg-[0-9a-f]{8}([0-9a-f]{9})?$/;
// IAM role ARN in any partition; the path may contain slashes.
const SNS_ARN = /^arn:aws(-cn|-us-gov)?:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;
// Auto Scaling group names: 1-255 characters, no colon (the ARN separator).
const ASG_NAME = /^[^:\s][^:]{0,254}$/;
// AWS tag keys/values: printable, the characters AWS documents for tags; keys may not start with "aws:".
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
// CloudWatch namespaces: alphanumerics and . - _ / # : and space, not starting with "AWS/".
const CW_NAMESPACE = /^[A-Za-z0-9.\-_/#: ]{1,255}$/;

// IAM role or user ARN in any partition, with an optional path (what the API's role mapping matches).
const PRINCIPAL_ARN = /^arn:aws(-[a-z]+)*:iam::\d{12}:(role|user)\/([\w+=,.@-]+\/)*[\w+=,.@-]{1,128}$/;

const ROLE_PROPS: readonly [ApiRole, 'adminPrincipalArns' | 'viewPrincipalArns' | 'writerPrincipalArns'][] = [
  ['admin', 'adminPrincipalArns'],
  ['view', 'viewPrincipalArns'],
  ['writer', 'writerPrincipalArns'],
];

/** The API's role mapping: each ARN once, in one role. */
function validatePrincipals(props: ServiceControllerProps): {
  principals: { arn: string; role: ApiRole }[];
  errors: FieldError[];
} {
  const principals: { arn: string; role: ApiRole }[] = [];
  const errors: FieldError[] = [];
  for (const [role, field] of ROLE_PROPS) {
    (props[field] ?? [])
      .map((a) => a.trim())
      .filter(Boolean)
      .forEach((arn, i) => {
        if (!PRINCIPAL_ARN.test(arn))
          errors.push(
            invalid(
              `${field}[${i}]`,
              arn,
              'must be an IAM role or user ARN (an assumed-role session counts as its role: give the role)',
            ),
          );
        else if (principals.some((p) => p.arn === arn))
          errors.push({ type: 'Duplicate', field: `${field}[${i}]`, value: arn });
        else principals.push({ arn, role });
      });
  }
  return { principals, errors };
}

/** Parses dotted-quad IPv4; undefined when malformed. */
function parseIPv4(s: string): number | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

function formatIPv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

function validateServiceCidr(field: string, cidr: string): FieldError[] {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(cidr);
  const ip = m ? parseIPv4(m[1] ?? '') : undefined;
  const bits = m ? Number(m[2]) : NaN;
  if (!m || ip === undefined || bits > 32) {
    return [invalid(field, cidr, 'must be an IPv4 CIDR such as 10.96.0.0/12')];
  }
  // kube-apiserver refuses IPv4 service ranges larger than /12 (at most 20 host bits for the allocator bitmap).
  if (bits < 12) return [invalid(field, cidr, 'the prefix length must be 12 or more (kube-apiserver limit)')];
  // A /31 or /32 leaves no allocatable ClusterIP besides the reserved kubernetes Service address.
  if (bits > 28) return [invalid(field, cidr, 'the prefix length must be 28 or less to leave room for ClusterIPs')];
  const size = 2 ** (32 - bits);
  if (ip % size !== 0) {
    return [invalid(field, cidr, `host bits must be zero (did you mean ${formatIPv4(ip - (ip % size))}/${bits}?)`)];
  }
  return [];
}

function parsePortRange(field: string, s: string): { range?: { min: number; max: number }; errors: FieldError[] } {
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(s.trim());
  if (!m) return { errors: [invalid(field, s, 'must be "min-max", e.g. "30000-32767"')] };
  const min = Number(m[1]);
  const max = Number(m[2]);
  if (min < 1 || max > 65535) return { errors: [invalid(field, s, 'ports must be within 1-65535')] };
  if (min > max) return { errors: [invalid(field, s, 'min must not be greater than max')] };
  return { range: { min, max }, errors: [] };
}

function validateSelector(field: string, s: string | undefined, clusterName: string) {
  if (s === undefined) return { selector: defaultNodeSelector(clusterName), errors: [] };
  const r = parseNodeSelector(s);
  return { selector: r.selector, errors: r.error ? [invalid(field, s, r.error)] : [] };
}

function isInt(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n);
}

/**
 * Applies defaults and validates. Throws InvalidError with every problem at once, worded like the API server
 * (`ServiceController "<id>" is invalid: [clusterName: Required value, ...]`), so a bad deploy fails at synth time
 * instead of half-way through a CloudFormation update.
 */
export function resolveConfig(props: ServiceControllerProps, id = 'ServiceController'): ResolvedConfig {
  const errs: FieldError[] = [];
  // Each part pushes its problems onto errs, in the order the props are documented.
  const where = resolvePlacement(props, errs);
  const selResult = validateSelector('nodeSelectorTag', props.nodeSelectorTag, where.clusterName);
  errs.push(...selResult.errors);
  const net = resolveNetwork(props, errs);
  const ops = resolveReconcileSettings(props, errs);
  const nodes = resolveNodeLifecycle(props, errs);
  const obs = resolveOperations(props, errs);
  const api = validatePrincipals(props);
  errs.push(...api.errors);
  const clusterMode = resolveClusterMode(props.clusterMode, errs);

  throwIfInvalid('ServiceController', id, errs);
  // After throwIfInvalid every optional parse result is present.
  return {
    ...where,
    nodeSelector: selResult.selector!,
    serviceCidr: net.serviceCidr,
    nodePortRange: net.portResult.range!,
    clusterDomain: net.clusterDomain,
    ...ops,
    enableDriftRule: props.enableDriftRule ?? false,
    reserveConcurrency: props.reserveConcurrency ?? false,
    ...nodes,
    ...obs,
    clusterTagKey: clusterTagKey(where.clusterName),
    apiPrincipals: api.principals,
    clusterMode,
  };
}

/** Cluster name, VPC, subnets and node security group. */
function resolvePlacement(props: ServiceControllerProps, errs: FieldError[]) {
  const clusterName = (props.clusterName ?? '').trim();
  if (!clusterName) errs.push(required('clusterName'));
  else if (clusterName.length > 100) errs.push(tooLong('clusterName', 100));
  else if (!CLUSTER_NAME.test(clusterName)) {
    errs.push(invalid('clusterName', clusterName, 'must start with a letter or digit and contain only [A-Za-z0-9_-]'));
  }

  const vpcId = (props.vpcId ?? '').trim();
  if (!vpcId) errs.push(required('vpcId'));
  else if (!VPC_ID.test(vpcId)) errs.push(invalid('vpcId', vpcId, 'must be a VPC ID such as vpc-0123456789abcdef0'));

  const subnetIds = (props.subnetIds ?? []).map((s) => s.trim()).filter((s) => s !== '');
  subnetIds.forEach((s, i) => {
    if (!SUBNET_ID.test(s)) errs.push(invalid(`subnetIds[${i}]`, s, 'must be a subnet ID such as subnet-0123abcd'));
  });
  const seen = new Set<string>();
  subnetIds.forEach((s, i) => {
    if (seen.has(s)) errs.push({ type: 'Duplicate', field: `subnetIds[${i}]`, value: s });
    seen.add(s);
  });

  const nodeSecurityGroupId = props.nodeSecurityGroupId?.trim() || undefined;
  if (nodeSecurityGroupId !== undefined && !SG_ID.test(nodeSecurityGroupId)) {
    errs.push(invalid('nodeSecurityGroupId', nodeSecurityGroupId, 'must be a security group ID such as sg-0123abcd'));
  }
  return { clusterName, vpcId, subnetIds, nodeSecurityGroupId };
}

/** Service CIDR, NodePort range and cluster domain. */
function resolveNetwork(props: ServiceControllerProps, errs: FieldError[]) {
  const serviceCidr = props.serviceCidr ?? DEFAULTS.serviceCidr;
  errs.push(...validateServiceCidr('serviceCidr', serviceCidr));

  const portResult = parsePortRange('nodePortRange', props.nodePortRange ?? DEFAULTS.nodePortRange);
  errs.push(...portResult.errors);

  const clusterDomain = (props.clusterDomain ?? DEFAULTS.clusterDomain).replace(/\.$/, '');
  if (clusterDomain.length > 253 || !clusterDomain.split('.').every((l) => DNS_LABEL.test(l))) {
    errs.push(invalid('clusterDomain', clusterDomain, 'must be a lower-case DNS name such as cluster.local'));
  }
  return { serviceCidr, portResult, clusterDomain };
}

/** Resync interval, NLB quota and the pod GC grace. */
function resolveReconcileSettings(props: ServiceControllerProps, errs: FieldError[]) {
  const resync = props.resyncIntervalMinutes ?? DEFAULTS.resyncIntervalMinutes;
  // EventBridge Scheduler rate() expressions take whole minutes and the smallest rate is 1 minute.
  if (!isInt(resync) || resync < 1) {
    errs.push(invalid('resyncIntervalMinutes', resync, 'must be a whole number of minutes, at least 1'));
  } else if (resync > 1440) {
    errs.push(invalid('resyncIntervalMinutes', resync, 'must be at most 1440 (one day): drift would go unrepaired'));
  }

  const nlbQuota = props.nlbQuota ?? DEFAULTS.nlbQuota;
  if (!isInt(nlbQuota) || nlbQuota < 1) errs.push(invalid('nlbQuota', nlbQuota, 'must be a positive integer'));
  const podGcOrphanGraceSeconds = props.podGcOrphanGraceSeconds ?? DEFAULTS.podGcOrphanGraceSeconds;
  if (!isInt(podGcOrphanGraceSeconds) || podGcOrphanGraceSeconds < 0)
    errs.push(
      invalid('podGcOrphanGraceSeconds', podGcOrphanGraceSeconds, 'must be a whole number of seconds, at least 0'),
    );
  return { resyncIntervalMinutes: resync, nlbQuota, podGcOrphanGraceSeconds };
}

/** The Auto Scaling groups whose termination hooks the controller completes, and the hooks' heartbeat. */
function resolveNodeLifecycle(props: ServiceControllerProps, errs: FieldError[]) {
  const asgs = [...(props.nodeAutoScalingGroupNames ?? [])].map((s) => s.trim()).filter((s) => s !== '');
  asgs.forEach((a, i) => {
    if (!ASG_NAME.test(a))
      errs.push(invalid(`nodeAutoScalingGroupNames[${i}]`, a, 'not a valid Auto Scaling group name'));
  });
  if (new Set(asgs).size !== asgs.length) {
    errs.push(invalid('nodeAutoScalingGroupNames', asgs.join(','), 'names must be unique'));
  }

  const heartbeat = props.lifecycleHeartbeatSeconds ?? DEFAULTS.lifecycleHeartbeatSeconds;
  // PutLifecycleHook HeartbeatTimeout: 30 to 7200 seconds.
  if (!isInt(heartbeat) || heartbeat < 30 || heartbeat > 7200) {
    errs.push(invalid('lifecycleHeartbeatSeconds', heartbeat, 'must be a whole number of seconds from 30 to 7200'));
  }
  return { nodeAutoScalingGroupNames: asgs, lifecycleHeartbeatSeconds: heartbeat };
}

/** Logs, removal policy, alarm topic and metrics namespace. */
function resolveOperations(props: ServiceControllerProps, errs: FieldError[]) {
  const logRetentionDays = props.logRetentionDays ?? DEFAULTS.logRetentionDays;
  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(logRetentionDays)) {
    const detail = `supported values: ${LOG_RETENTION_DAYS.join(', ')}`;
    errs.push({ type: 'NotSupported', field: 'logRetentionDays', value: logRetentionDays, detail });
  }

  const removalPolicy = props.removalPolicy ?? DEFAULTS.removalPolicy;
  if (removalPolicy !== 'retain' && removalPolicy !== 'destroy') {
    const detail = 'supported values: "destroy", "retain"';
    errs.push({ type: 'NotSupported', field: 'removalPolicy', value: removalPolicy, detail });
  }

  const alarmTopicArn = props.alarmTopicArn?.trim() || undefined;
  if (alarmTopicArn !== undefined && !SNS_ARN.test(alarmTopicArn)) {
    errs.push(invalid('alarmTopicArn', alarmTopicArn, 'must be an SNS topic ARN'));
  }

  const metricsNamespace = props.metricsNamespace ?? DEFAULTS.metricsNamespace;
  if (!CW_NAMESPACE.test(metricsNamespace) || metricsNamespace.startsWith('AWS/')) {
    errs.push(invalid('metricsNamespace', metricsNamespace, 'not a valid custom CloudWatch namespace'));
  }
  return { logRetentionDays, removalPolicy, alarmTopicArn, metricsNamespace };
}
