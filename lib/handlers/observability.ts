/**
 * Powertools for AWS Lambda, set up once per container, and the single place where errors map to Lambda behaviour:
 * a PermanentError is logged, counted and acknowledged (retrying the same input cannot help); anything else is
 * transient and rethrown (or reported as a batch item failure) so the event is retried.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { ControllerError } from '../errors.js';
import { DEFAULT_METRICS_NAMESPACE, METRIC, POWERTOOLS_SERVICE_NAME, THROTTLE_ERROR_CODES } from '../contracts.js';
import type { Logger as ControllerLogger } from '../controller/controller.js';

export const logger = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? POWERTOOLS_SERVICE_NAME,
});
export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? DEFAULT_METRICS_NAMESPACE,
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? POWERTOOLS_SERVICE_NAME,
});
export const tracer = new Tracer({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? POWERTOOLS_SERVICE_NAME,
});

/** The controller's logger interface on top of Powertools' structured logger. */
export const controllerLogger: ControllerLogger = {
  info: (m, d) => logger.info(m, d ?? {}),
  warn: (m, d) => logger.warn(m, d ?? {}),
  error: (m, d) => logger.error(m, d ?? {}),
};

/** Metric names the CloudWatch alarms in infra/ watch (lib/contracts.ts). */
export { METRIC };

const THROTTLE_CODES = new Set<string>(THROTTLE_ERROR_CODES);

export type ErrorClass = 'permanent' | 'transient';

/** Classifies, logs and counts one failure. */
export function classifyFailure(err: unknown, context: Record<string, unknown>): ErrorClass {
  const name = (err as { name?: string })?.name ?? '';
  if (THROTTLE_CODES.has(name) || (err instanceof ControllerError && /throttl/i.test(err.message))) {
    metrics.addMetric(METRIC.throttled, MetricUnit.Count, 1);
  }
  if (err instanceof ControllerError && err.permanent) {
    metrics.addMetric(METRIC.permanentErrors, MetricUnit.Count, 1);
    logger.warn('permanent failure: recorded, not retried', { ...context, reason: err.reason, error: err.message });
    return 'permanent';
  }
  metrics.addMetric(METRIC.reconcileErrors, MetricUnit.Count, 1);
  logger.error('transient failure: will be retried', { ...context, error: err as Error });
  return 'transient';
}
