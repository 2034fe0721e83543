/**
 * The clients of the data-plane push (SSM Run Command, the artifact bucket): only the push function, the local mode
 * and tests create them, so the other function bundles never load the SSM and S3 SDKs.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SSMClient } from '@aws-sdk/client-ssm';
import { config, withMiddleware, type ClientOptions } from './client-config.js';

export interface DataPlaneClients {
  ssm: SSMClient;
  s3: S3Client;
}

export function makeDataPlaneClients(opts: ClientOptions = {}): DataPlaneClients {
  // S3 against moto/LocalStack needs path-style addressing (no bucket subdomains on 127.0.0.1); harmless on AWS.
  const forcePathStyle = Boolean(process.env.AWS_ENDPOINT_URL || process.env.AWS_ENDPOINT_URL_S3);
  return {
    ssm: withMiddleware(new SSMClient(config(opts)), opts.middleware),
    s3: withMiddleware(new S3Client({ ...config(opts), forcePathStyle }), opts.middleware),
  };
}
