/** Runs the real svcctl binary (bin/svcctl.mjs) against the shared moto server, with an isolated SVCCTL_HOME. */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { inject } from 'vitest';
import { localAwsEnv } from '../../lib/local/moto.js';
import type { LocalState } from '../../lib/local/state.js';
import { uniqueName } from './aws.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliEnv {
  home: string;
  state: LocalState;
  env: NodeJS.ProcessEnv;
  run(args: string[], input?: string): Promise<CliResult>;
}

const BIN = resolve('bin/svcctl.mjs');

/** A local-mode svcctl home whose state points at the test run's moto server, with unique names. */
export function cliEnv(): CliEnv {
  const home = mkdtempSync(join(tmpdir(), 'svcctl-test-'));
  mkdirSync(home, { recursive: true });
  const endpoint = inject('motoEndpoint');
  const name = uniqueName('cli');
  const state: LocalState = {
    endpoint,
    port: Number(new URL(endpoint).port),
    motoPid: inject('motoPid'),
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
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  delete env.SVCCTL_TABLE;
  delete env.SVCCTL_EVENT_BUS;
  return {
    home,
    state,
    env,
    run: (args, input) =>
      new Promise((res) => {
        const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('close', (code) => res({ code: code ?? -1, stdout, stderr }));
        child.stdin.end(input ?? '');
      }),
  };
}

export function writeManifest(dir: string, name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}
