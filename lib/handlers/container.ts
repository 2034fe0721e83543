/**
 * One Runtime per Lambda container, built lazily from the environment on first use (cold start) and reused by
 * every later invocation of that container. SDK clients are traced by Powertools Tracer.
 */
import { makeClients, type AwsClients } from '../aws/clients.js';
import { readControllerEnv } from '../config-env.js';
import { buildRuntime, type Runtime } from '../runtime/runtime.js';
import { controllerLogger, tracer } from './observability.js';

let runtime: Runtime | undefined;

/** `extra`: clients only this function sends with (the push function's SSM and S3), built on the first call. */
export function containerRuntime(extra?: () => Partial<AwsClients>): Runtime {
  if (runtime) return runtime;
  const clients = { ...makeClients(), ...extra?.() };
  for (const c of Object.values(clients)) if (c) tracer.captureAWSv3Client(c);
  runtime = buildRuntime(readControllerEnv(), { clients, log: controllerLogger });
  return runtime;
}

/** The runtime a test or the local loop installed, if any (a function that needs less builds its own parts). */
export function installedRuntime(): Runtime | undefined {
  return runtime;
}

/** Tests and the local loop install their own runtime. */
export function setContainerRuntime(rt: Runtime | undefined): void {
  runtime = rt;
}
