/** Data-plane push queue consumer (reserved concurrency 1, batching window): one coalesced push per batch. */
import type { SQSEvent } from 'aws-lambda';
import { containerRuntime } from '../lib/handlers/container.js';
import { handlePushRecords } from '../lib/handlers/dataplane.js';
import { withPowertools } from '../lib/handlers/middleware.js';
import { logger } from '../lib/handlers/observability.js';

export const handler = withPowertools(async (event: SQSEvent) => {
  const result = await handlePushRecords(containerRuntime(), event.Records);
  logger.info('data-plane push', { requests: event.Records.length, ...result });
  return result;
});
