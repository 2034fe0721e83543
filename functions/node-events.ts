/** EC2 state changes, Spot interruption warnings, Auto Scaling termination lifecycle actions. */
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { makeAutoScalingClient } from '../lib/aws/autoscaling-client.js';
import { containerRuntime } from '../lib/handlers/container.js';
import { handleNodeEvent, type NodeEvent } from '../lib/handlers/node-events.js';
import { withPowertools } from '../lib/handlers/middleware.js';
import { classifyFailure, logger, tracer } from '../lib/handlers/observability.js';

/** Built on first use, like the container's runtime; only this function sends with it. */
let autoscaling: AutoScalingClient | undefined;

export const handler = withPowertools(async (event: NodeEvent) => {
  const rt = containerRuntime();
  autoscaling ??= tracer.captureAWSv3Client(makeAutoScalingClient());
  try {
    const action = await handleNodeEvent({ controller: rt.controller, autoscaling, drained: rt.drained }, event);
    logger.info('node event handled', { action });
  } catch (err) {
    if (classifyFailure(err, { detailType: event['detail-type'] }) === 'transient') throw err;
  }
});
