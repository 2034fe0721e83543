/**
 * The local system's bookkeeping: which moto server svcctl / `npm start` started, which process serves the API and
 * runs the controller loops, and the names of what was created in the local AWS. Kept in a small JSON file so
 * separate svcctl invocations reuse one system while it runs.
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
  /** True when svcctl / `npm start` started this moto server (then `svcctl local stop` stops it too). */
  ownsMoto?: boolean;
  /**
   * The process that serves the API and runs the controller loops: `npm start` in the foreground, or the background
   * process the first svcctl command started. Set once its API answers and the local kubeconfig is written.
   */
  systemPid?: number;
  systemMode?: 'foreground' | 'background';
  apiUrl?: string;
  /** Filled in by the local AWS bootstrap (tools/local/cluster-aws.ts). */
  vpcId?: string;
  subnetIds?: string[];
  nodeSecurityGroupId?: string;
}

export function svcctlHome(): string {
  return process.env.SVCCTL_HOME || join(homedir(), '.svcctl');
}

/** The kubeconfig of the local API (per-run token and certificate), written by the process that serves it. */
export function localKubeconfigPath(): string {
  return join(svcctlHome(), 'kubeconfig');
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
    const res = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(3000) });
    return res.status < 500;
  } catch {
    return false;
  }
}

/**
 * A recorded moto whose process is alive is busy, not gone, when it is slow to answer (a loaded machine, a large
 * reset): keep asking for a while rather than start a second moto and leave the first one's state behind.
 */
async function stillServing(st: LocalState): Promise<boolean> {
  const deadline = Date.now() + 20_000;
  while (pidAlive(st.motoPid)) {
    if (await answers(st.endpoint)) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

/** Returns the running local AWS, starting a detached moto server (which outlives this process) when none runs. */
export async function ensureLocalMoto(
  progress: (msg: string) => void = () => {},
): Promise<{ state: LocalState; started: boolean }> {
  const prev = readLocalState();
  if (prev && (await stillServing(prev))) return { state: prev, started: false };
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
    ownsMoto: true,
  };
  writeLocalState(state);
  return { state, started: true };
}
