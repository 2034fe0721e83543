/**
 * Runs the real kubectl (the one on PATH) against an API server, with its own temporary HOME, KUBECONFIG and cache
 * directory, so discovery and OpenAPI caches never leak between test files.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubeconfigYaml } from '../../tools/local/api-server.js';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Kubectl {
  dir: string;
  kubeconfig: string;
  env: NodeJS.ProcessEnv;
  run(args: string[], opts?: { input?: string; env?: NodeJS.ProcessEnv }): Promise<KubectlResult>;
  /** Starts a long-running kubectl (e.g. `get -w`); stdout accumulates in `output()`. */
  spawn(args: string[]): { output(): string; stderr(): string; stop(): Promise<void> };
}

export function kubectlFor(server: string, token: string, caCert: string): Kubectl {
  const dir = mkdtempSync(join(tmpdir(), 'kubectl-'));
  const kubeconfig = join(dir, 'config');
  writeFileSync(kubeconfig, kubeconfigYaml({ server, token, caCert }));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    KUBECONFIG: kubeconfig,
    KUBECACHEDIR: join(dir, 'cache'),
  };
  return {
    dir,
    kubeconfig,
    env,
    run: (args, opts = {}) =>
      new Promise((resolve) => {
        const child = spawn('kubectl', args, { env: { ...env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
        child.stdin.end(opts.input ?? '');
      }),
    spawn: (args) => {
      const child = spawn('kubectl', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
      return {
        output: () => out,
        stderr: () => err,
        stop: async () => {
          child.kill('SIGTERM');
          await closed;
        },
      };
    },
  };
}
