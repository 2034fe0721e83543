/**
 * The controller's handlers: one bundled Node 22 function per entry of functions/, each with its own log group and
 * its own role holding exactly its capabilities (grants.ts).
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as lambdaDestinations from 'aws-cdk-lib/aws-lambda-destinations';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { join } from 'node:path';
import {
  CLUSTER_WATCHER,
  EXTERNAL_MODULES,
  ESBUILD_TARGET,
  ESM_REQUIRE_BANNER,
  MAIN_FIELDS,
  REPO_ROOT,
  deployedHandlers,
  handlerEntry,
  type BundleName,
  type HandlerName,
} from './bundling.js';
import {
  CLUSTER_MODE_ENV,
  CLUSTER_WATCHER_MARGIN_SECONDS,
  CLUSTER_WATCHER_TIMEOUT_SECONDS,
} from '../../lib/contracts.js';
import { PUSH_FUNCTION_TIMEOUT_SECONDS } from '../../lib/dataplane/push-lease.js';
import { formatNodeSelector } from '../../lib/nodes/selector.js';
import type { ResolvedClusterMode, ResolvedConfig } from './config.js';
import { grantCapabilities } from './grants.js';
import type { ControllerParts, HandlerMap, Handlers } from './parts.js';

/**
 * Handlers invoked asynchronously (EventBridge rules, Scheduler) rather than by an SQS event source mapping, with
 * Lambda's retries of a failed invocation; after them the event lands in the delivery DLQ.
 */
const ASYNC_HANDLERS: Partial<Record<HandlerName, { retryAttempts: number; maxEventAge: Duration }>> = {
  'node-events': { retryAttempts: 2, maxEventAge: Duration.hours(1) },
  resync: { retryAttempts: 2, maxEventAge: Duration.hours(1) },
  'ssm-status': { retryAttempts: 2, maxEventAge: Duration.hours(1) },
  // A new watcher starts every minute and takes the lease over: a retried run would only stand by behind it. Failed
  // runs still reach the DLQ (and its alarm). 60 s is the shortest event age Lambda accepts.
  [CLUSTER_WATCHER]: { retryAttempts: 0, maxEventAge: Duration.minutes(1) },
};

export interface FunctionSettings {
  readonly description: string;
  readonly timeout: Duration;
  readonly memorySize: number;
  /** Reserved concurrency 1 when the reserveConcurrency prop is set; otherwise unreserved. */
  readonly serial?: boolean;
  /** VPC placement (the cluster watcher with subnets); default none (see withNetwork). */
  readonly network?: FunctionNetwork;
}

/** Subnets (in the construct's vpcId) and security groups, by ID. */
export interface FunctionNetwork {
  readonly subnetIds: readonly string[];
  readonly securityGroupIds: readonly string[];
}

export const FUNCTION_SETTINGS: Record<HandlerName, FunctionSettings> = {
  'service-events': {
    description: 'Reconciles Service/Pod/Endpoints changes',
    timeout: Duration.seconds(60),
    memorySize: 512,
  },
  'node-events': {
    description: 'Node lifecycle: target registration and drain',
    timeout: Duration.seconds(60),
    memorySize: 512,
  },
  // One full reconcile at a time when reserved: a second concurrent resync would only race the first (harmlessly:
  // every step is idempotent and converges on the same stored state).
  resync: {
    description: 'Periodic full reconcile and garbage collection',
    timeout: Duration.minutes(5),
    memorySize: 1024,
    serial: true,
  },
  'ssm-status': {
    description: 'Records data-plane apply results per node',
    timeout: Duration.seconds(30),
    memorySize: 256,
  },
  // Few concurrent invocations make bursts of push requests coalesce into one push of the latest state.
  'dataplane-push': {
    description: 'Renders and pushes node data-plane config',
    timeout: Duration.seconds(PUSH_FUNCTION_TIMEOUT_SECONDS), // the push lease's bound (lib/dataplane/push-lease.ts)
    memorySize: 1024,
    serial: true,
  },
  // Cluster mode only (deployedHandlers). Runs until CLUSTER_WATCHER_MARGIN_SECONDS before its timeout.
  [CLUSTER_WATCHER]: {
    description: 'Cluster mode: list+watch of the cluster API server, mirrored into the store',
    timeout: Duration.seconds(CLUSTER_WATCHER_TIMEOUT_SECONDS),
    memorySize: 1024,
  },
};

/** The construct id of a bundle: `service-events` -> `ServiceEvents` (also the prefix of its logs, role, alarm). */
export const bundleId = (name: BundleName): string =>
  name.replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase());

type HandlerContext = Omit<ControllerParts, keyof Handlers | 'accessLogBucket'>;

/**
 * Adds the handlers (log group, role, function each, in HANDLERS order) to the controller scope: the five core ones,
 * and the cluster watcher in cluster mode.
 */
export function addHandlers(scope: Construct, c: HandlerContext): Handlers {
  const env = handlerEnvironment(c);
  const functions: Partial<Record<HandlerName, NodejsFunction>> = {};
  const roles: Partial<Record<HandlerName, iam.Role>> = {};
  for (const name of deployedHandlers(c.config)) {
    const mode = name === CLUSTER_WATCHER ? c.config.clusterMode : undefined;
    const { fn, role } = bundledFunction(
      scope,
      c.config,
      name,
      mode ? { ...env, ...clusterModeEnvironment(mode) } : env,
      {
        ...FUNCTION_SETTINGS[name],
        network: mode?.vpc,
      },
    );
    roles[name] = role;
    const asyncInvoke = ASYNC_HANDLERS[name];
    if (asyncInvoke) {
      fn.configureAsyncInvoke({ ...asyncInvoke, onFailure: new lambdaDestinations.SqsDestination(c.deliveryDlq) });
    }
    grantCapabilities(name, role, c);
    functions[name] = fn;
  }
  return { functions: functions as HandlerMap<NodejsFunction>, roles: roles as HandlerMap<iam.Role> };
}

