/**
 * The event path: the queues (every one with its dead-letter queue), the controller's bus, and the change-log Pipe
 * that turns each committed write into one object message for service-events.
 *
 *   table stream (NEW_IMAGE) --Pipe (INSERTs of change-log items; group = object, dedup = revision)--> events FIFO
 *                                                                                              --> service-events
 *
 * Every committed write appends a change-log item in the same transaction (lib/store); the table's stream carries it
 * and the Pipe turns each INSERT into one object message on the events FIFO queue, grouped per object. No client
 * publishes anything: a crash after the write loses nothing, and only the API writes the table.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as pipes from 'aws-cdk-lib/aws-pipes';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { OBJECT_EVENT_SOURCE } from '../../lib/contracts.js';
import type { ResolvedConfig } from './config.js';
import { FUNCTION_SETTINGS } from './functions.js';
import type { ControllerParts, Queues } from './parts.js';

/**
 * The object message the Pipe makes of a change-log item (lib/events/object-message.ts parses it; the revision
 * arrives as a string, DynamoDB's N). Only names and the revision travel: the controller reads the object.
 */
export const CHANGE_LOG_INPUT_TEMPLATE = JSON.stringify({
  kind: '<$.dynamodb.NewImage.kind.S>',
  namespace: '<$.dynamodb.NewImage.namespace.S>',
  name: '<$.dynamodb.NewImage.name.S>',
  uid: '<$.dynamodb.NewImage.uid.S>',
  rev: '<$.dynamodb.NewImage.rev.N>',
  type: '<$.dynamodb.NewImage.type.S>',
  subresource: '<$.dynamodb.NewImage.subresource.S>',
});

/**
 * Stream records the Pipe forwards: INSERTs of change-log items (pk `log`), not Events (the controller has nothing
 * to do for them, and they are the chattiest kind).
 */
export const CHANGE_LOG_FILTER = {
  eventName: ['INSERT'],
  dynamodb: { NewImage: { pk: { S: ['log'] }, kind: { S: [{ 'anything-but': ['Event'] }] } } },
};

/** SQS queue with the settings every queue here shares: SSE, TLS-only. */
function queue(scope: Construct, id: string, props: sqs.QueueProps): sqs.Queue {
  return new sqs.Queue(scope, id, { encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: true, ...props });
}

/** Adds the queues, each DLQ before the queue it serves. */
export function addQueues(scope: Construct): Queues {
  const deliveryDlq = queue(scope, 'DeliveryDlq', { retentionPeriod: Duration.days(14) });
  const changeLogDlq = queue(scope, 'ChangeLogDlq', { retentionPeriod: Duration.days(14) });
  const eventsDlq = queue(scope, 'EventsDlq', { fifo: true, retentionPeriod: Duration.days(14) });
  const eventsQueue = queue(scope, 'EventsQueue', {
    fifo: true,
    // The Pipe sets the deduplication id (the revision): a stream record delivered twice is dropped.
    // AWS: the visibility timeout should be at least 6x the consumer function's timeout.
    visibilityTimeout: Duration.seconds(FUNCTION_SETTINGS['service-events'].timeout.toSeconds() * 6),
    deadLetterQueue: { queue: eventsDlq, maxReceiveCount: 5 },
  });
  const pushDlq = queue(scope, 'PushDlq', { retentionPeriod: Duration.days(14) });
  const pushQueue = queue(scope, 'PushQueue', {
    visibilityTimeout: Duration.seconds(FUNCTION_SETTINGS['dataplane-push'].timeout.toSeconds() * 6),
    // With reserved concurrency 1 (reserveConcurrency) the SQS poller is throttled routinely; throttled receives
    // count against maxReceiveCount, so it is generous to keep throttling from dead-lettering push requests.
    deadLetterQueue: { queue: pushDlq, maxReceiveCount: 20 },
  });
  return { deliveryDlq, changeLogDlq, eventsDlq, eventsQueue, pushDlq, pushQueue };
}

/**
 * The controller's bus. Object changes no longer travel on it (they come from the table's stream), so nobody may put
 * events with their source: a producer that still does is refused instead of being silently ignored. External
 * producers write through the Kubernetes API, which validates, allocates and records the change.
 */
