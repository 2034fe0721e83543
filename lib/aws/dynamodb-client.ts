/**
 * The DynamoDB client alone, for code that needs nothing else: the API function's request path, which must not load
 * the other clients (the EC2 client alone takes ~0.75 s to import here). Same settings as every client
 * (./client-config.ts); lib/aws/clients.ts builds its DynamoDB client here too.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { config, withMiddleware, type ClientOptions } from './client-config.js';

export function makeDynamoDbClient(opts: ClientOptions = {}): DynamoDBClient {
  return withMiddleware(new DynamoDBClient(config(opts)), opts.middleware);
}
