/** "EC2 Command Invocation Status-change Notification": record each node's applied data-plane version. */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { CommandStatusEvent } from '../lib/dataplane/ssm-driver.js';
import { containerRuntime } from '../lib/handlers/container.js';
import { handleSsmStatus } from '../lib/handlers/dataplane.js';
import { withPowertools } from '../lib/handlers/middleware.js';
import { logger, METRIC, metrics } from '../lib/handlers/observability.js';

export const handler = withPowertools(async (event: CommandStatusEvent) => {
  const out = await handleSsmStatus(containerRuntime(), event);
  if (out.node && out.node.lastStatus !== 'Success') metrics.addMetric(METRIC.ssmCommandFailures, MetricUnit.Count, 1);
  if (out.gaveUp) {
    // Reported, and no longer retried until something changes for it (alarm DataPlaneNodeFailing in infra/).
    metrics.addMetric(METRIC.dataPlaneNodeFailing, MetricUnit.Count, 1);
    logger.error('data-plane node keeps failing: retries stopped', { node: out.node });
  }
  return out;
});
