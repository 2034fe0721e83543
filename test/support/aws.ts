/** Helpers for tests that talk to the shared moto server started by test/setup/global-moto.ts. */
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { makeClients, type AwsClients, type ClientOptions } from '../../lib/aws/clients.js';
import { localAwsEnv } from '../../lib/local/moto.js';

export function motoEndpoint(): string {
  return inject('motoEndpoint');
}

/** SDK clients pointed at the shared moto server (through the standard AWS_ENDPOINT_URL variable). */
export function motoClients(opts: ClientOptions = {}): AwsClients {
  Object.assign(process.env, localAwsEnv(motoEndpoint()));
  return makeClients({ maxAttempts: 3, ...opts });
}

/** A short random suffix so parallel test files never share a resource name. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}
