/**
 * ServiceController: everything the serverless controller needs in one AWS account/region, for one cluster.
 *
 *   producers --PutEvents--> custom bus --rule--> ingest FIFO --Pipe (group = object name)--> events FIFO --> service-events
 *   default bus: EC2 state change / Spot warning / ASG terminate hook --> node-events
 *                SSM command invocation status of our document      --> ssm-status
 *                (optional) ELBv2 API calls by others via CloudTrail  --> resync
 *   Scheduler rate(N minutes)                                         --> resync
 *   push queue (standard, 2 s batching window, concurrency 1)         --> dataplane-push --SSM Run Command--> nodes
 *
 * Every failure path ends in a dead-letter queue with an alarm: delivery failures of EventBridge/Scheduler/async
 * Lambda invocations in one standard DLQ, poison messages of each SQS queue in that queue's own DLQ.
 */
import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, Tags } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as lambdaDestinations from 'aws-cdk-lib/aws-lambda-destinations';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as pipes from 'aws-cdk-lib/aws-pipes';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { join } from 'node:path';
import {
  EXTERNAL_MODULES,
  ESBUILD_TARGET,
  ESM_REQUIRE_BANNER,
  HANDLERS,
  MAIN_FIELDS,
  REPO_ROOT,
  handlerEntry,
  type HandlerName,
} from './bundling.js';
import { resolveConfig, type ResolvedConfig, type ServiceControllerProps } from './config.js';
import {
  describeStatements,
  elbv2WriteStatements,
  lifecycleStatements,
  securityGroupStatements,
  ssmReadStatements,
  ssmSendStatements,
} from './iam.js';

/** The envelope of object-change events (docs/events.md). */
export const EVENT_SOURCE = 'serverless-service-controller';
export const OBJECT_DETAIL_TYPES = ['Service Change', 'Pod Change', 'Endpoints Change'] as const;

/** ELBv2 API calls that change load balancers, listeners, target groups or their tags (CloudTrail eventName). */
export const ELBV2_MUTATING_CALLS = [
  'CreateLoadBalancer',
  'DeleteLoadBalancer',
  'ModifyLoadBalancerAttributes',
  'SetSecurityGroups',
  'SetSubnets',
  'SetIpAddressType',
  'CreateListener',
  'ModifyListener',
  'ModifyListenerAttributes',
  'DeleteListener',
  'CreateTargetGroup',
  'ModifyTargetGroup',
  'ModifyTargetGroupAttributes',
  'DeleteTargetGroup',
  'RegisterTargets',
  'DeregisterTargets',
  'AddTags',
  'RemoveTags',
] as const;

/** Metric names the handlers publish through Powertools Metrics (default dimension `service`). */
export const HANDLER_METRICS = ['ReconcileErrors', 'Throttled', 'SsmCommandFailures'] as const;

/** What each handler may do. Keep in step with the handlers' code: a missing capability is an AccessDenied. */
type Capability =
  | 'tableReadWrite'
  | 'describe'
  | 'elbv2Write'
  | 'securityGroups'
  | 'putEvents'
  | 'pushQueueSend'
  | 'bucketReadWrite'
  | 'ssmSend'
  | 'ssmRead'
  | 'lifecycle';

export const FUNCTION_CAPABILITIES: Record<HandlerName, readonly Capability[]> = {
  // Reconciles one Service: its NLB, listeners, target groups, security groups; derives Endpoints; asks for a push.
  // No handler publishes on the bus today (only svcctl and other producers do), so none has 'putEvents'.
  'service-events': ['tableReadWrite', 'describe', 'elbv2Write', 'securityGroups', 'pushQueueSend'],
  // Adds/removes a node from target groups, completes the ASG lifecycle action, asks for a push.
  'node-events': ['tableReadWrite', 'describe', 'elbv2Write', 'pushQueueSend', 'lifecycle'],
  // Full reconcile: everything service-events does, plus garbage collection of stale artifacts.
  resync: ['tableReadWrite', 'describe', 'elbv2Write', 'securityGroups', 'pushQueueSend', 'bucketReadWrite', 'ssmRead'],
  // Records per-node apply results; a failed node gets a new push request.
  'ssm-status': ['tableReadWrite', 'describe', 'ssmRead', 'pushQueueSend'],
  // Renders node configuration, uploads it, and runs the document on the nodes.
  'dataplane-push': ['tableReadWrite', 'describe', 'bucketReadWrite', 'ssmSend'],
};

