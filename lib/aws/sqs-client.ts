/** The SQS client alone (the ssm-status function needs it and DynamoDB, nothing else). Same settings as every client. */
import { SQSClient } from '@aws-sdk/client-sqs';
import { config, withMiddleware, type ClientOptions } from './client-config.js';

export function makeSqsClient(opts: ClientOptions = {}): SQSClient {
  return withMiddleware(new SQSClient(config(opts)), opts.middleware);
}
