/**
 * The controller's SDK clients. A client only some functions send with has a module of its own, so the other
 * bundles never load its SDK: SQS and DynamoDB alone (./sqs-client.ts, ./dynamodb-client.ts: the ssm-status and API
 * functions), SSM and S3 (./dataplane-clients.ts: the push function), Auto Scaling (./autoscaling-client.ts:
 * node-events); the clients only user tooling needs live in tools/. Every client, built here or there:
 * - takes its endpoint from the SDK's standard configuration (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>, the
 *   shared config file), so the same code runs against AWS, moto or LocalStack; nothing here hard-codes a URL;
 * - uses the SDK's adaptive retry mode (client-side rate limiting that backs off on throttling errors);
 * - accepts extra middleware, which tests use to count calls by operation and to inject crashes.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { config, withMiddleware, type ClientOptions } from './client-config.js';
import { makeDynamoDbClient } from './dynamodb-client.js';
import { makeSqsClient } from './sqs-client.js';

export type { ClientMiddleware, ClientOptions } from './client-config.js';

export interface AwsClients {
  ec2: EC2Client;
  elbv2: ElasticLoadBalancingV2Client;
  dynamodb: DynamoDBClient;
  sqs: SQSClient;
  /** The data-plane push's clients: only where makeDataPlaneClients (lib/aws/dataplane-clients.ts) added them. */
  ssm?: SSMClient;
  s3?: S3Client;
}

export function makeClients(opts: ClientOptions = {}): AwsClients {
  const c = config(opts);
  return {
    ec2: withMiddleware(new EC2Client(c), opts.middleware),
    elbv2: withMiddleware(new ElasticLoadBalancingV2Client(c), opts.middleware),
    dynamodb: makeDynamoDbClient(opts),
    sqs: makeSqsClient(opts),
  };
}