/** The watcher's settings on top of every handler's (CLUSTER_MODE_ENV, read back by lib/cluster). */
export function clusterModeEnvironment(mode: ResolvedClusterMode): Record<string, string> {
  const auth: Record<string, string> =
    mode.auth.kind === 'eks'
      ? { [CLUSTER_MODE_ENV.eksClusterName]: mode.auth.eksClusterName }
      : { [CLUSTER_MODE_ENV.kubeconfigSecretArn]: mode.auth.kubeconfigSecretArn };
  return {
    [CLUSTER_MODE_ENV.auth]: mode.auth.kind,
    ...auth,
    [CLUSTER_MODE_ENV.defaultLoadBalancerClass]: String(mode.defaultLoadBalancerClass),
    [CLUSTER_MODE_ENV.dataPlane]: String(mode.dataPlane),
    [CLUSTER_MODE_ENV.runSeconds]: String(CLUSTER_WATCHER_TIMEOUT_SECONDS - CLUSTER_WATCHER_MARGIN_SECONDS),
  };
}

/** The settings every handler reads (lib/config-env.ts). */
function handlerEnvironment(c: HandlerContext): Record<string, string> {
  const cfg = c.config;
  const env: Record<string, string> = {
    CLUSTER_NAME: cfg.clusterName,
    TABLE_NAME: c.table.tableName,
    EVENT_BUS_NAME: c.bus.eventBusName,
    VPC_ID: cfg.vpcId,
    NODE_SELECTOR_TAG: formatNodeSelector(cfg.nodeSelector),
    SERVICE_CIDR: cfg.serviceCidr,
    NODE_PORT_RANGE: `${cfg.nodePortRange.min}-${cfg.nodePortRange.max}`,
    CLUSTER_DOMAIN: cfg.clusterDomain,
    ARTIFACT_BUCKET: c.artifactBucket.bucketName,
    SSM_DOCUMENT_NAME: c.documentName,
    PUSH_QUEUE_URL: c.pushQueue.queueUrl,
    NLB_QUOTA: String(cfg.nlbQuota),
    POD_GC_ORPHAN_GRACE_SECONDS: String(cfg.podGcOrphanGraceSeconds),
    POWERTOOLS_SERVICE_NAME: c.powertoolsServiceName,
    POWERTOOLS_METRICS_NAMESPACE: cfg.metricsNamespace,
    // SDK v3 keeps connections alive by default; the variable is set for any v2-style code path and is harmless.
    AWS_NODEJS_CONNECTION_REUSE_ENABLED: '1',
    // Stack traces in the logs point at the TypeScript sources (the bundles ship a source map).
    NODE_OPTIONS: '--enable-source-maps',
  };
  if (cfg.nodeSecurityGroupId) env.NODE_SECURITY_GROUP_ID = cfg.nodeSecurityGroupId;
  return env;
}

/** A bundled Node 22 function with its own log group and its own role (logging to that group only). */
export function bundledFunction(
  scope: Construct,
  cfg: ResolvedConfig,
  name: BundleName,
  env: Record<string, string>,
  s: FunctionSettings,
): { fn: NodejsFunction; role: iam.Role } {
  const id = bundleId(name);
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
    retention: cfg.logRetentionDays as logs.RetentionDays,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  // An explicit role instead of the default one with the AWSLambdaBasicExecutionRole managed policy: logging
  // is limited to this function's own log group.
  const role = new iam.Role(scope, `${id}Role`, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `serverless-service-controller ${name} (${cfg.clusterName})`,
  });
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [`${logGroup.logGroupArn}:*`],
    }),
  );
  const fn = new NodejsFunction(scope, id, {
    entry: handlerEntry(name),
    handler: 'handler',
    description: s.description,
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: s.memorySize,
    timeout: s.timeout,
    tracing: lambda.Tracing.ACTIVE,
    role,
    logGroup,
    environment: env,
    // Only on request: Lambda refuses any reservation that leaves fewer than 10 unreserved executions, so a
    // reservation fails the deploy in accounts with the initial low concurrency quota.
    reservedConcurrentExecutions: s.serial && cfg.reserveConcurrency ? 1 : undefined,
    projectRoot: REPO_ROOT,
    depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
    bundling: {
      format: OutputFormat.ESM,
      target: ESBUILD_TARGET,
      mainFields: MAIN_FIELDS,
      minify: true,
      sourceMap: true,
      sourcesContent: false,
      externalModules: EXTERNAL_MODULES,
      banner: ESM_REQUIRE_BANNER,
      forceDockerBundling: false,
    },
  });
  if (s.network) withNetwork(fn, s.network);
  return { fn, role };
}

/**
 * Places the function in the given subnets with the given security groups. Set on the CloudFormation resource: the
 * `vpc` prop would want the whole VPC described (subnets per Availability Zone), which an offline synth cannot know,
 * and the security groups are the operator's, to which CDK must add no rule. The role's ENI permissions come from
 * grants.ts (vpcNetworkInterfaces); the function already depends on its role and the role's policy.
 */
function withNetwork(fn: NodejsFunction, net: FunctionNetwork): void {
  const cfn = fn.node.defaultChild as lambda.CfnFunction;
  cfn.vpcConfig = { subnetIds: [...net.subnetIds], securityGroupIds: [...net.securityGroupIds] };
}
