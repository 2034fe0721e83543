/**
 * Service/Pod/Endpoints change events: an SQS FIFO batch (deployed wiring, partial batch failures) or one
 * EventBridge event (direct invocation).
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { containerRuntime } from '../lib/handlers/container.js';
import { handleObjectBatch, handleObjectEvent } from '../lib/handlers/object-events.js';
import { withPowertools } from '../lib/handlers/middleware.js';
import { classifyFailure } from '../lib/handlers/observability.js';

export const handler = withPowertools(
  async (event: SQSEvent | Record<string, unknown>): Promise<SQSBatchResponse | void> => {
    const { controller } = containerRuntime();
    if ('Records' in event && Array.isArray(event.Records)) return handleObjectBatch(controller, event.Records);
    try {
      await handleObjectEvent(controller, event);
    } catch (err) {
      if (classifyFailure(err, { source: 'eventbridge' }) === 'transient') throw err;
    }
  },
);
