/**
 * The clients of the local mode: the controller's (lib/aws/clients.ts), plus what only the local wiring sends with:
 * EventBridge (the local bus and its node rule), DynamoDB Streams (the stream poller that stands in for the Pipe)
 * and Auto Scaling (the node-event handler's lifecycle completion). Kept out of lib/ so no Lambda bundle loads them.
 */
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { makeAutoScalingClient } from '../../lib/aws/autoscaling-client.js';
import { config, withMiddleware, type ClientOptions } from '../../lib/aws/client-config.js';
import { makeClients, type AwsClients } from '../../lib/aws/clients.js';

export interface LocalClients extends AwsClients {
  eventbridge: EventBridgeClient;
  autoscaling: AutoScalingClient;
}

export function makeLocalClients(opts: ClientOptions = {}): LocalClients {
  return {
    ...makeClients(opts),
    eventbridge: withMiddleware(new EventBridgeClient(config(opts)), opts.middleware),
    autoscaling: makeAutoScalingClient(opts),
  };
}

/** The DynamoDB Streams client, for the local stream poller only (deployed, a Pipe reads the stream). */
export function makeStreamsClient(opts: ClientOptions = {}): DynamoDBStreamsClient {
  return withMiddleware(new DynamoDBStreamsClient(config(opts)), opts.middleware);
}
