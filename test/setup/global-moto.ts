/**
 * Vitest global setup: one moto server per vitest worker, each on a free loopback port, stopped by PID afterwards.
 * Test files share their worker's server and isolate themselves by unique names (tables, cluster names, VPCs), never
 * by resetting it, because files run in parallel.
 *
 * Why one per worker and not one per run: moto is one Python process (one core at a time), and some of its calls
 * cost in proportion to what it holds (TransactWriteItems deep-copies the table it touches, EC2 describes scan every
 * resource of the account). One server shared by both workers made late, write-heavy files 3-4x slower than alone.
 */
import type { TestProject } from 'vitest/node';
import { MOTO_MISSING_MESSAGE, motoAvailable, startMoto, type MotoServer } from '../../tools/local/moto.js';

/** Must match vitest.config.ts's maxWorkers: worker N (VITEST_POOL_ID) uses server N. */
export const MOTO_SERVERS = 2;

let servers: MotoServer[] = [];

export async function setup(project: TestProject): Promise<void> {
  if (!motoAvailable()) throw new Error(MOTO_MISSING_MESSAGE);
  servers = await Promise.all(Array.from({ length: MOTO_SERVERS }, () => startMoto()));
  project.provide(
    'motoServers',
    servers.map((m) => ({ endpoint: m.endpoint, pid: m.pid })),
  );
}

export async function teardown(): Promise<void> {
  await Promise.all(servers.map((m) => m.stop()));
}

declare module 'vitest' {
  export interface ProvidedContext {
    motoServers: { endpoint: string; pid: number }[];
  }
}
