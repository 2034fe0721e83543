/**
 * Object messages (one per committed write of a Service, Pod, Endpoints, ...; from the table's change log through
 * the events FIFO queue): an SQS FIFO batch with partial batch failures.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { containerRuntime } from '../lib/handlers/container.js';
import { handleObjectBatch } from '../lib/handlers/object-events.js';
import { withPowertools } from '../lib/handlers/middleware.js';

export const handler = withPowertools(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
  handleObjectBatch(containerRuntime().controller, event.Records, context),
);
