/** Scheduled resync (EventBridge Scheduler) and CloudTrail drift events: converge everything, sweep orphans. */
import { containerRuntime } from '../lib/handlers/container.js';
import { withPowertools } from '../lib/handlers/middleware.js';
import { logger } from '../lib/handlers/observability.js';

export const handler = withPowertools(async (event: { 'detail-type'?: string } | undefined) => {
  const { controller } = containerRuntime();
  const result = await controller.resync();
  logger.info('resync done', { trigger: event?.['detail-type'] ?? 'schedule', ...result });
  // Requeued Services are picked up by the next scheduled pass; failing here would only re-run the whole pass.
  return result;
});