/** Handlers invoked asynchronously (EventBridge rules, Scheduler) rather than by an SQS event source mapping. */
const ASYNC_HANDLERS: readonly HandlerName[] = ['node-events', 'resync', 'ssm-status'];

interface FunctionSettings {
  readonly description: string;
  readonly timeout: Duration;
  readonly memorySize: number;
  /** Reserved concurrency; undefined = unreserved. */
  readonly reserved?: number;
}

const FUNCTION_SETTINGS: Record<HandlerName, FunctionSettings> = {
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
  // One full reconcile at a time: a second concurrent resync would only race the first.
  resync: {
    description: 'Periodic full reconcile and garbage collection',
    timeout: Duration.minutes(5),
    memorySize: 1024,
    reserved: 1,
  },
  'ssm-status': {
    description: 'Records data-plane apply results per node',
    timeout: Duration.seconds(30),
    memorySize: 256,
  },
  // Concurrency 1 makes bursts of push requests coalesce into one push of the latest state.
  'dataplane-push': {
    description: 'Renders and pushes node data-plane config',
    timeout: Duration.minutes(2),
    memorySize: 1024,
    reserved: 1,
  },
};

export interface ServiceControllerConstructProps extends ServiceControllerProps {
  /**
   * Content of the SSM Command document the nodes run to apply data-plane configuration (schemaVersion 2.2).
   * Supplied by lib/dataplane/ssm-document.ts through the stack.
   */
  readonly ssmDocumentContent: Record<string, unknown>;
}

export class ServiceController extends Construct {
  readonly config: ResolvedConfig;
  readonly table: dynamodb.Table;
  readonly bus: events.EventBus;
  readonly artifactBucket: s3.Bucket;
  readonly accessLogBucket: s3.Bucket;
  readonly document: ssm.CfnDocument;
  readonly documentName: string;
  /** Standard DLQ for everything EventBridge, Scheduler and async Lambda invocations could not deliver. */
  readonly deliveryDlq: sqs.Queue;
  readonly ingestQueue: sqs.Queue;
  readonly ingestDlq: sqs.Queue;
  readonly eventsQueue: sqs.Queue;
  readonly eventsDlq: sqs.Queue;
  readonly pushQueue: sqs.Queue;
  readonly pushDlq: sqs.Queue;
  readonly functions: Record<HandlerName, NodejsFunction>;
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly powertoolsServiceName: string;
  readonly schedulerRole: iam.Role;
  readonly roles = {} as Record<HandlerName, iam.Role>;

