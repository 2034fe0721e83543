/**
 * Object messages (one per committed write of a Service, Pod, Endpoints, ...; from the table's change log through
 * the events FIFO queue): an SQS FIFO batch with partial batch failures.
 *
 * Where a Service becomes an NLB: lib/lb/index.ts `reconcileService` (build the desired stack -> plan against what
 * AWS holds under the cluster's ownership tag -> apply), called for each message by
 * `Controller.reconcileServiceLoadBalancer` (lib/controller/controller.ts) through lib/handlers/object-events.ts.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { containerRuntime } from '../lib/handlers/container.js';
import { handleObjectBatch } from '../lib/handlers/object-events.js';
import { withPowertools } from '../lib/handlers/middleware.js';

export const handler = withPowertools(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
  handleObjectBatch(containerRuntime().controller, event.Records, context),
);
