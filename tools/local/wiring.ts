/**
 * The local stand-in for the CDK stack's event wiring, built in the local AWS (moto) with the same shape:
 *   table stream --(stream poller: INSERTs of log items)--> FIFO queue (group = one object) --> service-events logic
 *   bus --(rule: aws.ec2 state changes)--> node queue --> node-events logic
 * and an in-process loop that receives from the queues and invokes the same handler code the Lambdas run.
 */
import {
  DeleteRuleCommand,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
} from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import type { AwsClients } from '../../lib/aws/clients.js';
import type { LocalClients } from './clients.js';

export interface LocalQueues {
  objectsUrl: string;
  objectsArn: string;
  nodesUrl: string;
  nodesArn: string;
}

async function queue(clients: AwsClients, name: string, fifo: boolean): Promise<{ url: string; arn: string }> {
  const q = await clients.sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: fifo ? { FifoQueue: 'true', ContentBasedDeduplication: 'true' } : {},
    }),
  );
  const attrs = await clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: q.QueueUrl!, AttributeNames: ['QueueArn'] }),
  );
  return { url: q.QueueUrl!, arn: attrs.Attributes!.QueueArn! };
}

/** Object events no longer travel on the bus: a rule left by an earlier version of the local wiring goes. */
async function removeObjectRule(clients: LocalClients, busName: string): Promise<void> {
  const Rule = `${busName}-objects`;
  try {
    await clients.eventbridge.send(new RemoveTargetsCommand({ Rule, EventBusName: busName, Ids: ['objects'] }));
    await clients.eventbridge.send(new DeleteRuleCommand({ Name: Rule, EventBusName: busName }));
  } catch (err) {
    if ((err as Error).name !== 'ResourceNotFoundException') throw err;
  }
}

export async function ensureLocalWiring(clients: LocalClients, busName: string): Promise<LocalQueues> {
  const objects = await queue(clients, `${busName}-objects.fifo`, true);
  const nodes = await queue(clients, `${busName}-nodes`, false);
  await removeObjectRule(clients, busName);
  await clients.eventbridge.send(
    new PutRuleCommand({
      Name: `${busName}-nodes`,
      EventBusName: busName,
      EventPattern: JSON.stringify({
        source: ['aws.ec2', 'aws.autoscaling'],
        'detail-type': [
          'EC2 Instance State-change Notification',
          'EC2 Spot Instance Interruption Warning',
          'EC2 Instance-terminate Lifecycle Action',
        ],
      }),
    }),
  );
  await clients.eventbridge.send(
    new PutTargetsCommand({
      Rule: `${busName}-nodes`,
      EventBusName: busName,
      Targets: [{ Id: 'nodes', Arn: nodes.arn }],
    }),
  );
  return { objectsUrl: objects.url, objectsArn: objects.arn, nodesUrl: nodes.url, nodesArn: nodes.arn };
}

/**
 * EC2 itself emits state-change events in AWS; moto does not, so local node add/remove put the same event on the
 * local bus (a local bus accepts the aws.ec2 source; in AWS only EC2 can).
 */
export async function publishInstanceState(clients: LocalClients, busName: string, instanceId: string, state: string) {
  // PutEvents answers 200 with per-entry failures: an event it did not take must not pass silently.
  const r = await clients.eventbridge.send(
    new PutEventsCommand({
      Entries: [
        {
          EventBusName: busName,
          Source: 'aws.ec2',
          DetailType: 'EC2 Instance State-change Notification',
          Resources: [`arn:aws:ec2:us-east-1:123456789012:instance/${instanceId}`],
          Detail: JSON.stringify({ 'instance-id': instanceId, state }),
        },
      ],
    }),
  );
  const failed = r.FailedEntryCount ? r.Entries?.find((e) => e.ErrorCode) : undefined;
  if (r.FailedEntryCount)
    throw new Error(
      `EventBridge refused the ${state} event of ${instanceId}: ${failed?.ErrorCode} ${failed?.ErrorMessage ?? ''}`,
    );
}

export function toSqsRecord(m: Message, arn: string): SQSRecord {
  return {
    messageId: m.MessageId ?? '',
    receiptHandle: m.ReceiptHandle ?? '',
    body: m.Body ?? '',
    attributes: {
      ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1',
      SentTimestamp: m.Attributes?.SentTimestamp ?? String(Date.now()),
      SenderId: m.Attributes?.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: m.Attributes?.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      ...(m.Attributes?.MessageGroupId ? { MessageGroupId: m.Attributes.MessageGroupId } : {}),
    },
    messageAttributes: {},
    md5OfBody: m.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: arn,
    awsRegion: 'us-east-1',
  };
}

/**
 * Receives one batch and hands it to `process`; messages it does not report as failed are deleted, failed ones
 * become visible again after the visibility timeout (as Lambda's SQS event source mapping does).
 */
export async function pollOnce(
  clients: AwsClients,
  url: string,
  arn: string,
  process: (records: SQSRecord[]) => Promise<{ batchItemFailures: { itemIdentifier: string }[] } | void>,
  waitSeconds = 1,
): Promise<number> {
  const r = await clients.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: url,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: waitSeconds,
      VisibilityTimeout: 5,
      MessageSystemAttributeNames: ['All'],
    }),
  );
  const msgs = r.Messages ?? [];
  if (msgs.length === 0) return 0;
  const records = msgs.map((m) => toSqsRecord(m, arn));
  const res = await process(records);
  const failed = new Set((res?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
  const done = msgs.filter((m) => !failed.has(m.MessageId ?? ''));
  if (done.length)
    await clients.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
  return msgs.length;
}

export { SendMessageCommand };
