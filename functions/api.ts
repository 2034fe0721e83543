/**
 * The Kubernetes API on a Lambda Function URL with response streaming (watches stream their events). Module init
 * builds the handler once per container: the store's DynamoDB client and the REST layer, nothing the request path
 * does not use (no EC2 client, no @kubernetes/client-node values; scripts/bundle-size.ts --time measures this init).
 * Powertools' Logger is loaded on the first refused token only: that is the one thing this function logs.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { createFunctionUrlHandler } from '../lib/apiserver/http/lambda.js';
import { apiConfigFromEnv, deployedApiHandler } from '../lib/serving/deployed-api.js';

let logger: Promise<Logger> | undefined;

function refused(detail: string): void {
  logger ??= import('@aws-lambda-powertools/logger').then(
    (m) => new m.Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'serverless-service-controller' }),
  );
  void logger.then((l) => l.warn('token refused', { detail }));
}

export const handler = createFunctionUrlHandler(deployedApiHandler(apiConfigFromEnv(), { onRefused: refused }));
