/**
 * Vitest global setup: one moto server for the whole run on a free loopback port, stopped by PID afterwards.
 * Test files share it and isolate themselves by unique names (tables, cluster names, VPCs), never by resetting it,
 * because files run in parallel.
 */
import type { TestProject } from 'vitest/node';
import { localAwsEnv, MOTO_MISSING_MESSAGE, motoAvailable, startMoto, type MotoServer } from '../../lib/local/moto.js';

let moto: MotoServer | undefined;

export async function setup(project: TestProject): Promise<void> {
  if (!motoAvailable()) throw new Error(MOTO_MISSING_MESSAGE);
  moto = await startMoto();
  project.provide('motoEndpoint', moto.endpoint);
  project.provide('motoPid', moto.pid);
  // Workers inherit the environment, so every SDK client in every test file talks to this moto server.
  Object.assign(process.env, localAwsEnv(moto.endpoint));
}

export async function teardown(): Promise<void> {
  await moto?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    motoEndpoint: string;
    motoPid: number;
  }
}
