/**
 * The data plane: the SSM Command document the nodes run, the push queue's consumer, and the results of the document's
 * runs.
 *
 *   push queue (standard, 2 s batching window, concurrency <= 2)      --> dataplane-push --SSM Run Command--> nodes
 *   default bus: SSM command invocation status of our document        --> ssm-status
 */
import { Aws, Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import { AWS_EVENTS } from '../../lib/contracts.js';
import type { ResolvedConfig } from './config.js';
import { asyncTarget } from './event-path.js';
import type { ControllerParts, DataplaneDocument } from './parts.js';

/**
 * The document, content from lib/dataplane/ssm-document.ts. An explicit name lets operators find it and the status
 * rule match it. UpdateMethod NewVersion updates the document in place (a new default version) instead of replacing
 * it, which an explicit name would not allow.
 */
export function addDataplaneDocument(
  scope: Construct,
  cfg: ResolvedConfig,
  content: Record<string, unknown>,
): DataplaneDocument & { document: ssm.CfnDocument } {
  const documentName = `ssc-${cfg.clusterName}-dataplane`;
  const document = new ssm.CfnDocument(scope, 'DataplaneDocument', {
    name: documentName,
    documentType: 'Command',
    documentFormat: 'JSON',
    content,
    updateMethod: 'NewVersion',
  });
  const documentArn = `arn:${Aws.PARTITION}:ssm:${Aws.REGION}:${Aws.ACCOUNT_ID}:document/${documentName}`;
  return { document, documentName, documentArn };
}

type DataplaneContext = Pick<ControllerParts, 'config' | 'functions' | 'deliveryDlq' | 'pushQueue' | 'documentName'>;

/** ssm-status on the document's Run Command results; dataplane-push on the push queue. */
export function addDataplanePaths(scope: Construct, c: DataplaneContext): void {
  const { commandInvocationStatus } = AWS_EVENTS;
  new events.Rule(scope, 'SsmStatusRule', {
    description: 'Run Command results of the data-plane document',
    eventPattern: {
      source: [commandInvocationStatus.source],
      detailType: [commandInvocationStatus.detailType],
      detail: { 'document-name': [c.documentName] },
    },
    targets: [asyncTarget(c.functions['ssm-status'], c.deliveryDlq)],
  });
  c.functions['dataplane-push'].addEventSource(
    new SqsEventSource(c.pushQueue, {
      batchSize: 100,
      // Requests arriving within ~2 s are handed to one invocation: one push for a burst of changes.
      maxBatchingWindow: Duration.seconds(2),
      reportBatchItemFailures: true,
      // Without reserved concurrency the poller itself bounds the pushes: 2 is the least SQS event sources allow
      // (maximum concurrency 2-1000), and the push lease (lib/dataplane/push-lease.ts) makes the second wait for
      // the first. With the reservation the function's own limit of 1 applies.
      maxConcurrency: c.config.reserveConcurrency ? undefined : 2,
    }),
  );
}
