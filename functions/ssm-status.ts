/** "EC2 Command Invocation Status-change Notification": record each node's applied data-plane version. */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { CommandStatusEvent } from '../lib/dataplane/ssm-driver.js';
import { containerRuntime } from '../lib/handlers/container.js';
import { handleSsmStatus } from '../lib/handlers/dataplane.js';
import { withPowertools } from '../lib/handlers/middleware.js';
import { METRIC, metrics } from '../lib/handlers/observability.js';

export const handler = withPowertools(async (event: CommandStatusEvent) => {
  const node = await handleSsmStatus(containerRuntime(), event);
  if (node && node.lastStatus !== 'Success') metrics.addMetric(METRIC.ssmCommandFailures, MetricUnit.Count, 1);
  return node;
});
