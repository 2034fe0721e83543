/**
 * The resources of one ServiceController that its concerns hand each other. Every concern module (storage.ts,
 * event-path.ts, functions.ts, api.ts, node-lifecycle.ts, resync.ts, dataplane.ts, operations.ts) adds its
 * resources to the controller construct itself, never to a nested construct: logical IDs derive from the construct
 * path, and a changed path would make CloudFormation replace the resource (the table's data would be lost).
 */
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { HANDLERS, type CoreHandlerName, type HandlerName } from './bundling.js';
import type { ResolvedConfig } from './config.js';

export interface Storage {
  readonly table: dynamodb.Table;
  readonly accessLogBucket: s3.Bucket;
  readonly artifactBucket: s3.Bucket;
}

export interface Queues {
  /** Standard DLQ for everything EventBridge, Scheduler and async Lambda invocations could not deliver. */
  readonly deliveryDlq: sqs.Queue;
  /** Stream records the change-log Pipe could not deliver to the events queue (standard: a stream source's DLQ). */
  readonly changeLogDlq: sqs.Queue;
  readonly eventsQueue: sqs.Queue;
  readonly eventsDlq: sqs.Queue;
  readonly pushQueue: sqs.Queue;
  readonly pushDlq: sqs.Queue;
}

export interface DataplaneDocument {
  readonly documentName: string;
  readonly documentArn: string;
}

/** One entry per deployed handler: the core ones always, the cluster watcher only in cluster mode. */
export type HandlerMap<T> = Record<CoreHandlerName, T> & { readonly 'cluster-watcher'?: T };

export interface Handlers {
  readonly functions: HandlerMap<NodejsFunction>;
  readonly roles: HandlerMap<iam.Role>;
}

/** The deployed handlers' entries of a HandlerMap, in HANDLERS order. */
export function deployedEntries<T>(map: HandlerMap<T>): [HandlerName, T][] {
  return HANDLERS.flatMap((n): [HandlerName, T][] => {
    const v = map[n];
    return v === undefined ? [] : [[n, v]];
  });
}

/** Everything a concern may read once the earlier concerns have run. */
export interface ControllerParts extends Storage, Queues, DataplaneDocument, Handlers {
  readonly config: ResolvedConfig;
  readonly bus: events.EventBus;
  readonly powertoolsServiceName: string;
}
