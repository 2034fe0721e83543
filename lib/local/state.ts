/**
 * The local embedded control plane's bookkeeping: which moto server svcctl / `npm start` started, and the names of
 * what was created in it. Kept in a small JSON file so separate svcctl invocations reuse one server and its state
 * survives between calls while the server runs.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync, openSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { startMoto } from './moto.js';

export interface LocalState {
  endpoint: string;
  port: number;
  motoPid: number;
  region: string;
  clusterName: string;
  tableName: string;
  busName: string;
  /** PID of the `npm start` controller loop, when one runs (svcctl then publishes instead of reconciling inline). */
  controllerPid?: number;
  /** Filled in by the local AWS bootstrap (lib/local/cluster-aws.ts). */
  vpcId?: string;
  subnetIds?: string[];
  nodeSecurityGroupId?: string;
  queueUrl?: string;
}

export function svcctlHome(): string {
  return process.env.SVCCTL_HOME || join(homedir(), '.svcctl');
}

function statePath(): string {
  return join(svcctlHome(), 'local.json');
}

export function readLocalState(): LocalState | undefined {
  try {
    return JSON.parse(readFileSync(statePath(), 'utf8')) as LocalState;
  } catch {
    return undefined;
  }
}

export function writeLocalState(s: LocalState): void {
  mkdirSync(svcctlHome(), { recursive: true });
  const tmp = statePath() + '.tmp';
  writeFileSync(tmp, JSON.stringify(s, null, 2) + '\n');
  renameSync(tmp, statePath()); // atomic replace: a concurrent reader sees the old or the new file, never half
}

export function clearLocalState(): void {
  rmSync(statePath(), { force: true });
}

export function pidAlive(pid: number | undefined): boolean {
  if (!pid || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function answers(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1500) });
    return res.status < 500;
  } catch {
    return false;
  }
}

/** Returns the running local AWS, starting a detached moto server (which outlives this process) when none runs. */
export async function ensureLocalMoto(
  progress: (msg: string) => void = () => {},
): Promise<{ state: LocalState; started: boolean }> {
  const prev = readLocalState();
  if (prev && pidAlive(prev.motoPid) && (await answers(prev.endpoint))) return { state: prev, started: false };
  progress('starting the local AWS (moto server) on loopback');
  mkdirSync(svcctlHome(), { recursive: true });
  const log = openSync(join(svcctlHome(), 'moto.log'), 'a');
  const moto = await startMoto({ detached: true, logFile: log });
  moto.process.unref();
  const state: LocalState = {
    endpoint: moto.endpoint,
    port: moto.port,
    motoPid: moto.pid,
    region: process.env.AWS_REGION || 'us-east-1',
    clusterName: process.env.CLUSTER_NAME || 'local',
    tableName: 'svcctl-local',
    busName: 'svcctl-local',
  };
  writeLocalState(state);
  return { state, started: true };
}
