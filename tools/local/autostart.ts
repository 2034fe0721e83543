/**
 * svcctl-only local mode: when no local system runs, the first svcctl command starts one in the background
 * (`svcctl local serve`, detached, its output in $SVCCTL_HOME/local.log): moto plus one process serving the API
 * and running the controller loops. It is ready once it has written the local kubeconfig and recorded its PID in
 * the state file; later commands see that PID alive and go straight to the API. Cheap on purpose: this module loads
 * no AWS SDK, so `svcctl get` against a running system pays nothing for it.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { repoPath } from '../../lib/repo-path.js';
import { localKubeconfigPath, pidAlive, readLocalState, svcctlHome } from './state.js';

/** Start-up creates a VPC, subnets and nodes in a fresh moto (and network namespaces as root): allow for it. */
const READY_TIMEOUT_MS = 180_000;

export const localLogPath = (): string => join(svcctlHome(), 'local.log');

/** The local system's PID when it runs and its kubeconfig exists. */
export function runningSystem(): number | undefined {
  const st = readLocalState();
  return st?.systemPid && pidAlive(st.systemPid) && existsSync(localKubeconfigPath()) ? st.systemPid : undefined;
}

/** The svcctl binary (absolute): what the background system runs and what exec-plugin kubeconfigs name. */
export const svcctlBin = (): string => repoPath('bin/svcctl.mjs');

/** One starter at a time: an exclusive lock file holding the starter's PID (taken over when that PID is gone). */
function takeLock(path: string): boolean {
  try {
    const fd = openSync(path, 'wx');
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch {
    const owner = Number(readFileSync(path, 'utf8') || 0);
    if (!pidAlive(owner)) rmSync(path, { force: true });
    return false;
  }
}

function logTail(): string {
  try {
    return readFileSync(localLogPath(), 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '';
  }
}

async function waitReady(child: { exitCode: number | null } | undefined, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    if (runningSystem()) return;
    if (child && child.exitCode !== null)
      throw new Error(
        `error: the local system exited during start-up (code ${child.exitCode}); its log:\n${logTail()}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `error: the local system did not become ready in ${READY_TIMEOUT_MS / 1000} s; see ${localLogPath()}`,
  );
}

/** Returns once a local system serves the API, starting one in the background when none runs. */
export async function ensureLocalSystem(progress: (m: string) => void): Promise<void> {
  if (runningSystem()) return;
  mkdirSync(svcctlHome(), { recursive: true });
  const lock = join(svcctlHome(), 'start.lock');
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!takeLock(lock)) {
    await new Promise((r) => setTimeout(r, 200)); // another svcctl is starting it
    if (runningSystem()) return;
    if (Date.now() > deadline) throw new Error(`error: timed out waiting for another svcctl to start the local system`);
  }
  try {
    if (runningSystem()) return;
    progress(`starting the local system in the background (moto, the API and the controller; log: ${localLogPath()})`);
    const log = openSync(localLogPath(), 'a');
    const child = spawn(process.execPath, [svcctlBin(), 'local', 'serve'], {
      detached: true,
      stdio: ['ignore', log, log],
      env: process.env,
    });
    child.unref();
    closeSync(log);
    await waitReady(child, deadline);
  } finally {
    rmSync(lock, { force: true });
  }
}
