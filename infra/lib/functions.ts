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
  EXTERNAL_MODULES,
  ESBUILD_TARGET,
  ESM_REQUIRE_BANNER,
  HANDLERS,
  MAIN_FIELDS,
  REPO_ROOT,
  handlerEntry,
  type BundleName,
  type HandlerName,
} from './bundling.js';
import { PUSH_FUNCTION_TIMEOUT_SECONDS } from '../../lib/dataplane/push-lease.js';
import { formatNodeSelector } from '../../lib/nodes/selector.js';
import type { ResolvedConfig } from './config.js';
import { grantCapabilities } from './grants.js';
import type { ControllerParts, Handlers } from './parts.js';

/** Handlers invoked asynchronously (EventBridge rules, Scheduler) rather than by an SQS event source mapping. */
const ASYNC_HANDLERS: readonly HandlerName[] = ['node-events', 'resync', 'ssm-status'];

export interface FunctionSettings {
  readonly description: string;
  readonly timeout: Duration;
  readonly memorySize: number;
  /** Reserved concurrency 1 when the reserveConcurrency prop is set; otherwise unreserved. */
  readonly serial?: boolean;
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
};

/** The construct id of a bundle: `service-events` -> `ServiceEvents` (also the prefix of its logs, role, alarm). */
export const bundleId = (name: BundleName): string =>
  name.replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase());

type HandlerContext = Omit<ControllerParts, keyof Handlers | 'accessLogBucket'>;

/** Adds the five handlers (log group, role, function each, in HANDLERS order) to the controller scope. */
export function addHandlers(scope: Construct, c: HandlerContext): Handlers {
  const env = handlerEnvironment(c);
  const functions = {} as Record<HandlerName, NodejsFunction>;
  const roles = {} as Record<HandlerName, iam.Role>;
  for (const name of HANDLERS) {
    const { fn, role } = bundledFunction(scope, c.config, name, env, FUNCTION_SETTINGS[name]);
    roles[name] = role;
    if (ASYNC_HANDLERS.includes(name)) {
      // EventBridge/Scheduler invoke asynchronously: after Lambda's own retries the event lands in the DLQ.
      fn.configureAsyncInvoke({
        retryAttempts: 2,
        maxEventAge: Duration.hours(1),
        onFailure: new lambdaDestinations.SqsDestination(c.deliveryDlq),
      });
    }
    grantCapabilities(name, role, c);
    functions[name] = fn;
  }
  return { functions, roles };
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
  return { fn, role };
}
