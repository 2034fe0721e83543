/**
 * Runs the real svcctl binary (bin/svcctl.mjs) with an isolated SVCCTL_HOME whose local state points at the test
 * run's shared moto server (unique cluster, table and bus names). The first command starts the local system in the
 * background, as for a user; it runs the control plane only (SVCCTL_CONTROL_PLANE_ONLY=1: no network namespaces per
 * test file) and is stopped by `stop()` (`svcctl local stop`, which leaves the shared moto alone: this state does not
 * say svcctl started it). It also exits on its own when the run's moto server goes.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { localAwsEnv } from '../../tools/local/moto.js';
import type { LocalState } from '../../tools/local/state.js';
import { motoServer, uniqueName } from './aws.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliEnv {
  home: string;
  state: LocalState;
  env: NodeJS.ProcessEnv;
  /** The local API's kubeconfig (written by the local system once it runs). */
  kubeconfig: string;
  run(args: string[], input?: string): Promise<CliResult>;
  /** `svcctl local stop` (the background system this home started), then the home goes. */
  stop(): Promise<void>;
}

export const SVCCTL_BIN = resolve('bin/svcctl.mjs');

export function runBinary(env: NodeJS.ProcessEnv, args: string[], input?: string): Promise<CliResult> {
  return new Promise((res) => {
    const child = spawn(process.execPath, [SVCCTL_BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => res({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

/** A local-mode svcctl home whose state points at the test run's moto server, with unique names. */
export function cliEnv(): CliEnv {
  const home = mkdtempSync(join(tmpdir(), 'svcctl-test-'));
  mkdirSync(home, { recursive: true });
  const { endpoint, pid: motoPid } = motoServer();
  const name = uniqueName('cli');
  const state: LocalState = {
    endpoint,
    port: Number(new URL(endpoint).port),
    motoPid,
    region: 'us-east-1',
    clusterName: name,
    tableName: name,
    busName: name,
  };
  writeFileSync(join(home, 'local.json'), JSON.stringify(state));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...localAwsEnv(endpoint),
    SVCCTL_HOME: home,
    SVCCTL_LOCAL_NODES: '3',
    SVCCTL_CONTROL_PLANE_ONLY: '1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  delete env.KUBECONFIG;
  return {
    home,
    state,
    env,
    kubeconfig: join(home, 'kubeconfig'),
    run: (args, input) => runBinary(env, args, input),
    stop: async () => {
      await runBinary(env, ['local', 'stop']);
      rmSync(home, { recursive: true, force: true });
    },
  };
}

export function writeManifest(dir: string, name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}
