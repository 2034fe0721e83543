/**
 * ServiceController: everything the serverless controller needs in one AWS account/region, for one cluster.
 *
 *   table stream (NEW_IMAGE) --Pipe (INSERTs of change-log items; group = object, dedup = revision)--> events FIFO
 *                                                                                              --> service-events
 *   default bus: EC2 state change / Spot warning / ASG terminate hook --> node-events
 *                SSM command invocation status of our document      --> ssm-status
 *                (optional) ELBv2 API calls by others via CloudTrail  --> resync
 *   Scheduler rate(N minutes)                                         --> resync
 *   (cluster mode) Scheduler rate(1 minute)                           --> cluster-watcher --list+watch--> cluster
 *   push queue (standard, 2 s batching window, concurrency <= 2)      --> dataplane-push --SSM Run Command--> nodes
 *
 * Every failure path ends in a dead-letter queue with an alarm: delivery failures of EventBridge/Scheduler/async
 * Lambda invocations in one standard DLQ, poison messages of each SQS queue in that queue's own DLQ.
 *
 * Each concern lives in its own module (storage, dataplane, event-path, functions, api, node-lifecycle, resync,
 * operations) and adds its resources to this construct directly, in the order below: the construct path (and so
 * every logical ID) and the template's resource order are those of the single constructor this replaced.
 */
import { Tags } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { POWERTOOLS_SERVICE_NAME } from '../../lib/contracts.js';
import { addApi } from './api.js';
import { resolveConfig, type ResolvedConfig, type ServiceControllerProps } from './config.js';
import { addDataplaneDocument, addDataplanePaths } from './dataplane.js';
import { addClusterWatcherSchedule } from './cluster-mode.js';
import { addBus, addObjectChangePath, addQueues } from './event-path.js';
import { addHandlers } from './functions.js';
import { addNodeLifecycle } from './node-lifecycle.js';
import { addObservability, addOutputs } from './operations.js';
import type { ControllerParts, HandlerMap } from './parts.js';
import { addResync } from './resync.js';
import { addStorage } from './storage.js';

export interface ServiceControllerConstructProps extends ServiceControllerProps {
  /**
   * Content of the SSM Command document the nodes run to apply data-plane configuration (schemaVersion 2.2).
   * Supplied by lib/dataplane/ssm-document.ts through the stack.
   */
  readonly ssmDocumentContent: Record<string, unknown>;
}

export class ServiceController extends Construct implements ControllerParts {
  readonly config: ResolvedConfig;
  readonly table: dynamodb.Table;
  readonly bus: events.EventBus;
  readonly artifactBucket: s3.Bucket;
  readonly accessLogBucket: s3.Bucket;
  readonly document: ssm.CfnDocument;
  readonly documentName: string;
  readonly documentArn: string;
  /** Standard DLQ for everything EventBridge, Scheduler and async Lambda invocations could not deliver. */
  readonly deliveryDlq: sqs.Queue;
  /** Stream records the change-log Pipe could not deliver to the events queue (standard: a stream source's DLQ). */
  readonly changeLogDlq: sqs.Queue;
  /** The role the change-log Pipe runs with (stream read, send to the events queue and its DLQ). */
  readonly changeLogPipeRole: iam.Role;
  readonly eventsQueue: sqs.Queue;
  readonly eventsDlq: sqs.Queue;
  readonly pushQueue: sqs.Queue;
  readonly pushDlq: sqs.Queue;
  /** One per deployed handler (the cluster watcher only in cluster mode). */
  readonly functions: HandlerMap<NodejsFunction>;
  readonly roles: HandlerMap<iam.Role>;
  /** The Kubernetes API function and its Function URL (the ApiUrl output). */
  readonly apiFunction: NodejsFunction;
  readonly apiUrl: lambda.FunctionUrl;
  readonly apiRole: iam.Role;
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarms: cloudwatch.Alarm[];
  readonly powertoolsServiceName = POWERTOOLS_SERVICE_NAME;
  readonly schedulerRole: iam.Role;
  /** Cluster mode: the role EventBridge Scheduler starts the watcher with; undefined otherwise. */
  readonly clusterWatcherSchedulerRole: iam.Role | undefined;

  constructor(scope: Construct, id: string, props: ServiceControllerConstructProps) {
    super(scope, id);
    // Server access logs are delivered by a bucket policy for logging.s3.amazonaws.com, not the legacy
    // LogDeliveryWrite ACL, which needs ACLs enabled (ObjectWriter) on the log bucket. Set here, before any child
    // exists, so the construct behaves the same whether or not the app's cdk.json carries the flag.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    const cfg = (this.config = resolveConfig(props, id));
    // Everything this construct creates carries the cluster name, so billing and cleanup can find it. (Not the
    // kubernetes.io/cluster tag: that one marks resources the controller itself owns and may delete.)
    Tags.of(this).add('serverless-service-controller/cluster', cfg.clusterName);

    const storage = addStorage(this, cfg);
    this.table = storage.table;
    this.accessLogBucket = storage.accessLogBucket;
    this.artifactBucket = storage.artifactBucket;
    const doc = addDataplaneDocument(this, cfg, props.ssmDocumentContent);
    this.document = doc.document;
    this.documentName = doc.documentName;
    this.documentArn = doc.documentArn;
    const queues = addQueues(this);
    this.deliveryDlq = queues.deliveryDlq;
    this.changeLogDlq = queues.changeLogDlq;
    this.eventsDlq = queues.eventsDlq;
    this.eventsQueue = queues.eventsQueue;
    this.pushDlq = queues.pushDlq;
    this.pushQueue = queues.pushQueue;
    this.bus = addBus(this, cfg);
    const handlers = addHandlers(this, this);
    this.functions = handlers.functions;
    this.roles = handlers.roles;
    const api = addApi(this, this);
    this.apiFunction = api.apiFunction;
    this.apiRole = api.apiRole;
    this.apiUrl = api.apiUrl;
    this.changeLogPipeRole = addObjectChangePath(this, this);
    addNodeLifecycle(this, this);
    this.schedulerRole = addResync(this, this);
    this.clusterWatcherSchedulerRole = addClusterWatcherSchedule(this, this);
    addDataplanePaths(this, this);
    const ops = addObservability(this, this);
    this.alarms = ops.alarms;
    this.dashboard = ops.dashboard;
    addOutputs(this, this);
  }
}
