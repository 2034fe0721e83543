/**
 * One Runtime per Lambda container, built lazily from the environment on first use (cold start) and reused by
 * every later invocation of that container. SDK clients are traced by Powertools Tracer.
 */
import { makeClients } from '../aws/clients.js';
import { readControllerEnv } from '../config-env.js';
import { buildRuntime, type Runtime } from '../runtime/runtime.js';
import { controllerLogger, tracer } from './observability.js';

let runtime: Runtime | undefined;

export function containerRuntime(): Runtime {
  if (runtime) return runtime;
  const clients = makeClients();
  for (const c of Object.values(clients)) tracer.captureAWSv3Client(c);
  runtime = buildRuntime(readControllerEnv(), { clients, log: controllerLogger });
  return runtime;
}

/** Tests and the local loop install their own runtime. */
export function setContainerRuntime(rt: Runtime | undefined): void {
  runtime = rt;
}