  constructor(scope: Construct, id: string, props: ServiceControllerConstructProps) {
    super(scope, id);
    // Server access logs are delivered by a bucket policy for logging.s3.amazonaws.com, not the legacy
    // LogDeliveryWrite ACL, which needs ACLs enabled (ObjectWriter) on the log bucket. Set here, before any child
    // exists, so the construct behaves the same whether or not the app's cdk.json carries the flag.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    const cfg = resolveConfig(props, id);
    this.config = cfg;
    this.powertoolsServiceName = 'serverless-service-controller';
    const removal = cfg.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    // Everything this construct creates carries the cluster name, so billing and cleanup can find it. (Not the
    // kubernetes.io/cluster tag: that one marks resources the controller itself owns and may delete.)
    Tags.of(this).add('serverless-service-controller/cluster', cfg.clusterName);

    // ---------------------------------------------------------------- storage
    this.table = new dynamodb.Table(this, 'Table', {
      // Key schema fixed by lib/store (pk/sk strings); on-demand so idle clusters cost nothing.
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: removal,
    });

    this.accessLogBucket = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(90) }],
      removalPolicy: removal,
    });
    this.artifactBucket = new s3.Bucket(this, 'Artifacts', {
      versioned: true,
      // SSE-S3: nodes read artifacts with only s3:GetObject on their instance role (SSE-KMS would also need
      // kms:Decrypt on every node role).
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: 'artifacts/',
      lifecycleRules: [
        // Rendered configs are rewritten on every push; old versions are only useful for a short post-mortem.
        { id: 'expire-old-versions', noncurrentVersionExpiration: Duration.days(7), noncurrentVersionsToRetain: 3 },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy: removal,
    });

    // ---------------------------------------------------------------- data-plane document
    // An explicit name lets operators find it and the status rule match it. UpdateMethod NewVersion updates the
    // document in place (a new default version) instead of replacing it, which an explicit name would not allow.
    this.documentName = `ssc-${cfg.clusterName}-dataplane`;
    this.document = new ssm.CfnDocument(this, 'DataplaneDocument', {
      name: this.documentName,
      documentType: 'Command',
      documentFormat: 'JSON',
      content: props.ssmDocumentContent,
      updateMethod: 'NewVersion',
    });
    const documentArn = `arn:${Aws.PARTITION}:ssm:${Aws.REGION}:${Aws.ACCOUNT_ID}:document/${this.documentName}`;

    // ---------------------------------------------------------------- queues
    this.deliveryDlq = this.queue('DeliveryDlq', { retentionPeriod: Duration.days(14) });
    this.ingestDlq = this.queue('IngestDlq', { fifo: true, retentionPeriod: Duration.days(14) });
    this.ingestQueue = this.queue('IngestQueue', {
      fifo: true,
      // EventBridge event ids differ per event, so content-based deduplication only drops EventBridge's own
      // at-least-once redeliveries of the same event.
      contentBasedDeduplication: true,
      visibilityTimeout: Duration.seconds(60),
      deadLetterQueue: { queue: this.ingestDlq, maxReceiveCount: 5 },
    });
    this.eventsDlq = this.queue('EventsDlq', { fifo: true, retentionPeriod: Duration.days(14) });
    this.eventsQueue = this.queue('EventsQueue', {
      fifo: true,
      contentBasedDeduplication: true,
      // AWS: the visibility timeout should be at least 6x the consumer function's timeout.
      visibilityTimeout: Duration.seconds(FUNCTION_SETTINGS['service-events'].timeout.toSeconds() * 6),
      deadLetterQueue: { queue: this.eventsDlq, maxReceiveCount: 5 },
    });
    this.pushDlq = this.queue('PushDlq', { retentionPeriod: Duration.days(14) });
    this.pushQueue = this.queue('PushQueue', {
      visibilityTimeout: Duration.seconds(FUNCTION_SETTINGS['dataplane-push'].timeout.toSeconds() * 6),
      // With reserved concurrency 1 the SQS poller is throttled routinely; throttled receives count against
      // maxReceiveCount, so it is generous to keep throttling from dead-lettering push requests.
      deadLetterQueue: { queue: this.pushDlq, maxReceiveCount: 20 },
    });

    // ---------------------------------------------------------------- event bus
    this.bus = new events.EventBus(this, 'Bus', { eventBusName: `serverless-service-controller-${cfg.clusterName}` });
    this.configureBusPolicy(cfg);

    // ---------------------------------------------------------------- functions
    const env: Record<string, string> = {
      CLUSTER_NAME: cfg.clusterName,
      TABLE_NAME: this.table.tableName,
      EVENT_BUS_NAME: this.bus.eventBusName,
      VPC_ID: cfg.vpcId,
      SUBNET_IDS: cfg.subnetIds.join(','),
      NODE_SELECTOR_TAG: `${cfg.nodeSelectorTag.key}=${cfg.nodeSelectorTag.value}`,
      SERVICE_CIDR: cfg.serviceCidr,
      NODE_PORT_RANGE: `${cfg.nodePortRange.min}-${cfg.nodePortRange.max}`,
      CLUSTER_DOMAIN: cfg.clusterDomain,
      ARTIFACT_BUCKET: this.artifactBucket.bucketName,
      SSM_DOCUMENT_NAME: this.documentName,
      PUSH_QUEUE_URL: this.pushQueue.queueUrl,
      NLB_QUOTA: String(cfg.nlbQuota),
      POWERTOOLS_SERVICE_NAME: this.powertoolsServiceName,
      POWERTOOLS_METRICS_NAMESPACE: cfg.metricsNamespace,
      // SDK v3 keeps connections alive by default; the variable is set for any v2-style code path and is harmless.
      AWS_NODEJS_CONNECTION_REUSE_ENABLED: '1',
      // Stack traces in the logs point at the TypeScript sources (the bundles ship a source map).
      NODE_OPTIONS: '--enable-source-maps',
    };
    if (cfg.nodeSecurityGroupId) env.NODE_SECURITY_GROUP_ID = cfg.nodeSecurityGroupId;

    const fns = {} as Record<HandlerName, NodejsFunction>;
    for (const name of HANDLERS) fns[name] = this.makeFunction(name, env, documentArn);
    this.functions = fns;

    // ---------------------------------------------------------------- object-change path
    // EventBridge can only give an SQS FIFO target one static MessageGroupId (an input transformer shapes the body,
    // never the group). So the rule writes every event into an ingest FIFO queue (one group: arrival order kept),
    // and an EventBridge Pipe moves each message to the events FIFO queue with a per-object group id taken from the
    // event by a dynamic path parameter. Pipes cannot concatenate, so the group is the object's metadata.name: all
    // objects sharing a name (in any namespace, of any kind) share a group. That is coarser than namespace/name but
    // still keeps each object's events in order, and different names are processed in parallel.
    new events.Rule(this, 'ObjectChangeRule', {
      eventBus: this.bus,
      description: 'Service/Pod/Endpoints changes to the ingest queue',
      eventPattern: { source: [EVENT_SOURCE], detailType: [...OBJECT_DETAIL_TYPES] },
      targets: [
        new eventTargets.SqsQueue(this.ingestQueue, {
          messageGroupId: 'ingest',
          deadLetterQueue: this.deliveryDlq,
          retryAttempts: 185,
          maxEventAge: Duration.hours(24),
        }),
      ],
    });
    this.makeOrderingPipe();
    fns['service-events'].addEventSource(
      new SqsEventSource(this.eventsQueue, {
        batchSize: 10,
        reportBatchItemFailures: true,
        // Bounds parallel ELBv2/EC2 writes (their APIs throttle per account) while groups still run in parallel.
        maxConcurrency: 5,
      }),
    );

    // ---------------------------------------------------------------- node lifecycle (default bus)
    const asyncTarget = (fn: lambda.IFunction) =>
      new eventTargets.LambdaFunction(fn, {
        deadLetterQueue: this.deliveryDlq,
        retryAttempts: 8,
        maxEventAge: Duration.hours(2),
      });
    new events.Rule(this, 'NodeStateRule', {
      description: 'EC2 instance state changes (node up/down)',
      eventPattern: {
        source: ['aws.ec2'],
        detailType: ['EC2 Instance State-change Notification'],
        // "pending" has no use: a node becomes a target only when running.
        detail: { state: ['running', 'stopping', 'stopped', 'shutting-down', 'terminated'] },
      },
      targets: [asyncTarget(fns['node-events'])],
    });
    new events.Rule(this, 'SpotInterruptionRule', {
      description: 'Spot interruption warnings: drain the node within its two minutes',
      eventPattern: { source: ['aws.ec2'], detailType: ['EC2 Spot Instance Interruption Warning'] },
      targets: [asyncTarget(fns['node-events'])],
    });
    if (cfg.nodeAutoScalingGroupNames.length > 0) {
      const hookName = `ssc-${cfg.clusterName}-drain`;
      cfg.nodeAutoScalingGroupNames.forEach((asg, i) => {
        // No NotificationTargetARN: Auto Scaling then delivers the lifecycle action to EventBridge.
        new autoscaling.CfnLifecycleHook(this, `TerminateHook${i}`, {
          autoScalingGroupName: asg,
          lifecycleHookName: hookName,
          lifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
          heartbeatTimeout: cfg.lifecycleHeartbeatSeconds,
          // CONTINUE: if the controller is down, termination still proceeds after the heartbeat (like an
          // ungraceful node loss), rather than leaving instances stuck in Terminating:Wait.
          defaultResult: 'CONTINUE',
          notificationMetadata: JSON.stringify({ cluster: cfg.clusterName }),
        });
      });
      new events.Rule(this, 'TerminateLifecycleRule', {
        description: 'Auto Scaling termination lifecycle hook: deregister, then CompleteLifecycleAction',
        eventPattern: {
          source: ['aws.autoscaling'],
          detailType: ['EC2 Instance-terminate Lifecycle Action'],
          detail: { AutoScalingGroupName: [...cfg.nodeAutoScalingGroupNames], LifecycleHookName: [hookName] },
        },
        targets: [asyncTarget(fns['node-events'])],
      });
    }

    // ---------------------------------------------------------------- drift and garbage
    // Our own role (rather than the target's stack-level default) keeps it inside this construct.
    this.schedulerRole = new iam.Role(this, 'ResyncSchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: 'EventBridge Scheduler: invoke resync',
    });
    new scheduler.Schedule(this, 'ResyncSchedule', {
      description: `Full resync of cluster ${cfg.clusterName}`,
      schedule: scheduler.ScheduleExpression.rate(Duration.minutes(cfg.resyncIntervalMinutes)),
      target: new schedulerTargets.LambdaInvoke(fns.resync, {
        role: this.schedulerRole,
        deadLetterQueue: this.deliveryDlq,
        retryAttempts: 2,
        // A resync older than the next one is worthless.
        maxEventAge: Duration.minutes(Math.max(cfg.resyncIntervalMinutes, 1)),
        input: scheduler.ScheduleTargetInput.fromObject({ reason: 'schedule', cluster: cfg.clusterName }),
      }),
    });
    if (cfg.enableDriftRule) {
      new events.Rule(this, 'Elbv2DriftRule', {
        description: 'ELBv2 changes made by anyone but the controller: resync',
        eventPattern: {
          source: ['aws.elasticloadbalancing'],
          detailType: ['AWS API Call via CloudTrail'],
          detail: {
            eventSource: ['elasticloadbalancing.amazonaws.com'],
            eventName: [...ELBV2_MUTATING_CALLS],
            // Refused calls changed nothing.
            errorCode: [{ exists: false }],
            // CloudTrail events carry no resource tags, so the rule cannot tell our load balancers from others:
            // it drops the controller's own calls and leaves "is it ours" to resync, which only touches
            // resources tagged for the cluster.
            userIdentity: {
              sessionContext: {
                sessionIssuer: { arn: events.Match.anythingBut(...HANDLERS.map((n) => this.roles[n].roleArn)) },
              },
            },
          },
        },
        targets: [asyncTarget(fns.resync)],
      });
    }

    // ---------------------------------------------------------------- data plane
    new events.Rule(this, 'SsmStatusRule', {
      description: 'Run Command results of the data-plane document',
      eventPattern: {
        source: ['aws.ssm'],
        detailType: ['EC2 Command Invocation Status-change Notification'],
        detail: { 'document-name': [this.documentName] },
      },
      targets: [asyncTarget(fns['ssm-status'])],
    });
    fns['dataplane-push'].addEventSource(
      new SqsEventSource(this.pushQueue, {
        batchSize: 100,
        // Requests arriving within ~2 s are handed to one invocation: one push for a burst of changes.
        maxBatchingWindow: Duration.seconds(2),
        reportBatchItemFailures: true,
      }),
    );

    // ---------------------------------------------------------------- operations
    this.dashboard = this.makeObservability(cfg);

    const out = (name: string, value: string, description: string) => new CfnOutput(this, name, { value, description });
    out('EventBusName', this.bus.eventBusName, 'svcctl --bus / SVCCTL_EVENT_BUS');
    out('TableName', this.table.tableName, 'svcctl --table / SVCCTL_TABLE');
    out('ArtifactBucketName', this.artifactBucket.bucketName, 'Nodes need s3:GetObject on it');
    out('SsmDocumentName', this.documentName, 'Data-plane document run on the nodes');
    out('DashboardName', this.dashboard.dashboardName, 'CloudWatch dashboard');
  }

  /** SQS queue with the settings every queue here shares: SSE, TLS-only. */
  private queue(id: string, props: sqs.QueueProps): sqs.Queue {
    return new sqs.Queue(this, id, { encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: true, ...props });
  }

  private configureBusPolicy(cfg: ResolvedConfig): void {
    const account = Stack.of(this).account;
    // A custom bus accepts PutEvents from its own account's principals that have IAM permission; the resource
    // policy is what admits other accounts. Allow exactly the producer roles from props, and explicitly deny any
    // principal that is neither in this account nor one of those roles.
    this.bus.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowThisAccount',
        principals: [new iam.AccountRootPrincipal()],
        actions: ['events:PutEvents'],
        resources: [this.bus.eventBusArn],
      }),
    );
    if (cfg.producerRoleArns.length > 0) {
      this.bus.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'AllowProducerRoles',
          principals: cfg.producerRoleArns.map((a) => new iam.ArnPrincipal(a)),
          actions: ['events:PutEvents'],
          resources: [this.bus.eventBusArn],
        }),
      );
    }
    this.bus.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyOthers',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['events:PutEvents'],
        resources: [this.bus.eventBusArn],
        conditions: {
          StringNotEquals: { 'aws:PrincipalAccount': account },
          ...(cfg.producerRoleArns.length > 0
            ? { ArnNotEquals: { 'aws:PrincipalArn': [...cfg.producerRoleArns] } }
            : {}),
        },
      }),
    );
  }

  private makeFunction(name: HandlerName, env: Record<string, string>, documentArn: string): NodejsFunction {
    const s = FUNCTION_SETTINGS[name];
    const id = name.replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase());
    const logGroup = new logs.LogGroup(this, `${id}Logs`, {
      retention: this.config.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // An explicit role instead of the default one with the AWSLambdaBasicExecutionRole managed policy: logging
    // is limited to this function's own log group.
    const role = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `serverless-service-controller ${name} (${this.config.clusterName})`,
    });
    this.roles[name] = role;
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [`${logGroup.logGroupArn}:*`],
      }),
    );
    const fn = new NodejsFunction(this, id, {
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
      reservedConcurrentExecutions: s.reserved,
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
    if (ASYNC_HANDLERS.includes(name)) {
      // EventBridge/Scheduler invoke asynchronously: after Lambda's own retries the event lands in the DLQ.
      fn.configureAsyncInvoke({
        retryAttempts: 2,
        maxEventAge: Duration.hours(1),
        onFailure: new lambdaDestinations.SqsDestination(this.deliveryDlq),
      });
    }
    this.grant(name, fn, role, documentArn);
    return fn;
  }

  private grant(name: HandlerName, fn: NodejsFunction, role: iam.Role, documentArn: string): void {
    const cfg = this.config;
    const add = (ss: iam.PolicyStatement[]) => ss.forEach((st) => role.addToPrincipalPolicy(st));
    for (const cap of FUNCTION_CAPABILITIES[name]) {
      switch (cap) {
        case 'tableReadWrite':
          this.table.grantReadWriteData(fn);
          break;
        case 'describe':
          add(describeStatements());
          break;
        case 'elbv2Write':
          add(elbv2WriteStatements(cfg));
          break;
        case 'securityGroups':
          add(securityGroupStatements(cfg));
          break;
        case 'putEvents':
          this.bus.grantPutEventsTo(fn);
          break;
        case 'pushQueueSend':
          this.pushQueue.grantSendMessages(fn);
          break;
        case 'bucketReadWrite':
          // Named actions rather than grantReadWrite()'s s3:GetObject*/s3:List*/... wildcards.
          role.addToPrincipalPolicy(
            new iam.PolicyStatement({
              actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
              resources: [this.artifactBucket.arnForObjects('*')],
            }),
          );
          role.addToPrincipalPolicy(
            new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.artifactBucket.bucketArn] }),
          );
          break;
        case 'ssmSend':
          add(ssmSendStatements(cfg, documentArn));
          break;
        case 'ssmRead':
          add(ssmReadStatements());
          break;
        case 'lifecycle':
          add(lifecycleStatements(cfg));
          break;
      }
    }
  }

  private makeOrderingPipe(): void {
    const role = new iam.Role(this, 'OrderingPipeRole', {
      assumedBy: new iam.ServicePrincipal('pipes.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: 'EventBridge Pipe: ingest FIFO -> events FIFO with a per-object message group',
    });
    this.ingestQueue.grantConsumeMessages(role);
    this.eventsQueue.grantSendMessages(role);
    const pipe = new pipes.CfnPipe(this, 'OrderingPipe', {
      roleArn: role.roleArn,
      description: 'Re-groups object-change events by object so each object is processed in order',
      source: this.ingestQueue.queueArn,
      sourceParameters: { sqsQueueParameters: { batchSize: 10 } },
      target: this.eventsQueue.queueArn,
      targetParameters: {
        // Pipes parses a JSON SQS body implicitly: the target message body is the EventBridge event itself.
        inputTemplate: '<$.body>',
        sqsQueueParameters: {
          // Dynamic path parameters must be a whole JSON path (no concatenation); see the comment at the rule.
          messageGroupId: '$.body.detail.object.metadata.name',
          // The EventBridge event id: a redelivered event is dropped by SQS within the 5-minute dedup window.
          messageDeduplicationId: '$.body.id',
        },
      },
    });
    pipe.node.addDependency(role);
  }

  private makeObservability(cfg: ResolvedConfig): cloudwatch.Dashboard {
    const topic = cfg.alarmTopicArn ? sns.Topic.fromTopicArn(this, 'AlarmTopic', cfg.alarmTopicArn) : undefined;
    const alarm = (id: string, a: cloudwatch.AlarmProps) => {
      const al = new cloudwatch.Alarm(this, id, { treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING, ...a });
      if (topic) {
        al.addAlarmAction(new cwActions.SnsAction(topic));
        al.addOkAction(new cwActions.SnsAction(topic));
      }
      this.alarms.push(al);
      return al;
    };
    const five = Duration.minutes(5);
    const dlqs: [string, sqs.Queue][] = [
      ['DeliveryDlq', this.deliveryDlq],
      ['IngestDlq', this.ingestDlq],
      ['EventsDlq', this.eventsDlq],
      ['PushDlq', this.pushDlq],
    ];
    for (const [id, q] of dlqs) {
      alarm(`${id}Depth`, {
        alarmDescription: `${id} of cluster ${cfg.clusterName} holds messages: events were given up on. Inspect, fix, then redrive.`,
        metric: q.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
      });
    }
    alarm('EventsQueueAge', {
      alarmDescription: 'Object changes wait more than 5 minutes: service-events is failing or throttled.',
      metric: this.eventsQueue.metricApproximateAgeOfOldestMessage({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      threshold: 300,
      evaluationPeriods: 5,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });

    const custom = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: cfg.metricsNamespace,
        metricName,
        // Powertools Metrics adds the `service` dimension (POWERTOOLS_SERVICE_NAME) to every metric by default.
        dimensionsMap: { service: this.powertoolsServiceName },
        statistic: 'Sum',
        period: five,
      });
    alarm('ReconcileErrors', {
      alarmDescription: 'Reconciles keep failing (retries did not help) in 2 of the last 3 five-minute periods.',
      metric: custom('ReconcileErrors'),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
    });
    alarm('AwsThrottling', {
      alarmDescription: 'AWS API throttling seen by the handlers (ELBv2/EC2/SSM request limits).',
      metric: custom('Throttled'),
      threshold: 10,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
    });
    alarm('SsmCommandFailures', {
      alarmDescription: 'Nodes failed to apply data-plane configuration (Run Command invocation Failed/TimedOut).',
      metric: custom('SsmCommandFailures'),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
    });
    for (const name of HANDLERS) {
      const fn = this.functions[name];
      const id = name.replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase());
      alarm(`${id}Errors`, {
        alarmDescription: `${name} invocations fail (unhandled errors, timeouts, out of memory).`,
        metric: fn.metricErrors({ period: five, statistic: 'Sum' }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 2,
        datapointsToAlarm: 2,
      });
    }

    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `serverless-service-controller-${cfg.clusterName}`,
      defaultInterval: Duration.hours(3),
    });
    const fnMetric = (m: (fn: NodejsFunction) => cloudwatch.IMetric) => HANDLERS.map((n) => m(this.functions[n]));
    dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: `# serverless-service-controller: ${cfg.clusterName}\nDLQs must stay empty. Custom metrics: namespace \`${cfg.metricsNamespace}\`, dimension service=\`${this.powertoolsServiceName}\`.`,
        width: 24,
        height: 2,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Invocations',
        left: fnMetric((f) => f.metricInvocations({ period: Duration.minutes(1), label: f.node.id })),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Errors',
        left: fnMetric((f) => f.metricErrors({ period: Duration.minutes(1), label: f.node.id })),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Throttles (dataplane-push and resync are concurrency 1 on purpose)',
        left: fnMetric((f) => f.metricThrottles({ period: Duration.minutes(1), label: f.node.id })),
        width: 8,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Duration p99',
        left: fnMetric((f) => f.metricDuration({ period: Duration.minutes(5), statistic: 'p99', label: f.node.id })),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Controller metrics',
        left: HANDLER_METRICS.map((m) => custom(m).with({ label: m })),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Queues: visible messages',
        left: [this.ingestQueue, this.eventsQueue, this.pushQueue].map((q) =>
          q.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), label: q.node.id }),
        ),
        right: [this.eventsQueue].map((q) =>
          q.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(1), label: 'events oldest (s)' }),
        ),
        width: 8,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 4 }),
    );
    return dashboard;
  }
}
