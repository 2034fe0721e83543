/** "EC2 Command Invocation Status-change Notification": record each node's applied data-plane version. */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { makeDynamoDbClient } from '../lib/aws/dynamodb-client.js';
import { makeSqsClient } from '../lib/aws/sqs-client.js';
import { readControllerEnv } from '../lib/config-env.js';
import type { CommandStatusEvent } from '../lib/dataplane/command-status.js';
import { RecordStoreDataPlaneStateStore } from '../lib/dataplane/state-store.js';
import { installedRuntime } from '../lib/handlers/container.js';
import { handleSsmStatus, type SsmStatusDeps } from '../lib/handlers/ssm-status.js';
import { withPowertools } from '../lib/handlers/middleware.js';
import { logger, METRIC, metrics, tracer } from '../lib/handlers/observability.js';
import { SqsPusher } from '../lib/runtime/sqs-pusher.js';
import { DynamoStore } from '../lib/store/store.js';

/**
 * Only what this function uses (the state store and the push queue), built once per container; a runtime installed
 * by a test or the local loop has the same members and is used instead.
 */
let deps: SsmStatusDeps | undefined;
function statusDeps(): SsmStatusDeps {
  const installed = installedRuntime();
  if (installed) return installed;
  if (deps) return deps;
  const env = readControllerEnv();
  const store = new DynamoStore(tracer.captureAWSv3Client(makeDynamoDbClient()), env.tableName);
  const sqs = tracer.captureAWSv3Client(makeSqsClient());
  const clusterName = env.cluster.clusterName;
  deps = {
    dataPlaneStore: new RecordStoreDataPlaneStateStore(store, clusterName),
    pusher: new SqsPusher({ sqs, sequences: store, clusterName, queueUrl: env.pushQueueUrl }),
  };
  return deps;
}

export const handler = withPowertools(async (event: CommandStatusEvent) => {
  const out = await handleSsmStatus(statusDeps(), event);
  if (out.node && out.node.lastStatus !== 'Success') metrics.addMetric(METRIC.ssmCommandFailures, MetricUnit.Count, 1);
  if (out.gaveUp) {
    // Reported, and no longer retried until something changes for it (alarm DataPlaneNodeFailing in infra/).
    metrics.addMetric(METRIC.dataPlaneNodeFailing, MetricUnit.Count, 1);
    logger.error('data-plane node keeps failing: retries stopped', { node: out.node });
  }
  return out;
});