export function addBus(scope: Construct, cfg: ResolvedConfig): events.EventBus {
  const bus = new events.EventBus(scope, 'Bus', { eventBusName: `serverless-service-controller-${cfg.clusterName}` });
  bus.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'DenyObjectEvents',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['events:PutEvents'],
      resources: [bus.eventBusArn],
      conditions: { StringEquals: { 'events:source': OBJECT_EVENT_SOURCE } },
    }),
  );
  return bus;
}

/** An EventBridge rule target for an asynchronously invoked handler: retried, then dead-lettered. */
export function asyncTarget(fn: lambda.IFunction, deliveryDlq: sqs.IQueue): eventTargets.LambdaFunction {
  return new eventTargets.LambdaFunction(fn, {
    deadLetterQueue: deliveryDlq,
    retryAttempts: 8,
    maxEventAge: Duration.hours(2),
  });
}

type PipeContext = Pick<ControllerParts, 'table' | 'eventsQueue' | 'changeLogDlq' | 'functions'>;

/** The object-change path: the change-log Pipe, then service-events consuming the events FIFO. */
export function addObjectChangePath(scope: Construct, c: PipeContext): iam.Role {
  const role = addChangeLogPipe(scope, c);
  c.functions['service-events'].addEventSource(
    new SqsEventSource(c.eventsQueue, {
      batchSize: 10,
      reportBatchItemFailures: true,
      // Bounds parallel ELBv2/EC2 writes (their APIs throttle per account) while groups still run in parallel.
      maxConcurrency: 5,
    }),
  );
  return role;
}

/** The role the change-log Pipe runs with: stream read, send to the events queue and its DLQ. */
function addChangeLogPipeRole(scope: Construct, c: PipeContext): iam.Role {
  const role = new iam.Role(scope, 'ChangeLogPipeRole', {
    assumedBy: new iam.ServicePrincipal('pipes.amazonaws.com', {
      conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(scope).account } },
    }),
    description: 'EventBridge Pipe: table stream (change log) -> events FIFO, one message per committed write',
  });
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'],
      resources: [c.table.tableStreamArn!],
    }),
  );
  // ListStreams has no resource-level permission (it is acknowledged in nag.ts).
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['dynamodb:ListStreams'], resources: ['*'] }));
  c.eventsQueue.grantSendMessages(role);
  c.changeLogDlq.grantSendMessages(role);
  return role;
}

/**
 * Table stream -> events FIFO. Per object the order is kept: change-log items share one partition key, so their
 * records arrive in one shard in commit order, and the Pipe reads a shard in order (the controller copes with any
 * order anyway: it reads the latest stored object). Records the target refuses go to the change-log DLQ after
 * the retries, bisecting a failed batch to isolate the record.
 */
function addChangeLogPipe(scope: Construct, c: PipeContext): iam.Role {
  const role = addChangeLogPipeRole(scope, c);
  const pipe = new pipes.CfnPipe(scope, 'ChangeLogPipe', {
    roleArn: role.roleArn,
    description: 'One object message per committed write, grouped by object, deduplicated by revision',
    source: c.table.tableStreamArn!,
    sourceParameters: {
      dynamoDbStreamParameters: {
        startingPosition: 'TRIM_HORIZON',
        batchSize: 10,
        maximumRetryAttempts: 185,
        onPartialBatchItemFailure: 'AUTOMATIC_BISECT',
        deadLetterConfig: { arn: c.changeLogDlq.queueArn },
      },
      filterCriteria: { filters: [{ pattern: JSON.stringify(CHANGE_LOG_FILTER) }] },
    },
    target: c.eventsQueue.queueArn,
    targetParameters: {
      inputTemplate: CHANGE_LOG_INPUT_TEMPLATE,
      sqsQueueParameters: {
        messageGroupId: '$.dynamodb.NewImage.group.S',
        messageDeduplicationId: '$.dynamodb.NewImage.rev.N',
      },
    },
  });
  pipe.node.addDependency(role);
  return role;
}
