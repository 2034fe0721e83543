/**
 * The only place the controller's SDK clients are constructed (the Auto Scaling client, which only the node-events
 * function sends with, has its own module, lib/aws/autoscaling-client.ts, so the other bundles do not load it; the
 * clients only user tooling needs live in tools/). Every client:
 * - takes its endpoint from the SDK's standard configuration (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>, the
 *   shared config file), so the same code runs against AWS, moto or LocalStack; nothing here hard-codes a URL;
 * - uses the SDK's adaptive retry mode (client-side rate limiting that backs off on throttling errors);
 * - accepts extra middleware, which tests use to count calls by operation and to inject crashes.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { config, withMiddleware, type ClientOptions } from './client-config.js';
import { makeDynamoDbClient } from './dynamodb-client.js';

export type { ClientMiddleware, ClientOptions } from './client-config.js';

export interface AwsClients {
  ec2: EC2Client;
  elbv2: ElasticLoadBalancingV2Client;
  dynamodb: DynamoDBClient;
  ssm: SSMClient;
  s3: S3Client;
  sqs: SQSClient;
}

export function makeClients(opts: ClientOptions = {}): AwsClients {
  const c = config(opts);
  // S3 against moto/LocalStack needs path-style addressing (no bucket subdomains on 127.0.0.1); it is harmless on AWS.
  const s3PathStyle = Boolean(process.env.AWS_ENDPOINT_URL || process.env.AWS_ENDPOINT_URL_S3);
  return {
    ec2: withMiddleware(new EC2Client(c), opts.middleware),
    elbv2: withMiddleware(new ElasticLoadBalancingV2Client(c), opts.middleware),
    dynamodb: makeDynamoDbClient(opts),
    ssm: withMiddleware(new SSMClient(c), opts.middleware),
    s3: withMiddleware(new S3Client({ ...c, forcePathStyle: s3PathStyle }), opts.middleware),
    sqs: withMiddleware(new SQSClient(c), opts.middleware),
  };
}
