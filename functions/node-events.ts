/** EC2 state changes, Spot interruption warnings, Auto Scaling termination lifecycle actions. */
import { containerRuntime } from '../lib/handlers/container.js';
import { handleNodeEvent, type NodeEvent } from '../lib/handlers/node-events.js';
import { withPowertools } from '../lib/handlers/middleware.js';
import { classifyFailure, logger } from '../lib/handlers/observability.js';

export const handler = withPowertools(async (event: NodeEvent) => {
  const rt = containerRuntime();
  try {
    const action = await handleNodeEvent(
      { controller: rt.controller, autoscaling: rt.clients.autoscaling, drained: rt.drained },
      event,
    );
    logger.info('node event handled', { action });
  } catch (err) {
    if (classifyFailure(err, { detailType: event['detail-type'] }) === 'transient') throw err;
  }
});
