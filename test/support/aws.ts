/** Helpers for tests that talk to the shared moto server started by test/setup/global-moto.ts. */
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { makeClients, type AwsClients, type ClientOptions } from '../../lib/aws/clients.js';
import { localAwsEnv } from '../../tools/local/moto.js';

/**
 * This worker's moto server: vitest's global setup starts one per worker (VITEST_POOL_ID 1..N); a benchmark reusing
 * these helpers sets MOTO_ENDPOINT (its pid is then unknown: 0).
 */
export function motoServer(): { endpoint: string; pid: number } {
  if (process.env.MOTO_ENDPOINT) return { endpoint: process.env.MOTO_ENDPOINT, pid: 0 };
  const servers = inject('motoServers');
  const pool = Number(process.env.VITEST_POOL_ID ?? 1);
  return servers[(pool - 1) % servers.length]!;
}

export function motoEndpoint(): string {
  return motoServer().endpoint;
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
