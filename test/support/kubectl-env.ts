/**
 * The real kubectl (the one on PATH) with a kubeconfig someone else wrote (`npm start`, `svcctl kubeconfig`), its own
 * HOME and cache directory so discovery caches never leak between test files.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface KubectlRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function kubectlWith(kubeconfig: string, extraEnv: NodeJS.ProcessEnv = {}) {
  const home = mkdtempSync(join(tmpdir(), 'kubectl-home-'));
  const env: NodeJS.ProcessEnv = {
    ...extraEnv,
    PATH: process.env.PATH,
    HOME: home,
    KUBECONFIG: kubeconfig,
    KUBECACHEDIR: join(home, 'cache'),
  };
  return {
    env,
    run: (args: string[], input = ''): Promise<KubectlRun> =>
      new Promise((resolve) => {
        const child = spawn('kubectl', args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
        child.stdin.end(input);
      }),
    /** A long-running kubectl (e.g. `get -w`): what it printed so far, and a way to stop it. */
    spawn: (args: string[]) => {
      const child = spawn('kubectl', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
      return {
        output: () => out,
        stop: async () => {
          child.kill('SIGTERM');
          await closed;
        },
      };
    },
  };
}
